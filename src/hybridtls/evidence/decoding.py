"""Bytes to text: the encodings Windows PowerShell and its admins actually produce.

Windows PowerShell's ``>`` and ``Out-File`` write UTF-16 LE with a BOM; PowerShell 7 writes UTF-8 without one;
``Export-Csv`` in 5.1 writes ASCII; text pasted through old editors ends up in Windows-1252.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from hybridtls.errors import EvidenceError

_EXPECTED = "expected PowerShell output saved as text, CSV or JSON"
_BLANK = re.compile(rb"[ \t\r\n\x00\xef\xbb\xbf\xff\xfe]*")  # what an empty file may still hold


@dataclass(frozen=True, slots=True)
class DecodedText:
    text: str
    encoding: str
    warning: str | None = None


def decode_evidence(data: bytes, path: str) -> DecodedText:
    """The text of a file. The bytes are read in place (a memoryview past the BOM, never a copy of the file), so
    a large file is in memory twice only while it is decoded: as bytes and as text."""
    if _BLANK.fullmatch(data):
        raise EvidenceError(f"the file is empty; {_EXPECTED}", path=path)
    if data.startswith(codecs.BOM_UTF8):
        return _strict(memoryview(data)[3:], "utf-8", path, label="UTF-8 with BOM")
    if data.startswith(codecs.BOM_UTF16_LE):
        return _utf16(memoryview(data)[2:], "utf-16-le", path)
    if data.startswith(codecs.BOM_UTF16_BE):
        return _utf16(memoryview(data)[2:], "utf-16-be", path)
    sniffed = _sniff_utf16(data)
    if sniffed:
        return _utf16(memoryview(data), sniffed, path)
    _refuse_binary(data, path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return _strict(data, "cp1252", path, label="Windows-1252")
    _refuse_binary_text(text, path)
    return DecodedText(text, "UTF-8")


def _sniff_utf16(data: bytes) -> str | None:
    """UTF-16 without a BOM: ASCII-range text leaves a NUL in every other byte."""
    head = data[:512]
    if len(head) < 4:
        return None
    even_nuls = head[0::2].count(0)
    odd_nuls = head[1::2].count(0)
    half = len(head) // 2
    if odd_nuls > 0.7 * half and even_nuls < 0.1 * half:
        return "utf-16-le"
    if even_nuls > 0.7 * half and odd_nuls < 0.1 * half:
        return "utf-16-be"
    return None


def _utf16(body: memoryview, codec: str, path: str) -> DecodedText:
    warning = None
    if len(body) % 2:
        body = body[:-1]
        warning = "the UTF-16 file ends in the middle of a character (cut short?); read what was complete"
    decoded = _strict(body, codec, path, label="UTF-16 " + codec[-2:].upper())
    _refuse_binary_text(decoded.text, path)
    return DecodedText(decoded.text, decoded.encoding, warning)


def _strict(body: bytes | memoryview, codec: str, path: str, *, label: str) -> DecodedText:
    try:
        text = codecs.decode(body, codec)
    except UnicodeDecodeError as exc:
        step = 2 if codec.startswith("utf-16") else 1
        prefix = bytes(body[: exc.start - exc.start % step])
        line = prefix.decode(codec, errors="replace").count("\n") + 1
        raise EvidenceError(
            f"bytes that are not valid {label} at byte {exc.start}; {_EXPECTED}",
            path=path,
            line=line,
            hint="save the output again from PowerShell (Out-File -Encoding utf8) rather than through an editor",
        ) from None
    _refuse_binary_text(text, path)
    return DecodedText(text, label)


def _refuse_binary(data: bytes, path: str) -> None:
    nul = data.find(b"\x00")
    if nul >= 0:
        raise EvidenceError(
            f"binary data (a NUL byte at offset {nul}); {_EXPECTED}",
            path=path,
            line=data[:nul].count(b"\n") + 1,
            hint=_binary_hint(data),
        )


def _refuse_binary_text(text: str, path: str) -> None:
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n\f") + sample.count("\x00")
    if controls > max(2, len(sample) // 50):
        raise EvidenceError(f"binary data, not text; {_EXPECTED}", path=path)


def _binary_hint(data: bytes) -> str | None:
    if data[:2] == b"\x30\x82":
        return "this looks like a DER certificate or PFX file; check reads PowerShell output, not certificate files"
    if data[:2] == b"PK":
        return "this looks like a ZIP archive: extract it and give the folder"
    if data[:2] == b"\x1f\x8b":
        return "this looks like a gzip file: decompress it first"
    return None
