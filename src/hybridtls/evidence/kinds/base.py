"""Which kind of object a record describes, and how to turn it into a model record.

A kind is recognised from its properties (and the ``#TYPE`` line of a CSV, where there is one). To teach
hybridtls a new cmdlet's output, add a ``RecordKind`` to ``KINDS``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TypeVar, Union

from hybridtls.evidence.console import command_server
from hybridtls.evidence.dates import AmbiguousDate, DateOrder, parse_datetime
from hybridtls.evidence.raw import RawField, RawRecord, canonical_key
from hybridtls.evidence.structured import shallow_hint
from hybridtls.model import (
    CertificateStatus,
    ConnectorDirection,
    DeliveryError,
    ExchangeCertificate,
    HybridConfiguration,
    Notice,
    OnlineConnector,
    ReceiveConnector,
    RootCAType,
    SendConnector,
    ServerBasis,
    ServerRef,
    Source,
    TraceEntry,
    TraceStatus,
    TransportService,
)

Built = Union[  # noqa: UP007 - a runtime alias, Python 3.10 compatible
    ExchangeCertificate, TraceEntry, SendConnector, ReceiveConnector, HybridConfiguration, OnlineConnector,
    TransportService, DeliveryError, None]
E = TypeVar("E", bound=enum.Enum)

# CertificateAuthorityType's order as documented; only 0 (None) and 3 (Registry) are confirmed by real data.
_ROOT_CA_NUMBERS = {0: RootCAType.NONE, 1: RootCAType.THIRD_PARTY, 2: RootCAType.ENTERPRISE,
                    3: RootCAType.REGISTRY, 4: RootCAType.GROUP_POLICY, 5: RootCAType.UNKNOWN}
_ROOT_CA_CONFIRMED = {0, 3}
# CertificateStatus by number: only 1 (Valid) is confirmed by real data; the rest follow the documented order.
_STATUS_NUMBERS = {0: CertificateStatus.UNKNOWN, 1: CertificateStatus.VALID, 2: CertificateStatus.REVOKED,
                   3: CertificateStatus.DATE_INVALID, 4: CertificateStatus.UNTRUSTED, 5: CertificateStatus.INVALID,
                   6: CertificateStatus.REVOCATION_CHECK_FAILURE, 7: CertificateStatus.PENDING_REQUEST}
_SERVICE_FLAGS = {1: "IMAP", 2: "POP", 4: "UM", 8: "IIS", 16: "SMTP", 32: "Federation", 64: "UMCallRouter"}
# Positions in the default table's Services column, e.g. "IP.WS..": I P U W S, then two rarely used flags.
_SERVICE_LETTERS = {"I": "IMAP", "P": "POP", "U": "UM", "W": "IIS", "S": "SMTP", "F": "Federation", "C": "UMCallRouter"}
_SERVICE_NAMES = {name.casefold(): name for name in _SERVICE_FLAGS.values()}
_THUMBPRINT = re.compile(r"^[0-9A-Fa-f]{40}$")
_TRACE_STATUSES = {status.value.casefold(): status for status in TraceStatus}


@dataclass
class BuildContext:
    """What a builder may use besides the record: the file's date order and where the file sits."""

    path: str
    date_order: DateOrder | None
    folder_server: str | None
    notices: list[Notice] = field(default_factory=list)
    ambiguous_dates: list[Source] = field(default_factory=list)
    ordered_dates: int = 0  # dates read with date_order that could not be read without it

    def note(self, line: int | None, message: str, hint: str | None = None) -> None:
        self.notices.append(Notice(source=Source(path=self.path, line=line), message=message, hint=hint))


@dataclass(frozen=True)
class RecordKind:
    name: str
    required: tuple[frozenset[str], ...]  # each set: at least one of these keys must be present
    indicative: frozenset[str]
    date_fields: frozenset[str]
    type_names: tuple[str, ...]
    build: Callable[[RawRecord, BuildContext], Built]

    def score(self, keys: AbstractSet[str], type_hint: str | None) -> int:
        hint = (type_hint or "").rsplit(".", 1)[-1]
        if hint and hint in self.type_names:
            return 1000
        if not all(keys & options for options in self.required):
            return 0
        return 1 + len(keys & self.indicative)


def _keys(*labels: str) -> frozenset[str]:
    return frozenset(canonical_key(label) for label in labels)


# ---------------------------------------------------------------- value helpers


def _text(record: RawRecord, ctx: BuildContext, *keys: str, trusted: bool = True) -> str | None:
    raw = record.get(*keys)
    if raw is None:
        return None
    value = raw.value
    if not (value.shallow or value.truncated or value.items is not None):  # the common case, kept cheap
        return value.text.strip() or None
    if value.empty:
        return None
    if raw.value.shallow:
        ctx.note(raw.line, f"{raw.label} reads {raw.value.text!r}, a type name, not a value", shallow_hint())
        return None
    if raw.value.truncated and trusted:
        ctx.note(raw.line, f"{raw.label} is cut short ({raw.value.text!r}); not used as a whole value",
                 "widen the console or use Format-List, or set $FormatEnumerationLimit = -1 before exporting")
        return None
    return raw.value.text.strip()


def _bool(record: RawRecord, ctx: BuildContext, *keys: str) -> bool | None:
    raw = record.get(*keys)
    if raw is None or raw.value.empty:
        return None
    value = raw.value.text.strip().casefold()
    if value in ("true", "1", "$true", "yes"):
        return True
    if value in ("false", "0", "$false", "no"):
        return False
    ctx.note(raw.line, f"{raw.label} should be True or False, found {raw.value.text!r}; ignored")
    return None


def _int(record: RawRecord, ctx: BuildContext, *keys: str) -> int | None:
    raw = record.get(*keys)
    if raw is None or raw.value.empty:
        return None
    digits = raw.value.text.strip()
    if digits.isdecimal():  # the common case: what \d+ matches
        return int(digits)
    digits = digits.replace(",", "").replace("\u00a0", "")
    if re.fullmatch(r"\d+", digits):
        return int(digits)
    ctx.note(raw.line, f"{raw.label} should be a whole number, found {raw.value.text!r}; ignored")
    return None


def _date(record: RawRecord, ctx: BuildContext, *keys: str) -> datetime | None:
    raw = record.get(*keys)
    if raw is None or raw.value.empty:
        return None
    try:
        try:
            return parse_datetime(raw.value.text)
        except AmbiguousDate:
            if ctx.date_order is None:
                ctx.ambiguous_dates.append(Source(path=ctx.path, line=raw.line))
                return None
            ctx.ordered_dates += 1
            return parse_datetime(raw.value.text, ctx.date_order)
    except ValueError as exc:
        ctx.note(raw.line, f"{raw.label}: {exc}; ignored")
        return None


def _enum_value(raw: RawField, ctx: BuildContext, enum_type: type[E], numbers: dict[int, E], confirmed: set[int]) -> E | None:
    if raw.value.number is not None:
        number = raw.value.number
        if number not in numbers:
            ctx.note(raw.line, f"{raw.label} has the number {number}, which maps to no known value; ignored")
            return None
        mapped = numbers[number]
        if number not in confirmed:
            ctx.note(raw.line, f"{raw.label} {number} read as {mapped.value}: the number is mapped by the "
                     f"documented enum order, which real exports confirm only for {sorted(confirmed)}",
                     "export enums as names: Select-Object @{n='" + raw.label + "';e={$_." + raw.label +
                     ".ToString()}} or use Format-List")
        return mapped
    text = raw.value.text.strip()
    for member in enum_type:
        if member.value.casefold() == text.casefold():
            return member
    ctx.note(raw.line, f"{raw.label} has the unknown value {text!r}; ignored")
    return None


def _services(record: RawRecord, ctx: BuildContext) -> tuple[frozenset[str] | None, bool]:
    raw = record.get("Services", "ServicesStringForm")
    if raw is None:
        return None, False
    value = raw.value
    if value.number is not None:
        return frozenset(name for bit, name in _SERVICE_FLAGS.items() if value.number & bit), False
    text = value.text.strip().strip("{}")
    if not text or text.casefold() == "none":
        return frozenset(), False
    if value.shallow:
        ctx.note(raw.line, f"Services reads {value.text!r}, a type name, not a value", shallow_hint())
        return None, False
    if re.fullmatch(r"[A-Z.]{5,8}", text) and "." in text or re.fullmatch(r"[IPUWSFC]{5,8}", text):
        return frozenset(_SERVICE_LETTERS[ch] for ch in text if ch in _SERVICE_LETTERS), False
    names = set()
    for part in re.split(r"[,;]\s*|\s+", text.rstrip(".\u2026")):
        if part:
            names.add(_SERVICE_NAMES.get(part.casefold(), part))
    return frozenset(names), value.truncated


def _domains(record: RawRecord, ctx: BuildContext) -> tuple[tuple[str, ...], bool]:
    raw = record.get("CertificateDomains", "DnsNameList")
    if raw is None or raw.value.empty:
        return (), False
    if raw.value.shallow:
        ctx.note(raw.line, f"{raw.label} reads {raw.value.text!r}, a type name, not a value", shallow_hint())
        return (), True
    items = raw.value.items
    if items is None:
        items = tuple(p for p in re.split(r"[,;\s]+", raw.value.text.rstrip(".\u2026")) if p)
    return tuple(item.strip() for item in items if item.strip()), raw.value.truncated


def _server(record: RawRecord, ctx: BuildContext) -> ServerRef | None:
    identity = record.get("Identity")
    if identity and "\\" in identity.value.text:
        return ServerRef(name=identity.value.text.split("\\", 1)[0].strip(), basis=ServerBasis.IDENTITY)
    for keys, basis in ((("PSComputerName",), ServerBasis.PS_COMPUTER_NAME),
                        (("Server", "ServerName"), ServerBasis.SERVER_PROPERTY)):
        raw = record.get(*keys)
        if raw and not raw.value.empty and not raw.value.shallow:
            return ServerRef(name=raw.value.text.strip(), basis=basis)
    from_command = command_server(record.command)
    if from_command:
        return ServerRef(name=from_command, basis=ServerBasis.COMMAND_LINE)
    if ctx.folder_server:
        return ServerRef(name=ctx.folder_server, basis=ServerBasis.FOLDER)
    return None


# ---------------------------------------------------------------- builders


def build_certificate(record: RawRecord, ctx: BuildContext) -> ExchangeCertificate:
    thumbprint = _text(record, ctx, "Thumbprint")
    identity = _text(record, ctx, "Identity")
    if not thumbprint and identity and "\\" in identity:
        thumbprint = identity.rsplit("\\", 1)[1].strip()
    if thumbprint and not _THUMBPRINT.match(thumbprint):
        raw = record.get("Thumbprint", "Identity")
        ctx.note(raw.line if raw else record.source.line, f"Thumbprint {thumbprint!r} is masked or malformed; "
                 "the certificate is identified by Issuer and SerialNumber instead")
        thumbprint = None
    serial = _text(record, ctx, "SerialNumber")
    services, services_truncated = _services(record, ctx)
    domains, domains_truncated = _domains(record, ctx)
    root_raw = record.get("RootCAType")
    status_raw = record.get("Status")
    return ExchangeCertificate(
        source=record.source,
        field_lines=record.lines,
        server=_server(record, ctx),
        thumbprint=thumbprint.upper() if thumbprint else None,
        subject=_text(record, ctx, "Subject"),
        issuer=_text(record, ctx, "Issuer"),
        serial_number=re.sub(r"\s", "", serial).upper() if serial else None,
        certificate_domains=domains,
        certificate_domains_truncated=domains_truncated,
        services=services,
        services_truncated=services_truncated,
        root_ca_type=_enum_value(root_raw, ctx, RootCAType, _ROOT_CA_NUMBERS, _ROOT_CA_CONFIRMED)
        if root_raw and not root_raw.value.empty else None,
        status=_enum_value(status_raw, ctx, CertificateStatus, _STATUS_NUMBERS, {1})
        if status_raw and not status_raw.value.empty else None,
        is_self_signed=_bool(record, ctx, "IsSelfSigned"),
        has_private_key=_bool(record, ctx, "HasPrivateKey"),
        not_before=_date(record, ctx, "NotBefore"),
        not_after=_date(record, ctx, "NotAfter"),
        public_key_size=_int(record, ctx, "PublicKeySize"),
        friendly_name=_text(record, ctx, "FriendlyName", trusted=False),
    )


def build_trace_entry(record: RawRecord, ctx: BuildContext) -> TraceEntry:
    status_text = _text(record, ctx, "Status", trusted=False)
    status = None
    if status_text:
        status = _TRACE_STATUSES.get(status_text.casefold())
        if status is None:
            raw = record.get("Status")
            ctx.note(raw.line if raw else None, f"message trace Status {status_text!r} is not a known status")
    return TraceEntry(
        source=record.source,
        field_lines=record.lines,
        message_trace_id=_text(record, ctx, "MessageTraceId"),
        message_id=_text(record, ctx, "MessageId", trusted=False),
        received=_date(record, ctx, "Received", "Date"),
        sender_address=_text(record, ctx, "SenderAddress"),
        recipient_address=_text(record, ctx, "RecipientAddress"),
        subject=_text(record, ctx, "Subject", trusted=False),
        status=status,
        status_text=status_text,
        from_ip=_text(record, ctx, "FromIP"),
        to_ip=_text(record, ctx, "ToIP"),
        size=_int(record, ctx, "Size"),
    )


EXCHANGE_CERTIFICATE = RecordKind(
    name="ExchangeCertificate",
    required=(_keys("Thumbprint", "SerialNumber", "Identity"),
              _keys("RootCAType", "Services", "CertificateDomains", "IsSelfSigned", "HasPrivateKey", "Subject")),
    indicative=_keys("Thumbprint", "Services", "Subject", "Issuer", "RootCAType", "NotAfter", "NotBefore",
                     "CertificateDomains", "IsSelfSigned", "HasPrivateKey", "PublicKeySize", "SerialNumber",
                     "Status", "AccessRules"),
    date_fields=_keys("NotAfter", "NotBefore"),
    type_names=("ExchangeCertificate",),
    build=build_certificate,
)

MESSAGE_TRACE = RecordKind(
    name="MessageTrace",
    required=(_keys("Status"), _keys("RecipientAddress", "SenderAddress"), _keys("Received", "MessageTraceId")),
    indicative=_keys("MessageTraceId", "MessageId", "Received", "SenderAddress", "RecipientAddress", "FromIP",
                     "ToIP", "Subject", "Size"),
    date_fields=_keys("Received"),
    type_names=("MessageTrace", "MessageTraceV2"),
    build=build_trace_entry,
)

def _items(record: RawRecord, ctx: BuildContext, *keys: str) -> tuple[str, ...]:
    """A multi-valued property however it was exported: {a, b}, "a, b", a JSON list."""
    raw = record.get(*keys)
    if raw is None or raw.value.empty:
        return ()
    if raw.value.shallow:
        ctx.note(raw.line, f"{raw.label} reads {raw.value.text!r}, a type name, not a value", shallow_hint())
        return ()
    if raw.value.truncated:
        ctx.note(raw.line, f"{raw.label} is cut short ({raw.value.text!r}); only the values shown are used",
                 "set $FormatEnumerationLimit = -1 before Format-List")
    if raw.value.items is not None:
        return tuple(i for i in raw.value.items if i)
    return tuple(p.strip() for p in re.split(r"[,;]", raw.value.text.strip().strip("{}")) if p.strip())


def build_send_connector(record: RawRecord, ctx: BuildContext) -> SendConnector:
    return SendConnector(
        source=record.source, field_lines=record.lines,
        name=_text(record, ctx, "Name", "Identity", trusted=False) or "(unnamed send connector)",
        enabled=_bool(record, ctx, "Enabled"), fqdn=_text(record, ctx, "Fqdn"),
        tls_certificate_name=_text(record, ctx, "TlsCertificateName"),
        require_tls=_bool(record, ctx, "RequireTLS"), tls_auth_level=_text(record, ctx, "TlsAuthLevel"),
        tls_domain=_text(record, ctx, "TlsDomain"), smart_hosts=_items(record, ctx, "SmartHosts", "SmartHostsString"),
        address_spaces=_items(record, ctx, "AddressSpaces"),
        cloud_services_mail_enabled=_bool(record, ctx, "CloudServicesMailEnabled"),
        source_transport_servers=_items(record, ctx, "SourceTransportServers"),
    )


def build_receive_connector(record: RawRecord, ctx: BuildContext) -> ReceiveConnector:
    return ReceiveConnector(
        source=record.source, field_lines=record.lines,
        identity=_text(record, ctx, "Identity", "Name", trusted=False) or "(unnamed receive connector)",
        server=_server(record, ctx), enabled=_bool(record, ctx, "Enabled"), fqdn=_text(record, ctx, "Fqdn"),
        tls_certificate_name=_text(record, ctx, "TlsCertificateName"),
        auth_mechanism=_items(record, ctx, "AuthMechanism"),
        tls_domain_capabilities=_items(record, ctx, "TlsDomainCapabilities"),
        bindings=_items(record, ctx, "Bindings"), transport_role=_text(record, ctx, "TransportRole"),
    )


def build_hybrid_configuration(record: RawRecord, ctx: BuildContext) -> HybridConfiguration:
    return HybridConfiguration(
        source=record.source, field_lines=record.lines,
        tls_certificate_name=_text(record, ctx, "TlsCertificateName"),
        receiving_transport_servers=_items(record, ctx, "ReceivingTransportServers"),
        sending_transport_servers=_items(record, ctx, "SendingTransportServers"),
        edge_transport_servers=_items(record, ctx, "EdgeTransportServers"),
        domains=_items(record, ctx, "Domains"), on_premises_smart_host=_text(record, ctx, "OnPremisesSmartHost"),
        features=_items(record, ctx, "Features"),
    )


def _online_connector(record: RawRecord, ctx: BuildContext, direction: ConnectorDirection) -> OnlineConnector:
    return OnlineConnector(
        source=record.source, field_lines=record.lines, direction=direction,
        name=_text(record, ctx, "Name", "Identity", trusted=False) or f"(unnamed {direction.value} connector)",
        enabled=_bool(record, ctx, "Enabled"), connector_type=_text(record, ctx, "ConnectorType"),
        cloud_services_mail_enabled=_bool(record, ctx, "CloudServicesMailEnabled"),
        smart_hosts=_items(record, ctx, "SmartHosts"), tls_domain=_text(record, ctx, "TlsDomain"),
        tls_settings=_text(record, ctx, "TlsSettings"), recipient_domains=_items(record, ctx, "RecipientDomains"),
        tls_sender_certificate_name=_text(record, ctx, "TlsSenderCertificateName"),
        require_tls=_bool(record, ctx, "RequireTls"),
        restrict_domains_to_certificate=_bool(record, ctx, "RestrictDomainsToCertificate"),
    )


def build_outbound_connector(record: RawRecord, ctx: BuildContext) -> OnlineConnector:
    return _online_connector(record, ctx, ConnectorDirection.OUTBOUND)


def build_inbound_connector(record: RawRecord, ctx: BuildContext) -> OnlineConnector:
    return _online_connector(record, ctx, ConnectorDirection.INBOUND)


def build_transport_service(record: RawRecord, ctx: BuildContext) -> TransportService:
    server = _text(record, ctx, "Name", "Identity", "Server", trusted=False) or (ctx.folder_server or "?")
    return TransportService(source=record.source, server=server,
                            internal_transport_certificate_thumbprint=_text(
                                record, ctx, "InternalTransportCertificateThumbprint"))


def build_queue(record: RawRecord, ctx: BuildContext) -> DeliveryError | None:
    error = _text(record, ctx, "LastError", trusted=False)
    if not error:
        return None
    identity = _text(record, ctx, "Identity", trusted=False) or "?"
    server = _server(record, ctx)
    raw = record.get("LastError")
    return DeliveryError(source=Source(path=record.source.path, line=raw.line if raw else record.source.line),
                         origin=f"queue {identity} (next hop {_text(record, ctx, 'NextHopDomain', trusted=False) or '?'})",
                         text=error, server=server.name if server else None,
                         when=_date(record, ctx, "LastRetryTime"))


def build_trace_detail(record: RawRecord, ctx: BuildContext) -> DeliveryError | None:
    event = (_text(record, ctx, "Event", trusted=False) or "").casefold()
    detail = " ".join(t for t in (_text(record, ctx, "Detail", trusted=False), _text(record, ctx, "Data", trusted=False))
                      if t)
    if event not in ("defer", "fail", "drop") or not detail:
        return None
    raw = record.get("Detail", "Data")
    return DeliveryError(source=Source(path=record.source.path, line=raw.line if raw else record.source.line),
                         origin=f"message trace detail ({event.capitalize()})", text=detail,
                         when=_date(record, ctx, "Date"))


def _kind(name: str, required: tuple[tuple[str, ...], ...], indicative: tuple[str, ...], build,  # type: ignore[no-untyped-def]
          type_names: tuple[str, ...] = (), dates: tuple[str, ...] = ()) -> RecordKind:
    return RecordKind(name=name, required=tuple(_keys(*group) for group in required), indicative=_keys(*indicative),
                      date_fields=_keys(*dates), type_names=type_names or (name,), build=build)


SEND_CONNECTOR = _kind(
    "SendConnector", (("AddressSpaces",), ("SmartHosts", "DNSRoutingEnabled", "SourceTransportServers")),
    ("TlsCertificateName", "TlsAuthLevel", "TlsDomain", "RequireTLS", "CloudServicesMailEnabled", "Fqdn"),
    build_send_connector, ("SmtpSendConnectorConfig", "SendConnector"))
RECEIVE_CONNECTOR = _kind(
    "ReceiveConnector", (("Bindings",), ("AuthMechanism", "PermissionGroups", "RemoteIPRanges")),
    ("TlsCertificateName", "TlsDomainCapabilities", "TransportRole", "Fqdn", "Banner"), build_receive_connector)
HYBRID_CONFIGURATION = _kind(
    "HybridConfiguration", (("ReceivingTransportServers", "SendingTransportServers"),
                            ("Features", "Domains", "OnPremisesSmartHost", "TlsCertificateName")),
    ("TlsCertificateName", "OnPremisesSmartHost", "Domains", "Features", "EdgeTransportServers"),
    build_hybrid_configuration)
OUTBOUND_CONNECTOR = _kind(
    "OutboundConnector", (("RecipientDomains", "RouteAllMessagesViaOnPremises"), ("ConnectorType",),
                          ("SmartHosts", "UseMXRecord", "TlsSettings")),
    ("TlsDomain", "TlsSettings", "IsTransportRuleScoped", "AllAcceptedDomains", "IsValidated"),
    build_outbound_connector, ("TenantOutboundConnector", "OutboundConnector"))
INBOUND_CONNECTOR = _kind(
    "InboundConnector", (("SenderDomains", "SenderIPAddresses", "TlsSenderCertificateName"), ("ConnectorType",),
                         ("RequireTls", "RestrictDomainsToCertificate", "TlsSenderCertificateName")),
    ("TlsSenderCertificateName", "RestrictDomainsToIPAddresses", "TreatMessagesAsInternal", "EFSkipIPs"),
    build_inbound_connector, ("TenantInboundConnector", "InboundConnector"))
TRANSPORT_SERVICE = _kind(
    "TransportService", (("InternalTransportCertificateThumbprint",),), ("Name", "Identity"), build_transport_service)
QUEUE = _kind(
    "Queue", (("NextHopDomain",), ("DeliveryType", "MessageCount", "LastError")),
    ("LastError", "RetryCount", "NextHopConnector", "LastRetryTime", "TlsDomain"), build_queue,
    ("ExtensibleQueueInfo", "Queue"), ("LastRetryTime",))
MESSAGE_TRACE_DETAIL = _kind(
    "MessageTraceDetail", (("Event",), ("Detail", "Data"), ("MessageTraceId", "Date", "Action")),
    ("MessageTraceId", "Date", "Event", "Action", "Detail", "Data", "RecipientAddress"), build_trace_detail,
    ("MessageTraceDetail",), ("Date",))

KINDS: tuple[RecordKind, ...] = (EXCHANGE_CERTIFICATE, MESSAGE_TRACE, SEND_CONNECTOR, RECEIVE_CONNECTOR,
                                 HYBRID_CONFIGURATION, OUTBOUND_CONNECTOR, INBOUND_CONNECTOR, TRANSPORT_SERVICE,
                                 QUEUE, MESSAGE_TRACE_DETAIL)


def classify(record: RawRecord) -> RecordKind | None:
    return _classify(record.key_set, record.type_hint)


@lru_cache(maxsize=1024)
def _classify(keys: frozenset[str], type_hint: str | None) -> RecordKind | None:
    """Records of one file nearly always share their property set: the answer is worked out once per set."""
    best, best_score = None, 0
    for kind in KINDS:
        score = kind.score(keys, type_hint)
        if score > best_score:
            best, best_score = kind, score
    return best
