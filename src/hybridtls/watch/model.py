"""What a watch keeps of each round and what a change between rounds raises: typed immutable records, no I/O.

A round is one probe of every address behind every watched name. Each address's ``Observation`` holds the facts
the next round is compared with (the certificate served, the chain as served, what was accepted) and the findings
the checks made of it, by their stable keys. ``Alert`` is one change worth a person's attention, with the fix.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timezone

from hybridtls.model import Severity

ALERT_FORMATS = ("json", "teams", "slack")  # the webhook bodies (watch.sinks.BODIES); here so the CLI need not load
STILL = "still: "  # the prefix of a reminder's summary (--renotify)


def utc(moment: datetime) -> datetime:
    """``moment`` with its zone; a time without one is UTC (certificate dates are naive UTC in the model)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def epoch(moment: datetime) -> float:
    """Seconds since 1970 (a time without a zone taken as UTC): how the history and /metrics give a time."""
    return utc(moment).timestamp()


def flag(value: bool | None) -> int | None:
    """A tri-state as SQLite and Prometheus store it: 1, 0, or None when not known."""
    return None if value is None else int(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServedCertificate:
    """The leaf an address presented, as much as an alert needs to say what changed."""

    sha256: str  # of the DER, lower-case hex: the fingerprint blackbox_exporter labels
    thumbprint: str  # SHA-1, upper-case hex, as Exchange shows it
    serial_number: str
    subject: str
    issuer: str
    names: tuple[str, ...]  # the DNS names in the SAN (the CN when there is none)
    not_before: datetime
    not_after: datetime
    client_auth: bool | None = None  # the Client Authentication EKU is present; None: no EKU extension


@dataclass(frozen=True, slots=True, kw_only=True)
class FindingMark:
    """One finding a round's checks made about an address (or about the watch as a whole when address is "")."""

    key: str  # Finding.key: stable across rounds for the same fault on the same thing
    check_id: str
    severity: Severity
    message: str
    remediation: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """One address in one round: what it said and served, and what the checks made of it."""

    host: str  # the name watched (or the literal address)
    address: str
    port: int
    outcome: str  # ProbeOutcome value: "ok", "timeout", "tls_failed" ...
    detail: str = ""
    observed_at: datetime
    elapsed_ms: int = 0
    starttls_offered: bool | None = None
    tls_version: str | None = None
    versions_accepted: tuple[tuple[str, bool | None], ...] = ()
    leaf: ServedCertificate | None = None
    chain_sha256: tuple[str, ...] = ()  # as served, in the order served (leaf first)
    chain_der: tuple[bytes, ...] = ()  # the same certificates' DER, so history can show them again; () when not kept
    chain_end: str | None = None  # ChainEnd value of the chain as served ("trusted", "untrusted_root" ...)
    chain_expiry: datetime | None = None  # the earliest NotAfter of the chain as served
    name_covered: bool | None = None  # the leaf covers the name Exchange Online expects (TlsDomain or host)
    expected_cert_matches: bool | None = None  # the leaf matches the TlsCertificateName the connectors expect
    findings: tuple[FindingMark, ...] = ()

    @property
    def label(self) -> str:
        address = f"[{self.address}]" if ":" in self.address else self.address
        if not self.address:
            return f"{self.host}:{self.port}"
        return f"{self.host}[{address}]:{self.port}" if self.host != self.address else f"{address}:{self.port}"

    @property
    def connected(self) -> bool:
        return self.outcome not in ("refused", "timeout", "unreachable", "dns_failed", "deadline", "interrupted")


@dataclass(frozen=True, slots=True, kw_only=True)
class Round:
    """One probe of every watched address. ``number`` counts from 1 and is never reused, across restarts too."""

    number: int
    started_at: datetime
    finished_at: datetime
    observations: tuple[Observation, ...]
    findings: tuple[FindingMark, ...] = ()  # findings about no single address (e.g. the odd node among siblings)
    complete: bool = True  # False when the watch was stopped before every address was probed

    @property
    def duration_seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


class AlertKind(str, enum.Enum):
    """The changes that raise an alert."""

    CERTIFICATE_CHANGED = "certificate_changed"  # the leaf served on an address is another certificate
    ODD_NODE = "odd_node"  # an address serves a certificate its siblings behind the same name do not
    INTERMEDIATE_DROPPED = "intermediate_dropped"  # the chain served lost a certificate it had
    CHAIN_DEGRADED = "chain_degraded"  # the chain as served was trusted and is no longer
    NAME_NOT_COVERED = "name_not_covered"  # the name Exchange Online expects is no longer covered
    TLS_VERSIONS_CHANGED = "tls_versions_changed"  # the set of accepted TLS versions changed
    STARTTLS_GONE = "starttls_gone"  # STARTTLS was offered and is not
    UNREACHABLE = "unreachable"  # the address answered before and does not now
    RECOVERED = "recovered"  # an address that had failed answers again
    FINDING_NEW = "finding_new"
    FINDING_CLEARED = "finding_cleared"
    EXPIRY_THRESHOLD = "expiry_threshold"  # the leaf crossed 30, 14, 7 or 1 days before NotAfter
    EXPECTED_CERT_NOT_SERVED = "expected_cert_not_served"  # not the certificate the connectors name


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """One change on one address (or one name), what it was and what it is now, and the fix."""

    kind: AlertKind
    severity: Severity
    label: str  # the address as Observation.label shows it, or the name for a watch-wide alert
    host: str
    address: str
    port: int
    summary: str  # one line a person reads first
    before: tuple[tuple[str, str], ...] = ()  # ("thumbprint", "AB12..."), ("issuer", ...), ("not_before", ...)
    after: tuple[tuple[str, str], ...] = ()
    fix: str = ""  # the finding's remediation, PowerShell safe to paste
    finding_key: str | None = None
    round_number: int
    raised_at: datetime

    @property
    def fault_key(self) -> str:
        """What the alert is about, the same in every round: the finding on the address, else its kind there.
        The last delivery about it is what --renotify counts from."""
        return f"{self.label}|{self.finding_key}" if self.finding_key else f"{self.kind.value}|{self.label}"

    @property
    def dedupe_key(self) -> str:
        """One event: this change as the round ``round_number`` observed it (a reminder is an event of its own).
        The same key is the very same event (a round probed again after a crash): never delivered twice."""
        reminder = "still|" if self.summary.startswith(STILL) else ""
        return f"{self.round_number}|{reminder}{self.kind.value}|{self.label}|{self.finding_key or ''}"
