"""Exchange configuration as the cmdlets report it: certificates per server, connectors, the hybrid
configuration, transport services, message traces and queue errors."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from hybridtls.model.dates import DateReadings, possible_dates
from hybridtls.model.source import Cited, ServerRef, Source, certificate_identity_keys


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


class ConnectorDirection(str, enum.Enum):
    """Which way an Exchange Online connector carries mail."""

    OUTBOUND = "outbound"  # Exchange Online -> on-premises (Get-OutboundConnector)
    INBOUND = "inbound"  # on-premises -> Exchange Online (Get-InboundConnector)


class TraceStatus(str, enum.Enum):
    NONE = "None"
    GETTING_STATUS = "GettingStatus"
    FAILED = "Failed"
    PENDING = "Pending"
    DELIVERED = "Delivered"
    EXPANDED = "Expanded"
    QUARANTINED = "Quarantined"
    FILTERED_AS_SPAM = "FilteredAsSpam"


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
    # NotBefore / NotAfter when day and month could be either way round and nothing settles it (the date is then None)
    not_before_readings: DateReadings | None = None
    not_after_readings: DateReadings | None = None
    public_key_size: int | None = None
    friendly_name: str | None = None

    def __post_init__(self) -> None:
        if (self.not_before is not None and self.not_before_readings is not None
                or self.not_after is not None and self.not_after_readings is not None):
            raise ValueError("a date is either read or held as two readings, not both")

    @property
    def possible_not_before(self) -> tuple[datetime, ...]:
        """NotBefore as the evidence gives it: nothing, one date, or both readings of an ambiguous one."""
        return possible_dates(self.not_before, self.not_before_readings)

    @property
    def possible_not_after(self) -> tuple[datetime, ...]:
        """NotAfter as the evidence gives it: nothing, one date, or both readings of an ambiguous one."""
        return possible_dates(self.not_after, self.not_after_readings)

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
class ConfiguredBy:
    """A record read from a command line (``Set-SendConnector ...`` in a script, a change ticket, an HCW log), not
    from the cmdlet's output: what the command sets, as configured by it, and nothing of what it leaves alone."""

    command: str  # "Set-SendConnector", as written
    parameters: tuple[str, ...]  # the properties it sets, as canonical keys ("tlscertificatename")
    unknown: Mapping[str, str] = field(default_factory=dict)  # key -> the variable or expression it is set from

    def sets(self, prop: str) -> bool:
        """Whether the command gives the property a value the line shows (not a variable's)."""
        return prop in self.parameters and prop not in self.unknown


def states(record: object, prop: str) -> bool:
    """Whether the record says what the property is: always for cmdlet output; for a command, when it sets it."""
    configured: ConfiguredBy | None = getattr(record, "configured_by", None)
    return configured is None or configured.sets(prop)


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
    configured_by: ConfiguredBy | None = None  # read from a command line, not the cmdlet's output


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
    configured_by: ConfiguredBy | None = None  # read from a command line, not the cmdlet's output


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
    configured_by: ConfiguredBy | None = None  # read from a command line, not the cmdlet's output


@dataclass(frozen=True, slots=True, kw_only=True)
class OnlineConnector(Cited):
    """Exchange Online ``Get-OutboundConnector`` or ``Get-InboundConnector``."""

    source: Source
    field_lines: Mapping[str, int] = field(default_factory=dict)
    direction: ConnectorDirection
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
    configured_by: ConfiguredBy | None = None  # read from a command line, not the cmdlet's output
    smtp_dane_mode: str | None = None  # outbound only: SmtpDaneMode (Opportunistic, Mandatory, None), since 2026
    mta_sts_mode: str | None = None  # outbound only: MtaStsMode (Opportunistic, None), since 2026
    tenant: str | None = None  # the tenant the record names (OrganizationId, OrganizationalUnitRoot, TenantId)


    @property
    def is_hybrid(self) -> bool:
        return (self.connector_type or "").casefold() == "onpremises" or bool(self.cloud_services_mail_enabled)


@dataclass(frozen=True, slots=True, kw_only=True)
class TransportService:
    source: Source
    server: str
    internal_transport_certificate_thumbprint: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MailQueue:
    """One on-premises queue as ``Get-Queue`` showed it; its LastError is also read as a DeliveryError."""

    source: Source
    identity: str | None = None
    server: str | None = None
    delivery_type: str | None = None
    status: str | None = None  # as given: Ready, Active, Retry, Suspended ...
    message_count: int | None = None
    next_hop_domain: str | None = None
    last_error: str | None = None
    last_retry_time: datetime | None = None

    @property
    def held(self) -> bool:
        """Mail waits here: the queue is in Retry, or suspended."""
        return (self.status or "").casefold() in ("retry", "suspended")


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryError:
    """An error text where mail is stuck: a queue's LastError, or a message trace detail (Defer, Fail)."""

    source: Source
    origin: str  # "queue EXCAS1\\4", "message trace detail"
    text: str
    server: str | None = None
    when: datetime | None = None
