"""One SMTP conversation with one address, up to STARTTLS and the TLS handshake, then QUIT.

Never sends MAIL, RCPT or DATA, never authenticates. Every step has its own timeout; every read is bounded.
Low-level exceptions become outcomes on the result at one boundary (``_outcome_of``).
"""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from cryptography import x509

from hybridtls.model import ProbeOutcome, ProbeResult, ProbeStep, Source, TranscriptDirection, TranscriptLine
from hybridtls.model.pki import CertificateFile
from hybridtls.smtp.replies import MAX_LINE_BYTES, ProtocolError, Reply, read_reply
from hybridtls.smtp.tls import HandshakeFailed, TlsSession, handshake, read_encrypted_line, send_encrypted

SWEEP_VERSIONS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
MAX_TRANSCRIPT_TEXT = 300


@dataclass(frozen=True)
class ProbeSettings:
    ehlo_name: str = field(default_factory=lambda: socket.gethostname() or "hybridtls.localdomain")
    timeout: float = 15.0  # each step: connect, banner, EHLO, STARTTLS, handshake
    sweep: bool = True  # also try TLS 1.0, 1.1, 1.2 and 1.3 one by one
    retry_421_after: float = 5.0


class _Ended(Exception):
    """A probe ended before the handshake, with an outcome."""

    def __init__(self, outcome: ProbeOutcome, stage: ProbeStep, detail: str) -> None:
        super().__init__(detail)
        self.outcome, self.stage, self.detail = outcome, stage, detail


@dataclass
class _Learned:
    outcome: ProbeOutcome = ProbeOutcome.OK
    detail: str = ""
    banner: str | None = None
    extensions: tuple[str, ...] = ()
    starttls_offered: bool | None = None
    tls_version: str | None = None
    cipher: str | None = None
    chain: tuple[bytes, ...] = ()  # DER, as presented


@dataclass
class _Conversation:
    transcript: list[TranscriptLine] = field(default_factory=list)
    stage: ProbeStep = ProbeStep.CONNECT

    def note(self, direction: TranscriptDirection, text: str) -> None:
        clipped = text if len(text) <= MAX_TRANSCRIPT_TEXT else text[:MAX_TRANSCRIPT_TEXT] + "..."
        self.transcript.append(TranscriptLine(step=self.stage, direction=direction, text=clipped))


def outcome_of(exc: BaseException, stage: ProbeStep) -> tuple[ProbeOutcome, str]:
    if isinstance(exc, _Ended):
        return exc.outcome, exc.detail
    if isinstance(exc, asyncio.TimeoutError):
        return ProbeOutcome.TIMEOUT, f"no answer within the timeout during {stage.value}"
    if isinstance(exc, ProtocolError):
        return ProbeOutcome.PROTOCOL_ERROR, str(exc)
    if isinstance(exc, HandshakeFailed):
        return ProbeOutcome.TLS_FAILED, str(exc)
    if isinstance(exc, ConnectionRefusedError):
        return ProbeOutcome.REFUSED, "connection refused"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return ProbeOutcome.PROTOCOL_ERROR, f"the server dropped the connection during {stage.value}"
    if isinstance(exc, OSError) and exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL):
        return ProbeOutcome.UNREACHABLE, exc.strerror or str(exc)
    if isinstance(exc, OSError):
        return (ProbeOutcome.UNREACHABLE if stage is ProbeStep.CONNECT else ProbeOutcome.PROTOCOL_ERROR), \
            exc.strerror or str(exc)
    raise exc


async def _command(conversation: _Conversation, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                   line: str, timeout: float) -> Reply:
    conversation.note(TranscriptDirection.SENT, line)
    writer.write(line.encode("ascii") + b"\r\n")
    started = asyncio.get_running_loop().time()
    await asyncio.wait_for(writer.drain(), timeout)
    reply = await read_reply(reader, timeout - (asyncio.get_running_loop().time() - started))
    for text in reply.transcript():
        conversation.note(TranscriptDirection.RECEIVED, text)
    return reply


async def _plaintext_until_tls(conversation: _Conversation, reader: asyncio.StreamReader,
                               writer: asyncio.StreamWriter, settings: ProbeSettings) -> tuple[Reply, Reply]:
    conversation.stage = ProbeStep.BANNER
    banner = await read_reply(reader, settings.timeout)
    for text in banner.transcript():
        conversation.note(TranscriptDirection.RECEIVED, text)
    if banner.code == 421:
        raise _Ended(ProbeOutcome.BUSY, ProbeStep.BANNER, f"421 {banner.text}")
    if banner.code != 220:
        raise _Ended(ProbeOutcome.PROTOCOL_ERROR, ProbeStep.BANNER, f"the greeting was {banner.code} {banner.text}")
    conversation.stage = ProbeStep.EHLO
    ehlo = await _command(conversation, reader, writer, f"EHLO {settings.ehlo_name}", settings.timeout)
    if ehlo.code != 250:
        raise _Ended(ProbeOutcome.NO_STARTTLS, ProbeStep.EHLO, f"EHLO was answered {ehlo.code} {ehlo.text}")
    return banner, ehlo


def extensions_of(ehlo: Reply) -> tuple[str, ...]:
    return tuple(line.strip() for line in ehlo.lines[1:] if line.strip())


async def _quit_plain(conversation: _Conversation, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    conversation.stage = ProbeStep.QUIT
    try:
        await _command(conversation, reader, writer, "QUIT", 2.0)
    except (OSError, asyncio.TimeoutError, ProtocolError):
        pass


async def _quit_tls(conversation: _Conversation, session: TlsSession, reader: asyncio.StreamReader,
                    writer: asyncio.StreamWriter) -> None:
    conversation.stage = ProbeStep.QUIT
    try:
        conversation.note(TranscriptDirection.SENT, "QUIT")
        await send_encrypted(session, writer, b"QUIT\r\n")
        line = await read_encrypted_line(session, reader, 2.0)
        if line:
            conversation.note(TranscriptDirection.RECEIVED, line.decode("utf-8", errors="replace").rstrip("\r\n"))
    except Exception:  # noqa: BLE001 - the probe is complete; a server that ends rudely changes nothing
        pass


async def _close(writer: asyncio.StreamWriter | None) -> None:
    if writer is None:
        return
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), 2.0)
    except Exception:  # noqa: BLE001 - closing is best effort
        pass


def _discard_buffered(reader: asyncio.StreamReader, conversation: _Conversation) -> None:
    """RFC 3207: anything received after the 220 to STARTTLS and before TLS must be thrown away."""
    buffered = getattr(reader, "_buffer", None)
    if buffered:
        conversation.note(TranscriptDirection.NOTE, f"discarded {len(buffered)} bytes sent before TLS began (RFC 3207)")
        buffered.clear()


async def converse(address: str, port: int, server_name: str | None, settings: ProbeSettings,
                   only_version: str | None = None) -> tuple[_Conversation, _Learned]:
    """Connect, greet, STARTTLS, handshake, QUIT. Returns the conversation and what was learned."""
    conversation = _Conversation()
    learned = _Learned()
    writer = None
    try:
        conversation.note(TranscriptDirection.NOTE, f"connecting to {address} port {port}")
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(address, port, limit=MAX_LINE_BYTES), settings.timeout)
        banner, ehlo = await _plaintext_until_tls(conversation, reader, writer, settings)
        learned.banner = banner.text
        learned.extensions = extensions_of(ehlo)
        offered = any(e.split()[0].upper() == "STARTTLS" for e in learned.extensions)
        learned.starttls_offered = offered
        if not offered:
            await _quit_plain(conversation, reader, writer)
            raise _Ended(ProbeOutcome.NO_STARTTLS, ProbeStep.EHLO, "STARTTLS is not among the EHLO extensions")
        conversation.stage = ProbeStep.STARTTLS
        reply = await _command(conversation, reader, writer, "STARTTLS", settings.timeout)
        if reply.code != 220:
            raise _Ended(ProbeOutcome.STARTTLS_REJECTED, ProbeStep.STARTTLS, f"STARTTLS was answered {reply.code} {reply.text}")
        _discard_buffered(reader, conversation)
        conversation.stage = ProbeStep.HANDSHAKE
        session = await handshake(reader, writer, server_name=server_name, timeout=settings.timeout,
                                  only=only_version)
        conversation.note(TranscriptDirection.NOTE, f"{session.version} {session.cipher}, {len(session.chain)} certificate(s) presented")
        learned.tls_version, learned.cipher, learned.chain = session.version, session.cipher, session.chain
        await _quit_tls(conversation, session, reader, writer)
    except Exception as exc:  # noqa: BLE001 - converted to an outcome at this one boundary
        learned.outcome, learned.detail = outcome_of(exc, conversation.stage)
        conversation.note(TranscriptDirection.NOTE, f"{learned.outcome.value}: {learned.detail}")
        if isinstance(exc, _Ended):
            conversation.stage = exc.stage
    finally:
        await _close(writer)
    return conversation, learned


async def probe_address(host: str, address: str, port: int, expected_name: str,
                        settings: ProbeSettings) -> ProbeResult:
    observed_at = datetime.now(timezone.utc).replace(microsecond=0)
    started = time.monotonic()
    server_name = None if host == address else host
    conversation, learned = await converse(address, port, server_name, settings)
    if learned.outcome is ProbeOutcome.BUSY:
        await asyncio.sleep(settings.retry_421_after)
        conversation.note(TranscriptDirection.NOTE, f"421: retrying once after {settings.retry_421_after:g} s")
        retry, learned = await converse(address, port, server_name, settings)
        conversation.transcript.extend(retry.transcript)
        conversation.stage = retry.stage
    label = ProbeResult(host=host, address=address, port=port, expected_name=expected_name,
                        outcome=ProbeOutcome.OK, stage=ProbeStep.PROBE).label
    chain, unread = certificates_of(learned.chain, label)
    for note in unread:
        conversation.note(TranscriptDirection.NOTE, note)
    versions: tuple[tuple[str, bool | None], ...] = ()
    if settings.sweep and learned.outcome in (ProbeOutcome.OK, ProbeOutcome.TLS_FAILED):
        versions = tuple([(v, await _accepts(address, port, server_name, settings, v, learned)) for v in SWEEP_VERSIONS])
    return ProbeResult(
        host=host, address=address, port=port, expected_name=expected_name, outcome=learned.outcome,
        stage=conversation.stage, detail=learned.detail, transcript=tuple(conversation.transcript),
        banner=learned.banner, extensions=learned.extensions, starttls_offered=learned.starttls_offered,
        tls_version=learned.tls_version, cipher=learned.cipher, chain=chain, versions_accepted=versions,
        elapsed_ms=int((time.monotonic() - started) * 1000), observed_at=observed_at,
    )


def certificates_of(ders: tuple[bytes, ...], label: str) -> tuple[tuple[CertificateFile, ...], list[str]]:
    """A chain as presented, read certificate by certificate; those that cannot be read are said, not dropped
    silently."""
    from hybridtls.pki.der import DerError
    from hybridtls.pki.facts import facts_from_der

    chain: list[CertificateFile] = []
    unread = []
    for i, der in enumerate(ders):
        try:
            chain.append(facts_from_der(der, source=Source(path=f"probe {label}"),
                                        label=f"{label}, certificate {i + 1} presented"))
        except (DerError, ValueError, x509.InvalidVersion) as exc:
            unread.append(f"certificate {i + 1} presented could not be read ({exc})")
    return tuple(chain), unread


async def _accepts(address: str, port: int, server_name: str | None, settings: ProbeSettings, version: str,
                   main: _Learned) -> bool | None:
    if main.tls_version == version:
        return True  # the main handshake already proved it
    _, learned = await converse(address, port, server_name, settings, only_version=version)
    if learned.outcome is ProbeOutcome.OK:
        return True
    if learned.outcome is ProbeOutcome.TLS_FAILED:
        return False
    return None  # could not tell (busy, timeout, dropped before TLS)

