"""What Exchange's own logs say: SMTP protocol-log sessions and their summaries, message-tracking counts.

A protocol log is read as a stream and summarised as it goes: every session is counted in the summary of its
file, connector and remote address; a session is kept whole only when it says something a check needs (a TLS
failure, or the first session of a file to show a certificate and protocol combination), so a month of logs is
held as a few thousand records, never as its rows.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from hybridtls.model.source import Source


class SmtpLogType(str, enum.Enum):
    SEND = "send"
    RECEIVE = "receive"


class TlsOutcome(str, enum.Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    NOT_TRIED = "not tried"  # no TLS row in the session (no STARTTLS, or logging not Verbose)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedCertificate:
    """A certificate as a protocol log names it (the row styles give some or all of these)."""

    subject: str | None = None
    issuer: str | None = None
    thumbprint: str | None = None
    serial_number: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpSession:
    """One SMTP session of a protocol log, rebuilt from its rows (session id, sequence number)."""

    source: Source  # the file and the line of its first row
    log_type: SmtpLogType
    session_id: str
    server: str | None = None
    connector: str | None = None
    local_endpoint: str | None = None
    remote_endpoint: str | None = None
    remote_name: str | None = None  # the EHLO name (receive) or the banner's host name (send)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    tls: TlsOutcome = TlsOutcome.NOT_TRIED
    tls_protocol: str | None = None  # "TLS1_2"
    tls_cipher: str | None = None  # "CALG_AES_256 CALG_SHA_384 CALG_ECDH_EPHEM"
    tls_error: str | None = None  # "UnknownCredentials"
    failure: str | None = None  # the row's text, exactly
    failure_line: int | None = None
    certificate_sent: LoggedCertificate | None = None
    certificate_received: LoggedCertificate | None = None
    rows: int = 0
    rows_cut: int = 0  # rows over the per-session cap: counted, not read for TLS facts
    complete: bool = True  # False: the file ended (or the open-session cap was reached) before its disconnect row

    @property
    def remote_address(self) -> str | None:
        return endpoint_address(self.remote_endpoint)


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpLogSummary:
    """The sessions of one file with one connector and one remote address: counts and first/last seen."""

    source: Source
    log_type: SmtpLogType
    server: str | None = None
    connector: str | None = None
    remote_address: str | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    sessions: int = 0
    tls_succeeded: int = 0
    tls_failed: tuple[tuple[str, int], ...] = ()  # (error, sessions), most first
    sessions_not_kept: int = 0  # counted here only (not kept as SmtpSession records)
    sessions_cut: int = 0  # read in part: closed early by the open-session cap, or rows past the per-session cap
    sessions_unfinished: int = 0  # no disconnect row before the file ended (usual where a log rotates)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackingSummary:
    """The events of one message-tracking log, counted by event id (RECEIVE, SEND, DEFER, FAIL...)."""

    source: Source
    server: str | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    events: tuple[tuple[str, int], ...] = ()  # (event id, rows), in the order first seen


def endpoint_address(endpoint: str | None) -> str | None:
    """``40.107.22.51:50644`` -> ``40.107.22.51``; ``[2a01:111::1]:25`` -> ``2a01:111::1``."""
    if not endpoint:
        return None
    if endpoint.startswith("["):
        return endpoint[1:endpoint.find("]")] if "]" in endpoint else endpoint
    if endpoint.count(":") == 1:
        return endpoint.split(":", 1)[0]
    return endpoint
