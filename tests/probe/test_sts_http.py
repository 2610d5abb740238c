"""The policy fetch's HTTP reader, strict where int() is lenient: a status is three digits, a chunk size hex digits
only. Pure: the reader is fed bytes, no socket."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hybridtls.model import PolicyFetch
from hybridtls.smtp.sts_fetch import FetchFailed, _body, _read_head, _Response, _Stream


def head(status_line: bytes) -> _Response:
    response = _Response()
    _read_head(status_line + b"\r\nContent-Type: text/plain", response)
    return response


def body(wire: bytes) -> bytes:
    stream = _Stream.__new__(_Stream)  # every byte already received, the connection closed
    stream.buffer, stream.closed = wire, True
    return asyncio.run(_body(stream, {"transfer-encoding": "chunked"}))


def test_a_status_is_exactly_three_digits() -> None:
    assert head(b"HTTP/1.1 200 OK").status == 200 and head(b"HTTP/1.1 200").status == 200
    # b"\xb2" is '²' (superscript two) read as latin-1: str.isdigit() takes it, int() then fails
    for line in (b"HTTP/1.1 2000 OK", b"HTTP/1.1 20 OK", b"HTTP/1.1 +20 OK", "HTTP/1.1 ２００ OK".encode(),
                 b"HTTP/1.1 2\xb20 OK", b"HTTP/1.1 200OK"):
        with pytest.raises(FetchFailed) as failed:
            head(line)
        assert failed.value.outcome is PolicyFetch.PROTOCOL_ERROR and "not an HTTP/1.x response" in str(failed.value)


def test_a_chunk_size_is_hex_digits_only() -> None:
    assert body(b"5\r\nhello\r\nA;ext=1\r\n0123456789\r\n0\r\n\r\n") == b"hello0123456789"
    for size in (b"0x5", b"1_0", b"-3", b"+5", b" ", b"5 5"):
        with pytest.raises(FetchFailed) as failed:
            body(size + b"\r\nhello\r\n0\r\n\r\n")
        assert failed.value.outcome is PolicyFetch.PROTOCOL_ERROR and "malformed chunk size" in str(failed.value)


@given(st.integers(min_value=1, max_value=200), st.sampled_from(["", "0x", "0X", "+", "-", "_", "0_"]), st.booleans())
def test_a_chunk_is_read_exactly_when_its_size_is_plain_hex(size: int, prefix: str, upper: bool) -> None:
    digits = f"{size:X}" if upper else f"{size:x}"
    wire = f"{prefix}{digits}".encode() + b"\r\n" + b"x" * size + b"\r\n0\r\n\r\n"
    if prefix in ("", "0"):
        assert body(wire) == b"x" * size
    else:
        with pytest.raises(FetchFailed):
            body(wire)


@given(st.binary(max_size=24))
def test_any_chunk_size_line_is_read_or_refused_never_a_crash(size: bytes) -> None:
    try:
        body(size.replace(b"\r\n", b"") + b"\r\n" + b"x" * 40 + b"\r\n0\r\n\r\n")
    except FetchFailed as failed:
        assert failed.outcome in (PolicyFetch.PROTOCOL_ERROR, PolicyFetch.TOO_LARGE)
