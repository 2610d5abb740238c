from __future__ import annotations

import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hybridtls.errors import EvidenceError
from hybridtls.evidence.decoding import decode_evidence

TEXT = "Issuer             : CN=Société Générale CA, O=Contoso, C=FR\r\nRootCAType         : ThirdParty\r\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "UTF-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "UTF-8 with BOM"),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "UTF-16 LE"),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "UTF-16 BE"),
        (TEXT.encode("utf-16-le"), "UTF-16 LE"),
        (TEXT.encode("cp1252"), "Windows-1252"),
    ],
)
def test_encodings_windows_produces(data: bytes, encoding: str) -> None:
    decoded = decode_evidence(data, "f.txt")
    assert decoded.text == TEXT
    assert decoded.encoding == encoding
    assert decoded.warning is None


def test_truncated_utf16_keeps_what_was_complete() -> None:
    data = codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le")[:-1]
    decoded = decode_evidence(data, "f.txt")
    assert decoded.text == TEXT[:-1]
    assert decoded.warning and "middle of a character" in decoded.warning


@pytest.mark.parametrize(
    ("data", "message", "line"),
    [
        (b"", "empty", None),
        (b"\r\n  \r\n", "empty", None),
        (b"line one\nline two\n\x00\x01\x02\x03binary", "NUL byte", 3),
        (b"\x30\x82\x03\x00" + bytes(range(256)), "NUL byte", 1),
        (b"RootCAType : Registry\n\x81\x8d\x8f\x90\x9d", "not valid Windows-1252", 2),
        (bytes([7, 8, 1, 2, 3, 4, 5, 6]) * 20, "binary data", None),
    ],
)
def test_refused(data: bytes, message: str, line: int | None) -> None:
    with pytest.raises(EvidenceError) as caught:
        decode_evidence(data, "bad.txt")
    assert message in caught.value.message
    assert caught.value.line == line
    assert caught.value.path == "bad.txt"


@given(st.binary(max_size=2048))
def test_arbitrary_bytes_decode_or_raise_evidence_error(data: bytes) -> None:
    try:
        decoded = decode_evidence(data, "fuzz.bin")
    except EvidenceError as exc:
        assert exc.path == "fuzz.bin"
    else:
        assert isinstance(decoded.text, str)
