"""Just enough DER to walk a certificate's names and serial number byte for byte.

``cryptography`` parses certificates, but it re-encodes names and turns the serial number into an integer;
Windows renders the bytes as they were encoded (string types, attribute order, leading zero octets), so the
few structures that decide what Windows prints are read here from the raw TBSCertificate.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple


class DerError(ValueError):
    """The bytes are not the DER structure expected."""


class Tlv(NamedTuple):
    tag: int  # the identifier octet(s) as one integer, e.g. 0x30 for SEQUENCE, 0xA0 for [0]
    start: int  # first octet of the identifier
    content: int  # first octet of the contents
    end: int  # one past the last octet of the contents

    def body(self, data: bytes) -> bytes:
        return data[self.content:self.end]

    def whole(self, data: bytes) -> bytes:
        return data[self.start:self.end]


def read_tlv(data: bytes, pos: int, limit: int | None = None) -> Tlv:
    limit = len(data) if limit is None else limit
    start = pos
    if pos >= limit:
        raise DerError("unexpected end of data")
    tag = data[pos]
    pos += 1
    if tag & 0x1F == 0x1F:  # high tag number form
        while True:
            if pos >= limit:
                raise DerError("unexpected end of data in a tag")
            octet = data[pos]
            tag = (tag << 8) | octet
            pos += 1
            if not octet & 0x80:
                break
            if pos - start > 6:
                raise DerError("tag too long")
    if pos >= limit:
        raise DerError("unexpected end of data before a length")
    first = data[pos]
    pos += 1
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise DerError("indefinite length is not DER")
    else:
        count = first & 0x7F
        if count > 4 or pos + count > limit:
            raise DerError("length out of range")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    if pos + length > limit:
        raise DerError("content runs past the end of its container")
    return Tlv(tag, start, pos, pos + length)


def children(data: bytes, parent: Tlv) -> Iterator[Tlv]:
    pos = parent.content
    while pos < parent.end:
        child = read_tlv(data, pos, parent.end)
        yield child
        pos = child.end


def oid_text(content: bytes) -> str:
    if not content or content[-1] & 0x80:
        raise DerError("malformed OBJECT IDENTIFIER")
    arcs: list[int] = []
    value = 0
    if len(content) > 1024:
        raise DerError("an OBJECT IDENTIFIER over 1024 octets")
    for octet in content:
        value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(arc) for arc in head + arcs[1:])


class TbsFields(NamedTuple):
    serial: bytes  # INTEGER content octets, as encoded
    issuer: bytes  # the whole Name TLV
    subject: bytes


def tbs_fields(tbs: bytes) -> TbsFields:
    """Serial number, issuer and subject from a TBSCertificate, exactly as encoded."""
    outer = read_tlv(tbs, 0)
    if outer.tag != 0x30:
        raise DerError("TBSCertificate is not a SEQUENCE")
    items = list(children(tbs, outer))
    if items and items[0].tag == 0xA0:  # [0] version
        items = items[1:]
    if len(items) < 5 or items[0].tag != 0x02 or items[2].tag != 0x30 or items[4].tag != 0x30:
        raise DerError("TBSCertificate has an unexpected shape")
    return TbsFields(items[0].body(tbs), items[2].whole(tbs), items[4].whole(tbs))


def salted_iteration_counts(data: bytes, *, max_nodes: int = 100_000, max_depth: int = 32) -> list[int]:
    """Every iteration count in a PKCS#12 file, found without deriving a key: the INTEGER that follows a salt
    (OCTET STRING) in a SEQUENCE, which is the shape of MacData, pkcs-12PbeParams and PBKDF2-params. OCTET STRINGs
    that hold DER (the AuthenticatedSafe and its SafeContents) are walked too; encrypted contents are not, but
    their algorithm parameters sit outside them. Bounded in nodes and depth; DerError when the bytes are not DER.
    """
    counts: list[int] = []
    visited = 0

    def walk(buffer: bytes, start: int, end: int, depth: int) -> None:
        nonlocal visited
        if depth > max_depth:
            raise DerError("nested too deeply")
        pos = start
        previous = 0
        while pos < end:
            node = read_tlv(buffer, pos, end)
            visited += 1
            if visited > max_nodes:
                raise DerError("too many elements")
            if node.tag == 0x02 and previous == 0x04:
                counts.append(int.from_bytes(node.body(buffer)[:9], "big") if node.end - node.content <= 8
                              else 1 << 64)  # more than 8 octets: larger than any count worth deriving
            elif node.tag & 0x20:
                walk(buffer, node.content, node.end, depth + 1)
            elif node.tag == 0x04 and node.end - node.content > 2 and buffer[node.content] == 0x30:
                inner = node.body(buffer)
                try:
                    if read_tlv(inner, 0).end == len(inner):
                        walk(inner, 0, len(inner), depth + 1)
                except DerError:
                    pass  # an octet string that merely starts like DER (a salt, a digest)
            previous = node.tag
            pos = node.end

    walk(data, 0, len(data), 0)
    return counts
