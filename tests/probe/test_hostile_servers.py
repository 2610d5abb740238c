"""Small hostile servers written here: a probe ends with a clear per-address result, never a hang or a crash."""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
import time
from collections.abc import Awaitable, Callable

import pytest
from conftest import run_cli
from hypothesis import given
from hypothesis import strategies as st

from hybridtls.model import ProbeOutcome
from hybridtls.smtp.replies import ProtocolError, read_reply
from hybridtls.smtp.session import ProbeSettings, probe_address

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class LoopbackServer:
    """An asyncio server on 127.0.0.1 in its own thread, for the duration of a test."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.port = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def main() -> None:
            server = await asyncio.start_server(self._guarded, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            self.server = server
            self.ready.set()

        self.loop.run_until_complete(main())
        self.loop.run_forever()

    async def _guarded(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self.handler(reader, writer)
        except (ConnectionError, asyncio.CancelledError, OSError):
            pass
        finally:
            writer.close()

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        self.ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        async def shutdown() -> None:
            self.server.close()
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(30)


async def endless_line(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"220-")
    for _ in range(2000):
        writer.write(b"A" * 1024)
        await writer.drain()


async def endless_reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    for _ in range(10_000):
        writer.write(b"220-still greeting you\r\n")
        await writer.drain()


async def _greet_then_starttls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"220 hostile.test ESMTP\r\n")
    await reader.readline()
    writer.write(b"250-hostile.test\r\n250 STARTTLS\r\n")
    await reader.readline()
    writer.write(b"220 go ahead\r\n")
    await writer.drain()


def tls_after_starttls(context: ssl.SSLContext) -> Handler:
    """A server that completes STARTTLS with ``context`` and then answers every command until QUIT."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _greet_then_starttls(reader, writer)
        await writer.start_tls(context)
        while line := await reader.readline():
            if line.upper().startswith(b"QUIT"):
                writer.write(b"221 bye\r\n")
                await writer.drain()
                return
            writer.write(b"250 ok\r\n")
            await writer.drain()

    return handler


async def garbage_after_starttls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _greet_then_starttls(reader, writer)
    await reader.read(1)
    writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n" + bytes(range(256)) * 8)
    await writer.drain()
    await asyncio.sleep(1)


async def drop_mid_handshake(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _greet_then_starttls(reader, writer)
    await reader.read(100)
    writer.transport.abort()


async def injects_plaintext(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"220 hostile.test ESMTP\r\n")
    await reader.readline()
    writer.write(b"250-hostile.test\r\n250 STARTTLS\r\n")
    await reader.readline()
    writer.write(b"220 go ahead\r\n250 injected before TLS\r\n")  # RFC 3207: must be discarded
    await writer.drain()
    await reader.read(100)


async def busy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"421 4.3.2 Service shutting down, try later\r\n")
    await writer.drain()


async def http_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\n\r\n")
    await writer.drain()


async def dribbles_the_greeting(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Each line well inside the step timeout, the whole reply far outside it."""
    for number in range(40):
        writer.write(f"220-line {number} of a greeting that never ends\r\n".encode())
        await writer.drain()
        await asyncio.sleep(0.25)


async def dribbles_the_ehlo_reply_byte_by_byte(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"220 slow.test ESMTP\r\n")
    await reader.readline()
    for byte in b"250-slow.test\r\n" * 40:
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(0.02)


SETTINGS = ProbeSettings(ehlo_name="probe.hybridtls.test", timeout=1.5, sweep=False, retry_421_after=0.2)


@pytest.mark.parametrize(
    ("handler", "outcome", "stage", "words"),
    [
        (silent, ProbeOutcome.TIMEOUT, "banner", "no answer within the timeout during banner"),
        (endless_line, ProbeOutcome.PROTOCOL_ERROR, "banner", "longer than 4096 bytes"),
        (endless_reply, ProbeOutcome.PROTOCOL_ERROR, "banner", "more than 200 lines"),
        (garbage_after_starttls, ProbeOutcome.TLS_FAILED, "handshake", ""),
        (drop_mid_handshake, ProbeOutcome.TLS_FAILED, "handshake", "closed the connection during the TLS handshake"),
        (busy, ProbeOutcome.BUSY, "banner", "421 4.3.2"),
        (http_server, ProbeOutcome.PROTOCOL_ERROR, "banner", "not an SMTP reply line"),
    ],
)
def test_hostile_server(handler: Handler, outcome: ProbeOutcome, stage: str, words: str) -> None:
    with LoopbackServer(handler) as server:
        started = time.monotonic()
        result = asyncio.run(probe_address("127.0.0.1", "127.0.0.1", server.port, "hostile.test", SETTINGS))
        elapsed = time.monotonic() - started
    assert result.outcome is outcome, result.detail
    assert result.stage == stage and words in result.detail
    assert elapsed < 10  # bounded: timeouts per step, one 421 retry
    assert not any("MAIL" in t.text or "AUTH" in t.text for t in result.transcript if t.direction == ">")


@pytest.mark.parametrize(("handler", "stage"), [(dribbles_the_greeting, "banner"),
                                               (dribbles_the_ehlo_reply_byte_by_byte, "ehlo")])
def test_a_step_is_bounded_as_a_whole_not_line_by_line(handler: Handler, stage: str) -> None:
    with LoopbackServer(handler) as server:
        result = asyncio.run(probe_address("127.0.0.1", "127.0.0.1", server.port, "slow.test", SETTINGS))
    assert result.outcome is ProbeOutcome.TIMEOUT and result.stage == stage, result.detail
    # 1.5 s for the step: at most ~6 of the 40 greeting lines (one per 0.25 s) could have arrived, and none is
    # in the transcript because the reply never completed
    assert not any(t.direction == "<" and "line 7 of" in t.text for t in result.transcript)


def test_plaintext_injected_before_tls_is_discarded() -> None:
    with LoopbackServer(injects_plaintext) as server:
        result = asyncio.run(probe_address("127.0.0.1", "127.0.0.1", server.port, "hostile.test", SETTINGS))
    assert any("discarded" in t.text and "RFC 3207" in t.text for t in result.transcript)


def test_busy_is_retried_once_and_reported() -> None:
    with LoopbackServer(busy) as server:
        result = asyncio.run(probe_address("127.0.0.1", "127.0.0.1", server.port, "hostile.test", SETTINGS))
    banners = [t for t in result.transcript if t.step == "banner" and t.direction == "<"]
    assert len(banners) == 2 and any("retrying once" in t.text for t in result.transcript)


def test_cli_deadline_and_no_traceback() -> None:
    with LoopbackServer(silent) as server:
        started = time.monotonic()
        run = run_cli("probe", f"127.0.0.1:{server.port}", "--timeout", "20", "--deadline", "1", "--format", "json")
        assert time.monotonic() - started < 5
    [probe] = json.loads(run.out)["records"]["probes"]
    assert probe["outcome"] == "deadline" and run.code == 3 and "Traceback" not in run.err


def test_refused_everywhere_exits_3() -> None:
    with LoopbackServer(silent) as server:
        port = server.port
    run = run_cli("probe", f"127.0.0.1:{port}", "[::1]:1", "--timeout", "2", "--format", "json")
    assert run.code == 3
    assert {p["outcome"] for p in json.loads(run.out)["records"]["probes"]} <= {"refused", "unreachable"}


@pytest.mark.parametrize("argv", [["probe"], ["probe", "mx..contoso.com"], ["probe", "[zz::1]:25"],
                                  ["probe", "a:99999"], ["probe", "x", "--resolve", "x=notanaddress"],
                                  ["probe", "x", "--concurrency", "0"]])
def test_usage_errors(argv: list[str]) -> None:
    run = run_cli(*argv)
    assert run.code == 2 and run.err.startswith("hybridtls: error: ")


REPLY = b"250-mx.contoso.test Hello\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250 8BITMIME\r\n"


@given(st.lists(st.integers(min_value=1, max_value=len(REPLY)), max_size=12))
def test_any_chunking_of_a_reply_parses_the_same(cuts: list[int]) -> None:
    async def parse() -> tuple[int, tuple[str, ...]]:
        reader = asyncio.StreamReader(limit=4096)
        points = sorted(set(cuts))
        start = 0
        for point in [*points, len(REPLY)]:
            reader.feed_data(REPLY[start:point])
            start = point
        reader.feed_eof()
        reply = await read_reply(reader, 1)
        return reply.code, reply.lines

    assert asyncio.run(parse()) == (250, ("mx.contoso.test Hello", "PIPELINING", "SIZE 10240000", "STARTTLS", "8BITMIME"))


@pytest.mark.parametrize("data", [b"250-a\r\n251 b\r\n", b"25", b"abc def\r\n", b"600 x\r\n", b"250-a\r\n"])
def test_malformed_replies(data: bytes) -> None:
    async def parse() -> None:
        reader = asyncio.StreamReader(limit=4096)
        reader.feed_data(data)
        reader.feed_eof()
        await read_reply(reader, 1)

    with pytest.raises(ProtocolError):
        asyncio.run(parse())
