"""SMTP replies, read line by line with bounds: a multi-line reply (``250-``) ends at ``250 ``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

MAX_LINE_BYTES = 4096  # RFC 5321 says 512; real EHLO lines run longer, garbage runs forever
MAX_REPLY_LINES = 200


class ProtocolError(Exception):
    """The peer does not speak SMTP as RFC 5321 describes it."""


@dataclass(frozen=True)
class Reply:
    code: int
    lines: tuple[str, ...]  # the text after the code and separator

    @property
    def text(self) -> str:
        return " ".join(self.lines)

    def transcript(self) -> list[str]:
        last = len(self.lines) - 1
        return [f"{self.code}{' ' if i == last else '-'}{line}" for i, line in enumerate(self.lines)]


def parse_reply_line(raw: bytes) -> tuple[int, bool, str]:
    """One reply line -> (code, is_last, text). Raises ProtocolError."""
    line = raw.rstrip(b"\r\n")
    if len(line) < 3 or not line[:3].isdigit() or (len(line) > 3 and line[3:4] not in (b" ", b"-")):
        raise ProtocolError(f"not an SMTP reply line: {line[:80]!r}")
    code = int(line[:3])
    if not 200 <= code <= 599:
        raise ProtocolError(f"reply code {code} is outside 2xx-5xx")
    return code, line[3:4] != b"-", line[4:].decode("utf-8", errors="replace")


async def read_reply(reader: asyncio.StreamReader, timeout: float) -> Reply:
    """One whole reply within ``timeout`` seconds, however slowly its lines or bytes arrive."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    code: int | None = None
    lines: list[str] = []
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise asyncio.TimeoutError
        try:
            raw = await asyncio.wait_for(reader.readuntil(b"\n"), remaining)
        except asyncio.LimitOverrunError:
            raise ProtocolError(f"a reply line longer than {MAX_LINE_BYTES} bytes") from None
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise ProtocolError(f"connection closed mid-line after {exc.partial[:80]!r}") from None
            raise ProtocolError("connection closed by the server") from None
        if len(raw) > MAX_LINE_BYTES:
            raise ProtocolError(f"a reply line longer than {MAX_LINE_BYTES} bytes")
        line_code, last, text = parse_reply_line(raw)
        if code is not None and line_code != code:
            raise ProtocolError(f"a multi-line reply switched from {code} to {line_code}")
        code = line_code
        lines.append(text)
        if last:
            return Reply(code, tuple(lines))
        if len(lines) >= MAX_REPLY_LINES:
            raise ProtocolError(f"a reply of more than {MAX_REPLY_LINES} lines")
