"""The nouns: immutable records that evidence readers produce and checks consume.

Every record keeps where it came from (``Source``) so that a finding can cite file and line.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


class RootCAType(str, enum.Enum):
    """Exchange's CertificateAuthorityType: which store the certificate's root was found in."""

    NONE = "None"
    THIRD_PARTY = "ThirdParty"
    ENTERPRISE = "Enterprise"
    REGISTRY = "Registry"
    GROUP_POLICY = "GroupPolicy"
    UNKNOWN = "Unknown"


class CertificateStatus(str, enum.Enum):
    VALID = "Valid"
    DATE_INVALID = "DateInvalid"
    INVALID = "Invalid"
    PENDING_REQUEST = "PendingRequest"
    REVOCATION_CHECK_FAILURE = "RevocationCheckFailure"
    REVOKED = "Revoked"
    UNKNOWN = "Unknown"
    UNTRUSTED = "Untrusted"


class TraceStatus(str, enum.Enum):
    NONE = "None"
    GETTING_STATUS = "GettingStatus"
    FAILED = "Failed"
    PENDING = "Pending"
    DELIVERED = "Delivered"
    EXPANDED = "Expanded"
    QUARANTINED = "Quarantined"
    FILTERED_AS_SPAM = "FilteredAsSpam"


class ServerBasis(str, enum.Enum):
    """How a record was attributed to a server, strongest first."""

    IDENTITY = "Identity property"
    PS_COMPUTER_NAME = "PSComputerName property"
    SERVER_PROPERTY = "Server property"
    COMMAND_LINE = "-Server on the command line in the file"
    FOLDER = "folder name"


class CheckStatus(str, enum.Enum):
    FIRED = "fired"
    PASSED = "passed"
    NOT_APPLICABLE = "not_applicable"
    CRASHED = "crashed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """A place in an evidence file. ``line`` is 1-based; None for whole-file facts."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line is not None else self.path


class Cited:
    """A record read from evidence, whose properties each have a line to cite."""

    __slots__ = ()
    source: Source
    field_lines: Mapping[str, int]

    def cite(self, prop: str) -> Source:
        """The source line of one property (a canonical key, e.g. "rootcatype"), or the record's first line."""
        line = self.field_lines.get(prop)
        return Source(path=self.source.path, line=line if line is not None else self.source.line)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerRef:
    name: str
    basis: ServerBasis

    @property
    def key(self) -> str:
        """Servers are compared by short host name, case-insensitively (EXCAS1 == excas1.contoso.com)."""
        return self.name.split(".", 1)[0].casefold()


def certificate_identity_keys(thumbprint: str | None, issuer: str | None, serial: str | None) -> tuple[str, ...]:
    """One certificate, however it was seen: by thumbprint, or by issuer and serial number."""
    keys = []
    if thumbprint:
        keys.append("thumbprint:" + thumbprint.upper())
    if issuer and serial:
        keys.append("issuer+serial:" + " ".join(issuer.split()).casefold() + "|" + serial.upper())
    return tuple(keys)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeCertificate(Cited):
    """One certificate as ``Get-ExchangeCertificate`` reported it on one server."""

    source: Source
    field_lines: Mapping[str, int] = field(default_factory=dict)
    server: ServerRef | None = None
    thumbprint: str | None = None
    subject: str | None = None
    issuer: str | None = None
    serial_number: str | None = None
    certificate_domains: tuple[str, ...] = ()
    certificate_domains_truncated: bool = False
    services: frozenset[str] | None = None
    services_truncated: bool = False
    root_ca_type: RootCAType | None = None
    status: CertificateStatus | None = None
    is_self_signed: bool | None = None
    has_private_key: bool | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    public_key_size: int | None = None
    friendly_name: str | None = None


    @property
    def identity_keys(self) -> tuple[str, ...]:
        """Keys that identify the certificate across servers and files."""
        return certificate_identity_keys(self.thumbprint, self.issuer, self.serial_number)

    @property
    def has_smtp(self) -> bool | None:
        if self.services is None:
            return None
        if "SMTP" in self.services:
            return True
        return None if self.services_truncated else False

    @property
    def display_name(self) -> str:
        if self.subject:
            return self.subject
        if self.certificate_domains:
            return ", ".join(self.certificate_domains)
        if self.thumbprint:
            return self.thumbprint
        return f"serial {self.serial_number}" if self.serial_number else "(unnamed certificate)"

    @property
    def is_ca_issued(self) -> bool | None:
        if self.is_self_signed is not None:
            return not self.is_self_signed
        if self.issuer and self.subject:
            return " ".join(self.issuer.split()).casefold() != " ".join(self.subject.split()).casefold()
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateFile:
    """One certificate read from a file (PEM, DER, PKCS#7, PKCS#12, a base64 RawData blob), as Windows shows it.

    ``subject`` and ``issuer`` are rendered exactly as X509Certificate2.Subject / .Issuer on Windows, so they
    compare with Get-ExchangeCertificate output and build TlsCertificateName.
    """

    source: Source
    label: str  # where in the file: "leaf.pem, certificate 2"
    der: bytes
    thumbprint: str
    serial_number: str
    subject: str
    issuer: str
    subject_der: bytes
    issuer_der: bytes
    not_before: datetime
    not_after: datetime
    public_key_algorithm: str
    public_key_size: int
    signature_algorithm: str
    signature_hash: str | None
    certificate_domains: tuple[str, ...] = ()
    dns_names: tuple[str, ...] = ()
    is_self_signed: bool = False
    is_ca: bool | None = None
    key_usage: tuple[str, ...] = ()
    extended_key_usage: tuple[tuple[str, str], ...] = ()  # (friendly name, OID)
    ca_issuers: tuple[str, ...] = ()
    subject_key_id: str | None = None
    authority_key_id: str | None = None
    has_private_key: bool | None = None

    @property
    def identity_keys(self) -> tuple[str, ...]:
        return certificate_identity_keys(self.thumbprint, self.issuer, self.serial_number)

    @property
    def tls_certificate_name(self) -> str:
        return f"<I>{self.issuer}<S>{self.subject}"


class ChainEnd(str, enum.Enum):
    """Where building the chain from the leaf upwards stopped."""

    TRUSTED = "trusted"  # reached a trust anchor
    MISSING_ISSUER = "missing_issuer"  # the next issuer was not supplied and is not an anchor
    UNTRUSTED_ROOT = "untrusted_root"  # reached a self-signed certificate that is not an anchor


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainAnalysis:
    """The chain built for one leaf from the certificates given and the trust anchors, without fetching."""

    leaf: CertificateFile
    path: tuple[CertificateFile, ...]  # leaf first; the anchor last when TRUSTED
    end: ChainEnd
    anchor_origin: str | None = None  # "Mozilla root store", "--trust FILE", or None
    missing_issuer: str | None = None  # the Windows name of the issuer that could not be found
    missing_issuer_urls: tuple[str, ...] = ()  # caIssuers URLs of the last certificate in the path
    served_extra: tuple[CertificateFile, ...] = ()  # supplied certificates that are not on the path
    fetched: tuple[str, ...] = ()  # thumbprints of path certificates downloaded with --fetch-aia

    @property
    def fetched_links(self) -> tuple[CertificateFile, ...]:
        return tuple(c for c in self.path if c.thumbprint in self.fetched)


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

    @property
    def connected(self) -> bool:
        return self not in (ProbeOutcome.REFUSED, ProbeOutcome.TIMEOUT, ProbeOutcome.UNREACHABLE,
                            ProbeOutcome.DNS_FAILED, ProbeOutcome.DEADLINE)


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscriptLine:
    step: str  # connect, banner, ehlo, starttls, handshake, quit
    direction: str  # ">" sent, "<" received, "*" note
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeResult:
    """What one address said and presented, step by step. Facts only; checks/wire.py judges them."""

    host: str  # the name probed (or the literal address)
    address: str
    port: int
    expected_name: str  # the name the certificate must cover (--expect-name, else host)
    outcome: ProbeOutcome
    stage: str  # the step where it ended
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

    @property
    def label(self) -> str:
        address = f"[{self.address}]" if ":" in self.address else self.address
        if not self.address:
            return f"{self.host}:{self.port}"
        return f"{self.host}[{address}]:{self.port}" if self.host != self.address else f"{address}:{self.port}"

    @property
    def source(self) -> Source:
        return Source(path=f"probe {self.label}")

    def accepted(self, version: str) -> bool | None:
        return dict(self.versions_accepted).get(version)


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceEntry(Cited):
    """One row of ``Get-MessageTrace`` (Exchange Online)."""

    source: Source
    field_lines: Mapping[str, int] = field(default_factory=dict)
    message_trace_id: str | None = None
    message_id: str | None = None
    received: datetime | None = None
    sender_address: str | None = None
    recipient_address: str | None = None
    subject: str | None = None
    status: TraceStatus | None = None
    status_text: str | None = None
    from_ip: str | None = None
    to_ip: str | None = None
    size: int | None = None



@dataclass(frozen=True, slots=True, kw_only=True)
class SendConnector(Cited):
    """On-premises ``Get-SendConnector``."""

    source: Source
    field_lines: Mapping[str, int] = field(default_factory=dict)
    name: str
    enabled: bool | None = None
    fqdn: str | None = None
    tls_certificate_name: str | None = None
    require_tls: bool | None = None
    tls_auth_level: str | None = None
    tls_domain: str | None = None
    smart_hosts: tuple[str, ...] = ()
    address_spaces: tuple[str, ...] = ()
    cloud_services_mail_enabled: bool | None = None
    source_transport_servers: tuple[str, ...] = ()


    @property
    def is_hybrid(self) -> bool:
        """HCW's "Outbound to Office 365": cloud mail enabled, or routed to the tenant's EOP or onmicrosoft.com."""
        return bool(self.cloud_services_mail_enabled) or any(
            h.casefold().endswith(".mail.protection.outlook.com") for h in self.smart_hosts) or any(
            ".mail.onmicrosoft.com" in a.casefold() for a in self.address_spaces)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiveConnector(Cited):
    """On-premises ``Get-ReceiveConnector`` (one server's connector)."""

    source: Source
    field_lines: Mapping[str, int] = field(default_factory=dict)
    identity: str
    server: ServerRef | None = None
    enabled: bool | None = None
    fqdn: str | None = None
    tls_certificate_name: str | None = None
    auth_mechanism: tuple[str, ...] = ()
    tls_domain_capabilities: tuple[str, ...] = ()
    bindings: tuple[str, ...] = ()
    transport_role: str | None = None


    @property
    def accepts_cloud_mail(self) -> bool:
        return any("acceptcloudservicesmail" in c.casefold() for c in self.tls_domain_capabilities)


@dataclass(frozen=True, slots=True, kw_only=True)
class HybridConfiguration(Cited):
    source: Source
    field_lines: Mapping[str, int] = field(default_factory=dict)
    tls_certificate_name: str | None = None
    receiving_transport_servers: tuple[str, ...] = ()
    sending_transport_servers: tuple[str, ...] = ()
    edge_transport_servers: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    on_premises_smart_host: str | None = None
    features: tuple[str, ...] = ()



@dataclass(frozen=True, slots=True, kw_only=True)
class OnlineConnector(Cited):
    """Exchange Online ``Get-OutboundConnector`` or ``Get-InboundConnector``."""

    source: Source
    field_lines: Mapping[str, int] = field(default_factory=dict)
    direction: str  # "outbound" (Exchange Online -> on-premises) or "inbound"
    name: str
    enabled: bool | None = None
    connector_type: str | None = None
    cloud_services_mail_enabled: bool | None = None
    smart_hosts: tuple[str, ...] = ()
    tls_domain: str | None = None
    tls_settings: str | None = None
    recipient_domains: tuple[str, ...] = ()
    tls_sender_certificate_name: str | None = None
    require_tls: bool | None = None
    restrict_domains_to_certificate: bool | None = None


    @property
    def is_hybrid(self) -> bool:
        return (self.connector_type or "").casefold() == "onpremises" or bool(self.cloud_services_mail_enabled)


@dataclass(frozen=True, slots=True, kw_only=True)
class TransportService:
    source: Source
    server: str
    internal_transport_certificate_thumbprint: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryError:
    """An error text where mail is stuck: a queue's LastError, or a message trace detail (Defer, Fail)."""

    source: Source
    origin: str  # "queue EXCAS1\\4", "message trace detail"
    text: str
    server: str | None = None
    when: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SkippedRecord:
    """A record that was read but is of a kind hybridtls does not use (yet)."""

    source: Source
    properties: tuple[str, ...]
    type_hint: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """Something about the input a person should know: an assumption made, a value not trusted."""

    source: Source
    message: str
    hint: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InputProblem:
    """A file that could not be used at all."""

    source: Source
    message: str
    hint: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceSet:
    """Everything read from the paths given to ``check``."""

    files: tuple[str, ...] = ()
    certificates: tuple[ExchangeCertificate, ...] = ()
    certificate_files: tuple[CertificateFile, ...] = ()
    chains: tuple[ChainAnalysis, ...] = ()
    probes: tuple[ProbeResult, ...] = ()
    send_connectors: tuple[SendConnector, ...] = ()
    receive_connectors: tuple[ReceiveConnector, ...] = ()
    hybrid_configurations: tuple[HybridConfiguration, ...] = ()
    online_connectors: tuple[OnlineConnector, ...] = ()
    transport_services: tuple[TransportService, ...] = ()
    delivery_errors: tuple[DeliveryError, ...] = ()
    trace_entries: tuple[TraceEntry, ...] = ()
    skipped: tuple[SkippedRecord, ...] = ()
    notices: tuple[Notice, ...] = ()
    problems: tuple[InputProblem, ...] = ()

    @property
    def usable(self) -> bool:
        return bool(self.certificates or self.trace_entries or self.certificate_files or self.probes
                    or self.send_connectors or self.receive_connectors or self.hybrid_configurations
                    or self.online_connectors or self.transport_services or self.delivery_errors)


@dataclass(frozen=True, slots=True, kw_only=True)
class Citation:
    """One piece of evidence behind a finding: where, and what it says there."""

    source: Source
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    check_id: str
    severity: Severity
    subject: str
    message: str
    evidence: tuple[Citation, ...] = ()
    remediation: str = ""
    server: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckOutcome:
    """What one check concluded over the whole evidence set."""

    check_id: str
    status: CheckStatus
    findings: tuple[Finding, ...] = ()
    reason: str = ""
