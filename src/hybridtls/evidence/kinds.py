"""Which kind of object a record describes, and how to turn it into a model record.

A kind is recognised from its properties (and the ``#TYPE`` line of a CSV, where there is one). To teach
hybridtls a new cmdlet's output, add a ``RecordKind`` to ``KINDS``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar, Union

from hybridtls.evidence.console import command_server
from hybridtls.evidence.dates import AmbiguousDate, DateOrder, parse_datetime
from hybridtls.evidence.raw import RawField, RawRecord, canonical_key
from hybridtls.evidence.structured import shallow_hint
from hybridtls.model import (
    CertificateStatus,
    ExchangeCertificate,
    Notice,
    RootCAType,
    ServerBasis,
    ServerRef,
    Source,
    TraceEntry,
    TraceStatus,
)

Built = Union[ExchangeCertificate, TraceEntry]  # noqa: UP007 - a runtime alias, Python 3.10 compatible
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

    def score(self, record: RawRecord) -> int:
        keys = record.keys
        hint = (record.type_hint or "").rsplit(".", 1)[-1]
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
    digits = raw.value.text.strip().replace(",", "").replace("\u00a0", "")
    if re.fullmatch(r"\d+", digits):
        return int(digits)
    ctx.note(raw.line, f"{raw.label} should be a whole number, found {raw.value.text!r}; ignored")
    return None


def _date(record: RawRecord, ctx: BuildContext, *keys: str) -> datetime | None:
    raw = record.get(*keys)
    if raw is None or raw.value.empty:
        return None
    try:
        return parse_datetime(raw.value.text, ctx.date_order)
    except AmbiguousDate:
        ctx.ambiguous_dates.append(Source(path=ctx.path, line=raw.line))
        return None
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

KINDS: tuple[RecordKind, ...] = (EXCHANGE_CERTIFICATE, MESSAGE_TRACE)


def classify(record: RawRecord) -> RecordKind | None:
    best, best_score = None, 0
    for kind in KINDS:
        score = kind.score(record)
        if score > best_score:
            best, best_score = kind, score
    return best
