"""What every record kind is built with: the kind itself, the build context, and the value helpers (text,
true/false, whole numbers, dates, enums, lists, the server a record speaks of)."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar, Union

from hybridtls.evidence.console import command_server
from hybridtls.evidence.dates import DateOrder, is_ambiguous, parse_datetime
from hybridtls.evidence.raw import RawField, RawRecord, canonical_key
from hybridtls.evidence.structured import shallow_hint
from hybridtls.model import (
    AcceptedDomain,
    DateReadings,
    DeliveryError,
    DnssecDomainStatus,
    ExchangeCertificate,
    HybridConfiguration,
    MailQueue,
    Notice,
    OnlineConnector,
    ReceiveConnector,
    SendConnector,
    ServerBasis,
    ServerRef,
    Source,
    StoreCertificate,
    TlsaRecord,
    TraceEntry,
    TransportService,
    WindowsEvent,
)

Built = Union[  # noqa: UP007 - a runtime alias, Python 3.10 compatible
    ExchangeCertificate, TraceEntry, SendConnector, ReceiveConnector, HybridConfiguration, OnlineConnector,
    TransportService, DeliveryError, WindowsEvent, MailQueue, StoreCertificate, tuple[MailQueue, DeliveryError],
    AcceptedDomain, DnssecDomainStatus, TlsaRecord, None]
E = TypeVar("E", bound=enum.Enum)


@dataclass(frozen=True, slots=True)
class UnsettledDate:
    """A date whose day and month could be either way round, met while no order was known."""

    source: Source
    kept: bool  # True: both readings are kept in the record; False: the date is not used


@dataclass
class BuildContext:
    """What a builder may use besides the record: the file's date order, and the server of records that do not name
    theirs (given with --server, or the folder's)."""

    path: str
    date_order: DateOrder | None
    server: ServerRef | None
    notices: list[Notice] = field(default_factory=list)
    ambiguous_dates: list[UnsettledDate] = field(default_factory=list)
    ordered_dates: int = 0  # dates read with date_order that could not be read without it

    def note(self, line: int | None, message: str, hint: str | None = None) -> None:
        self.notices.append(Notice(source=Source(path=self.path, line=line), message=message, hint=hint))


@dataclass(frozen=True)
class RecordKind:
    name: str
    required: tuple[frozenset[str], ...]  # each set: at least one of these keys must be present; none: by type only
    indicative: frozenset[str]
    date_fields: frozenset[str]
    type_names: tuple[str, ...]
    build: Callable[[RawRecord, BuildContext], Built]
    excluded: frozenset[str] = frozenset()  # properties objects of this kind never have: their presence rules it out
    decisive: frozenset[str] = frozenset()  # properties only objects of this kind have: their presence settles it
    # objects of these types are never of this kind, whatever properties they share with it (a type named by a
    # CliXML <TN> or a CSV #TYPE line)
    foreign_types: tuple[str, ...] = ()

    def score(self, keys: AbstractSet[str], type_hint: str | None, command_type: str | None = None) -> int:
        """How well the properties (and the CSV's type, or the type the command line produces) fit; 0: not at all."""
        hint = (type_hint or "").rsplit(".", 1)[-1]
        if hint and hint in self.type_names:
            return 1000
        if hint and hint in self.foreign_types:
            return 0
        if not self.required or keys & self.excluded or not all(keys & options for options in self.required):
            return 0  # a kind that requires nothing is known by its type alone (a reader's records)
        if command_type in self.type_names:
            return 900
        if keys & self.decisive:
            return 500
        return 1 + len(keys & self.indicative)


def _keys(*labels: str) -> frozenset[str]:
    return frozenset(canonical_key(label) for label in labels)


# ---------------------------------------------------------------- value helpers


def _text(record: RawRecord, ctx: BuildContext, *keys: str, trusted: bool = True) -> str | None:
    return _text_of(record.get(*keys), ctx, trusted=trusted)


def _text_of(raw: RawField | None, ctx: BuildContext, *, trusted: bool = True) -> str | None:
    """A property's text; None when absent or empty, a type name, or cut short (unless not trusted whole)."""
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


MAX_DIGITS = 40  # the longest whole number an Exchange property holds is a 64-bit count; 40 is generous


def _int(record: RawRecord, ctx: BuildContext, *keys: str) -> int | None:
    return _int_of(record.get(*keys), ctx)


def _int_of(raw: RawField | None, ctx: BuildContext) -> int | None:
    if raw is None or raw.value.empty:
        return None
    digits = raw.value.text.strip()
    if not digits.isdecimal():
        digits = digits.replace(",", "").replace("\u00a0", "")
    if re.fullmatch(r"\d+", digits) or digits.isdecimal():
        if len(digits) <= MAX_DIGITS:
            return int(digits)
        ctx.note(raw.line, f"{raw.label} is a number of {len(digits):,} digits, more than any Exchange property "
                           "holds; ignored")
        return None
    ctx.note(raw.line, f"{raw.label} should be a whole number, found {raw.value.text!r}; ignored")
    return None


def _date(record: RawRecord, ctx: BuildContext, *keys: str) -> datetime | None:
    return _date_of(record.get(*keys), ctx)


def _date_of(raw: RawField | None, ctx: BuildContext) -> datetime | None:
    """A date; None when absent, unreadable, or ambiguous with no order known (the date is then not used)."""
    if raw is None or raw.value.empty:
        return None
    if is_ambiguous(raw.value.text):  # day and month could be either way round: only the order settles it
        if ctx.date_order is None:
            ctx.ambiguous_dates.append(UnsettledDate(Source(path=ctx.path, line=raw.line), kept=False))
            return None
        ctx.ordered_dates += 1
    return _parsed(raw, ctx, ctx.date_order)


def _date_readings(record: RawRecord, ctx: BuildContext, *keys: str) -> tuple[datetime | None, DateReadings | None]:
    """A date, or, when its day and month could be either way round and no order is known, both its readings."""
    raw = record.get(*keys)
    if raw is None or raw.value.empty or ctx.date_order is not None or not is_ambiguous(raw.value.text):
        return _date_of(raw, ctx), None
    day_first = _parsed(raw, ctx, DateOrder.DMY)
    month_first = _parsed(raw, ctx, DateOrder.MDY) if day_first is not None else None
    if day_first is None or month_first is None:
        return None, None
    ctx.ambiguous_dates.append(UnsettledDate(Source(path=ctx.path, line=raw.line), kept=True))
    return None, DateReadings(text=raw.value.text.strip(), day_first=day_first, month_first=month_first)


def _parsed(raw: RawField, ctx: BuildContext, order: DateOrder | None) -> datetime | None:
    try:
        return parse_datetime(raw.value.text, order)
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


def _server(record: RawRecord, ctx: BuildContext) -> ServerRef | None:
    """The server a record belongs to, strongest witness first (``ServerBasis``).

    An Exchange Management Shell object (it carries ``RunspaceId``) has the ``PSComputerName`` of the server the
    shell is connected to, not of the server ``-Server`` asked: there it is the weakest witness, below the folder."""
    identity = record.get("Identity")
    if identity and "\\" in identity.value.text:
        return ServerRef(name=identity.value.text.split("\\", 1)[0].strip(), basis=ServerBasis.IDENTITY)
    computer = _property_server(record, ("PSComputerName",), ServerBasis.PS_COMPUTER_NAME)
    shell_object = record.get("RunspaceId") is not None
    if computer and not shell_object:
        return computer
    named = _property_server(record, ("Server", "ServerName"), ServerBasis.SERVER_PROPERTY)
    if named:
        return named
    from_command = command_server(record.command)
    if from_command:
        return ServerRef(name=from_command, basis=ServerBasis.COMMAND_LINE)
    return ctx.server or computer


def _property_server(record: RawRecord, keys: tuple[str, ...], basis: ServerBasis) -> ServerRef | None:
    raw = record.get(*keys)
    if raw and not raw.value.empty and not raw.value.shallow:
        return ServerRef(name=raw.value.text.strip(), basis=basis)
    return None


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


def _kind(name: str, required: tuple[tuple[str, ...], ...], indicative: tuple[str, ...], build,  # type: ignore[no-untyped-def]
          type_names: tuple[str, ...] = (), dates: tuple[str, ...] = (), *, excluded: tuple[str, ...] = (),
          decisive: tuple[str, ...] = ()) -> RecordKind:
    return RecordKind(name=name, required=tuple(_keys(*group) for group in required), indicative=_keys(*indicative),
                      date_fields=_keys(*dates), type_names=type_names or (name,), build=build,
                      excluded=_keys(*excluded), decisive=_keys(*decisive))
