"""MTA-STS and TLS-RPT of a domain, looked up as a sending MTA would: the TXT records, then the policy over HTTPS
from ``mta-sts.DOMAIN``, with a minimal HTTP/1.1 client that is bounded everywhere (the body to 64 KiB, the headers,
each step's and the whole fetch's time) and never follows a redirect (RFC 8461 §3.3).

The TLS handshake is the probe's own (pyOpenSSL over an asyncio stream): nothing is verified here, the policy
host's chain is captured as served and judged later by the run's trust store, like every chain of the run.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from hybridtls._version import __version__
from hybridtls.model import MtaStsResult, PolicyFetch, ProbeOutcome, ProbeStep, TxtLookup
from hybridtls.pki.hostnames import covering_name
from hybridtls.pki.mtasts import match_mx, read_policy_bytes, read_sts_record, read_tlsrpt_record
from hybridtls.smtp.resolve import Resolution
from hybridtls.smtp.session import certificates_of, outcome_of
from hybridtls.smtp.tls import TlsSession, handshake, receive, send_encrypted

MAX_POLICY_BYTES = 64 * 1024  # RFC 8461 §3.3 suggests senders bound the body at 64 KiB
MAX_HEADER_BYTES = 16 * 1024
POLICY_PATH = "/.well-known/mta-sts.txt"
HTTPS_PORT = 443
MAX_POLICY_ADDRESSES = 4  # addresses of mta-sts.DOMAIN tried in turn while they refuse or time out

_OUTCOMES = {ProbeOutcome.TIMEOUT: PolicyFetch.TIMEOUT, ProbeOutcome.REFUSED: PolicyFetch.REFUSED,
             ProbeOutcome.UNREACHABLE: PolicyFetch.UNREACHABLE, ProbeOutcome.TLS_FAILED: PolicyFetch.TLS_FAILED}


@dataclass(frozen=True)
class FetchSettings:
    timeout: float = 15.0  # connect, and the TLS handshake
    total: float = 30.0  # the whole fetch, whatever the server does (a slow trickle included)
    port: int = HTTPS_PORT  # 443 in real life; tests point it at a loopback server


class FetchFailed(Exception):
    def __init__(self, outcome: PolicyFetch, detail: str) -> None:
        super().__init__(detail)
        self.outcome, self.detail = outcome, detail


@dataclass
class _Response:
    status: int = 0
    content_type: str | None = None
    body: bytes = b""
    chain: tuple[bytes, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)


async def look_up(domain: str, mx_hosts: Sequence[str], resolution: Resolution, settings: FetchSettings,
                  deadline: float | None = None) -> MtaStsResult:
    """The _mta-sts and _smtp._tls records of ``domain``; the policy when the record says there is one; every
    MX host against the policy's patterns. Within ``deadline`` seconds in all, else a result that says so."""
    domain = domain.rstrip(".").lower()
    if deadline is None:
        return await _look_up(domain, mx_hosts, resolution, settings)
    try:
        return await asyncio.wait_for(_look_up(domain, mx_hosts, resolution, settings), deadline)
    except asyncio.TimeoutError:
        reason = f"the run's deadline of {deadline:g} s passed before the MTA-STS lookup ended"
        return MtaStsResult(domain=domain, sts_record=TxtLookup(name=f"_mta-sts.{domain}", error=reason),
                            mx_hosts=tuple(mx_hosts), tlsrpt_record=TxtLookup(name=f"_smtp._tls.{domain}", error=reason),
                            observed_at=datetime.now(timezone.utc).replace(microsecond=0))


async def _look_up(domain: str, mx_hosts: Sequence[str], resolution: Resolution,
                   settings: FetchSettings) -> MtaStsResult:
    observed_at = datetime.now(timezone.utc).replace(microsecond=0)
    sts_name, rpt_name = f"_mta-sts.{domain}", f"_smtp._tls.{domain}"
    (sts_records, sts_error), (rpt_records, rpt_error) = await asyncio.gather(
        resolution.txt(sts_name), resolution.txt(rpt_name))
    sts = replace(read_sts_record(sts_name, sts_records), error=sts_error)
    rpt, rua = read_tlsrpt_record(rpt_name, rpt_records)
    result = MtaStsResult(domain=domain, sts_record=sts, policy_id=sts.field("id") if sts.usable else None,
                          policy_url=f"https://mta-sts.{domain}{POLICY_PATH}", mx_hosts=tuple(mx_hosts),
                          tlsrpt_record=replace(rpt, error=rpt_error), tlsrpt_rua=rua, observed_at=observed_at)
    if not sts.usable:
        return result
    return await _fetch_policy(result, resolution, settings)


async def _fetch_policy(result: MtaStsResult, resolution: Resolution, settings: FetchSettings) -> MtaStsResult:
    host = result.policy_host
    addresses, error = await resolution.addresses(host)
    if not addresses:
        return replace(result, fetch=PolicyFetch.DNS_FAILED,
                       fetch_detail=f"{host} does not resolve ({error or 'no A or AAAA record'})")
    for address in addresses[:MAX_POLICY_ADDRESSES]:
        response = _Response()
        failure: FetchFailed | None = None
        try:
            await asyncio.wait_for(_get(host, address, settings, response), settings.total)
        except FetchFailed as exc:
            failure = exc
        except asyncio.TimeoutError:
            failure = FetchFailed(PolicyFetch.TIMEOUT, f"the fetch took longer than {settings.total:g} s")
        except Exception as exc:  # noqa: BLE001 - converted to an outcome at this one boundary
            outcome, detail = outcome_of(exc, ProbeStep.PROBE if response.chain else ProbeStep.CONNECT)
            failure = FetchFailed(_OUTCOMES.get(outcome, PolicyFetch.PROTOCOL_ERROR), detail)
        judged = _with_response(result, address, response)
        if failure is None:
            policy = read_policy_bytes(response.body)
            return replace(judged, fetch=PolicyFetch.OK, policy=policy,
                           mx_matches=match_mx(result.mx_hosts, policy.mx) if policy.mx else ())
        result = replace(judged, fetch=failure.outcome, fetch_detail=failure.detail)
        if failure.outcome not in (PolicyFetch.REFUSED, PolicyFetch.UNREACHABLE, PolicyFetch.TIMEOUT):
            break  # the server answered: another address would not be tried by a sender either
    return result


def _with_response(result: MtaStsResult, address: str, response: _Response) -> MtaStsResult:
    chain, _ = certificates_of(response.chain, f"{result.policy_host}[{address}]")
    covered = bool(covering_name(chain[0].certificate_domains, result.policy_host)) if chain else None
    return replace(result, policy_address=address, http_status=response.status or None,
                   content_type=response.content_type, host_chain=chain, host_name_covered=covered)


async def _get(host: str, address: str, settings: FetchSettings, response: _Response) -> None:
    """GET the policy; fills ``response`` as it learns, raises FetchFailed for what a sender would refuse."""
    loop = asyncio.get_running_loop()
    reader, writer = await asyncio.wait_for(asyncio.open_connection(address, settings.port), settings.timeout)
    try:
        session = await handshake(reader, writer, server_name=host, timeout=settings.timeout)
        response.chain = session.chain
        request = (f"GET {POLICY_PATH} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: hybridtls/{__version__}\r\n"
                   "Accept: text/plain\r\nConnection: close\r\n\r\n")
        await send_encrypted(session, writer, request.encode("ascii"))
        stream = _Stream(session, reader, loop.time() + settings.total)
        head = await stream.until(b"\r\n\r\n", MAX_HEADER_BYTES, "the response headers")
        _read_head(head, response)
        if 300 <= response.status < 400:
            raise FetchFailed(PolicyFetch.REDIRECT, f"HTTP {response.status} to "
                              f"{response.headers.get('location', '(no Location)')[:200]!r}: senders do not follow "
                              "redirects (RFC 8461 §3.3)")
        if response.status != 200:
            raise FetchFailed(PolicyFetch.HTTP_STATUS, f"HTTP {response.status}: senders need 200")
        media = (response.content_type or "").split(";", 1)[0].strip().lower()
        if media != "text/plain":
            raise FetchFailed(PolicyFetch.CONTENT_TYPE, f"Content-Type is {response.content_type!r}, not text/plain")
        response.body = await _body(stream, response.headers)
    finally:
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), 2.0)
        except Exception:  # noqa: BLE001 - closing is best effort
            pass


class _Stream:
    """Decrypted bytes, read as needed, under one deadline."""

    def __init__(self, session: TlsSession, reader: asyncio.StreamReader, deadline: float) -> None:
        self.session, self.reader, self.deadline = session, reader, deadline
        self.buffer = b""
        self.closed = False

    async def more(self) -> None:
        chunk = await receive(self.session, self.reader, self.deadline)
        self.closed = not chunk
        self.buffer += chunk

    async def until(self, marker: bytes, limit: int, what: str) -> bytes:
        while marker not in self.buffer[: limit + len(marker)]:
            if len(self.buffer) > limit:
                raise FetchFailed(PolicyFetch.PROTOCOL_ERROR, f"{what} are longer than {limit} bytes")
            if self.closed:
                raise FetchFailed(PolicyFetch.PROTOCOL_ERROR, f"the server closed the connection within {what}")
            await self.more()
        taken, _, self.buffer = self.buffer.partition(marker)
        return taken

    async def exactly(self, count: int, what: str) -> bytes:
        while len(self.buffer) < count:
            if self.closed:
                raise FetchFailed(PolicyFetch.PROTOCOL_ERROR, f"the server closed the connection within {what}")
            await self.more()
        taken, self.buffer = self.buffer[:count], self.buffer[count:]
        return taken


_STATUS = re.compile(r"[0-9]{3}")
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")


def _read_head(head: bytes, response: _Response) -> None:
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code = rest.partition(" ")[0]  # exactly three digits, then a space and the reason (RFC 9112 section 4)
    if not version.startswith("HTTP/1.") or not _STATUS.fullmatch(code):
        raise FetchFailed(PolicyFetch.PROTOCOL_ERROR, f"not an HTTP/1.x response: {lines[0][:80]!r}")
    response.status = int(code)
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise FetchFailed(PolicyFetch.PROTOCOL_ERROR, f"a malformed header line: {line[:80]!r}")
        key = name.lower()
        if key in response.headers and key == "content-length" and response.headers[key] != value.strip():
            raise FetchFailed(PolicyFetch.PROTOCOL_ERROR, "two different Content-Length headers")
        response.headers.setdefault(key, value.strip())
    response.content_type = response.headers.get("content-type")


async def _body(stream: _Stream, headers: dict[str, str]) -> bytes:
    too_large = FetchFailed(PolicyFetch.TOO_LARGE, f"the policy is larger than {MAX_POLICY_BYTES} bytes")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = b""
        while True:
            size_line = (await stream.until(b"\r\n", 64, "a chunk size line")).split(b";", 1)[0].strip()
            if not _CHUNK_SIZE.fullmatch(size_line):  # hex digits only: int() would take 0x5, 1_0, -3, +7
                raise FetchFailed(PolicyFetch.PROTOCOL_ERROR, f"a malformed chunk size {size_line[:20]!r}")
            size = int(size_line, 16)
            if size == 0:
                return body
            if len(body) + size > MAX_POLICY_BYTES:
                raise too_large
            body += await stream.exactly(size, "a chunk")
            await stream.exactly(2, "a chunk")
    length = headers.get("content-length")
    if length is not None:
        if not (length.isascii() and length.isdigit()):
            raise FetchFailed(PolicyFetch.PROTOCOL_ERROR, f"Content-Length {length[:20]!r} is not a number")
        if int(length) > MAX_POLICY_BYTES:
            raise too_large
        return await stream.exactly(int(length), "the body")
    while not stream.closed:  # no length: the body runs to the end of the connection
        if len(stream.buffer) > MAX_POLICY_BYTES:
            raise too_large
        await stream.more()
    if len(stream.buffer) > MAX_POLICY_BYTES:
        raise too_large
    return stream.buffer
