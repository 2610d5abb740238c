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
