"""A small DER re-encoder for tests: parse a certificate built with cryptography into a tree, bend one encoding
rule the way real CAs have (SET order, '&' in a PrintableString, padded serials, odd times, ...), and re-sign the
TBSCertificate with the issuer's key so the signature still verifies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, padding, rsa

SIGNING_KEY = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | dsa.DSAPrivateKey


@dataclass
class Node:
    tag: int
    body: bytes = b""
    kids: list[Node] = field(default_factory=list)
    constructed: bool = False
    long_length: bool = False  # write the length in a non-minimal long form (BER, not DER)

    def encode(self) -> bytes:
        body = b"".join(k.encode() for k in self.kids) if self.constructed else self.body
        return bytes([self.tag]) + _length(len(body), self.long_length) + body


def _length(size: int, long_form: bool) -> bytes:
    if size < 0x80 and not long_form:
        return bytes([size])
    raw = size.to_bytes(max(2 if long_form else 1, (size.bit_length() + 7) // 8), "big")
    return bytes([0x80 | len(raw)]) + raw


def parse(data: bytes) -> Node:
    node, end = _parse(data, 0)
    assert end == len(data)
    return node


def _parse(data: bytes, pos: int) -> tuple[Node, int]:
    tag = data[pos]
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        size = first
    else:
        count = first & 0x7F
        size = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    end = pos + size
    if tag & 0x20:
        kids = []
        while pos < end:
            kid, pos = _parse(data, pos)
            kids.append(kid)
        return Node(tag, kids=kids, constructed=True), end
    return Node(tag, body=data[pos:end]), end


def oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


class Tbs:
    """Named access to a TBSCertificate's fields (version present)."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.offset = 1 if node.kids[0].tag == 0xA0 else 0

    def _field(self, index: int) -> Node:
        return self.node.kids[self.offset + index]

    serial = property(lambda self: self._field(0))
    signature = property(lambda self: self._field(1))
    issuer = property(lambda self: self._field(2))
    validity = property(lambda self: self._field(3))
    subject = property(lambda self: self._field(4))
    spki = property(lambda self: self._field(5))

    @property
    def extensions(self) -> list[Node]:
        last = self.node.kids[-1]
        return last.kids[0].kids if last.tag == 0xA3 else []

    def extension(self, dotted: str) -> Node:
        wanted = oid(dotted)
        return next(e for e in self.extensions if e.kids[0].body == wanted)


def _sign(key: SIGNING_KEY, data: bytes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    if isinstance(key, dsa.DSAPrivateKey):
        return key.sign(data, hashes.SHA256())
    return key.sign(data)


def rewrite(der: bytes, signer: SIGNING_KEY, *changes: Callable[[Tbs], None]) -> bytes:
    """The certificate with each change applied to its TBSCertificate, signed again by ``signer``."""
    cert = parse(der)
    tbs = Tbs(cert.kids[0])
    for change in changes:
        change(tbs)
    tbs_der = tbs.node.encode()
    body = tbs_der + cert.kids[1].encode() + Node(0x03, body=b"\x00" + _sign(signer, tbs_der)).encode()
    return bytes([0x30]) + _length(len(body), False) + body


def tbs_of(der: bytes) -> Node:
    return parse(der).kids[0]
