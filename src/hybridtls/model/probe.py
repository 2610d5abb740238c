"""What an SMTP/STARTTLS probe of one address observed: facts, never judgements."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from hybridtls.model.dane import DaneObservation
from hybridtls.model.pki import CertificateFile
from hybridtls.model.source import Source


class ProbeOutcome(str, enum.Enum):
    """How one SMTP probe of one address ended."""

    OK = "ok"  # STARTTLS and the TLS handshake completed
    REFUSED = "refused"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    DNS_FAILED = "dns_failed"
    BUSY = "busy"  # 421 in the banner, after one retry
    NO_STARTTLS = "no_starttls"
    STARTTLS_REJECTED = "starttls_rejected"
    TLS_FAILED = "tls_failed"
    PROTOCOL_ERROR = "protocol_error"  # garbage, endless lines, a drop mid-conversation
    DEADLINE = "deadline"  # the whole run's deadline passed first
    INTERRUPTED = "interrupted"  # the run was interrupted (Ctrl-C) first: not probed, never passed

    @property
    def connected(self) -> bool:
        return self not in (ProbeOutcome.REFUSED, ProbeOutcome.TIMEOUT, ProbeOutcome.UNREACHABLE,
                            ProbeOutcome.DNS_FAILED, ProbeOutcome.DEADLINE,
                            ProbeOutcome.INTERRUPTED)


class ProbeStep(str, enum.Enum):
    """Where a probe was: the steps of one SMTP conversation, and the run around it."""

    RESOLVE = "resolve"  # finding the addresses (DNS, --mx)
    CONNECT = "connect"
    BANNER = "banner"
    EHLO = "ehlo"
    STARTTLS = "starttls"
    HANDSHAKE = "handshake"
    QUIT = "quit"
    PROBE = "probe"  # the probe as a whole: it failed or the run's deadline passed first


class TranscriptDirection(str, enum.Enum):
    SENT = ">"
    RECEIVED = "<"
    NOTE = "*"


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscriptLine:
    step: ProbeStep
    direction: TranscriptDirection
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeResult:
    """What one address said and presented, step by step. Facts only; checks/wire.py judges them."""

    host: str  # the name probed (or the literal address)
    address: str
    port: int
    expected_name: str  # the name the certificate must cover (--expect-name, else host)
    outcome: ProbeOutcome
    stage: ProbeStep  # the step where it ended
    detail: str = ""
    transcript: tuple[TranscriptLine, ...] = ()
    banner: str | None = None
    extensions: tuple[str, ...] = ()
    starttls_offered: bool | None = None
    tls_version: str | None = None
    cipher: str | None = None
    chain: tuple[CertificateFile, ...] = ()  # as served: order and count kept
    versions_accepted: tuple[tuple[str, bool | None], ...] = ()  # ("TLSv1.2", True), ...; None: not tested
    elapsed_ms: int = 0
    observed_at: datetime | None = None  # when the conversation began (UTC); None in probes saved before it was kept
    dane: DaneObservation | None = None  # the TLSA records of host:port matched against this chain; None: not looked up

    @property
    def label(self) -> str:
        return address_label(self.host, self.address, self.port)

    @property
    def source(self) -> Source:
        return Source(path=f"probe {self.label}")

    def accepted(self, version: str) -> bool | None:
        return dict(self.versions_accepted).get(version)


def address_label(host: str, address: str, port: int) -> str:
    """How a probed address is named everywhere: ``host[address]:port``, ``address:port`` or ``host:port``."""
    shown = f"[{address}]" if ":" in address else address
    if not address:
        return f"{host}:{port}"
    return f"{host}[{shown}]:{port}" if host != address else f"{shown}:{port}"
