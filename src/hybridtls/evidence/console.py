"""PowerShell console output as saved or pasted: ``Format-List`` records and default tables.

What real files look like, and what this reader copes with:
- ``Name : value`` records separated by blank lines, or by a repeating first property;
- values wrapped onto indented continuation lines (word-wrapped, or cut at the console width);
- forum pastes: blank lines between every property, ``> `` quote prefixes, output indented under prose,
  non-breaking spaces, prompt lines (``[PS] C:\\>Get-ExchangeCertificate -Server excas1 | fl``);
- default tables: a header line, a line of dashes, rows cut to columns; indented, pasted without the dashes (a
  header of known property names), with blank lines between rows, with cells cut short (``...``) or masked.
Prose around the output is passed over. A line under a table header that does not line up with its columns is not
read as a row: it is named in a Notice, with why (see ``_read_table``).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Generator, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, pairwise
from operator import itemgetter
from typing import Union

from hybridtls.evidence.interface import pieces
from hybridtls.evidence.raw import RawField, RawRecord, RawValue, canonical_key, raw_field, shape_of, text_value
from hybridtls.model import Notice, Source

PROMPT = re.compile(r"^(?:\[PS\]\s*)?(?:PS\s*)?(?:[A-Za-z]:\\[^>]*|PS)>\s?(?P<command>.*)$")
# A label is at most four words (``Message Trace ID``); a longer line ending in ':' is prose.
_LABEL = re.compile(r"[A-Za-z_][\w.\-/#()]{0,40}(?: [\w.\-/#()]{1,40}){0,3}")
_DASHES = re.compile(r"^\s*-+(?:\s+-+)*\s*$")
_SERVER_ARG = re.compile(r"-(?:Server|ComputerName)\s+(['\"]?)(?P<server>[A-Za-z0-9][\w.\-]*)\1", re.I)
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2007": " ", "\t": " "})

_KEY = itemgetter(3)
_ODD_SPACES = "\t\u00a0\u202f\u2007"
_QUOTE_MARKS = re.compile(r"^\s*(?:>\s?)+")
# Fields a segment without blank lines may gather before its finished records are passed on (see ``_cut``).
_LONGEST_SEGMENT = 1024


@dataclass(slots=True)
class _Segment:
    fields: list[RawField | _Wrapped]
    command: str | None
    after_blank_only: bool  # separated from the previous segment by blank lines only


@dataclass(slots=True)
class _Wrapped:
    """A value on more than one line, joined once the console width is known (the longest line of the file)."""

    label: str
    line: int
    pieces: list[tuple[str, int]]  # (text, physical line length)


def command_server(command: str | None) -> str | None:
    """The server named by ``-Server X`` in a command line, if any."""
    if not command:
        return None
    match = _SERVER_ARG.search(command)
    return match["server"] if match else None


def read_console_text(text: str, path: str, notices: list[Notice] | None = None) -> list[RawRecord]:
    return list(iter_console_text(text, path, notices))


def iter_console_text(text: str, path: str, notices: list[Notice] | None = None, *,
                      first_line: int = 1) -> Iterator[RawRecord]:
    """The records of console text in file order, yielded as they are found: lines are split a piece of the text
    at a time, and only records whose grouping is still open are held (see ``_Grouper``). What is said about lines
    that were not read (under a table header) goes to ``notices``, when given, as it is found. ``first_line`` is
    the number of the text's first line in its file (a block of a larger file)."""
    quoted = ">" in text[:4096] and _quoted(text)
    grouper = _Grouper(path, lambda: max(map(len, _lines(text, quoted)), default=0))
    for found in _scan(_lines(text, quoted), path, first_line - 1):
        if type(found) is _Segment:
            ready = grouper.segment(found)
        elif type(found) is Notice:
            if notices is not None:
                notices.append(found)
            continue
        else:
            ready = grouper.table(found)  # type: ignore[arg-type]
        if ready:
            yield from ready
    yield from grouper.finish()


def _lines(text: str, quoted: bool) -> Iterator[str]:
    """The lines, right-stripped, odd spaces as spaces (and forum quote marks taken off, when quoted)."""
    lines = chain.from_iterable(map(_piece_lines, pieces(text)))
    return map(_unquote, lines) if quoted else lines


def _piece_lines(piece: str) -> list[str]:
    if any(odd in piece for odd in _ODD_SPACES):
        piece = piece.translate(_SPACES)
    return list(map(str.rstrip, piece.splitlines()))


def _unquote(line: str) -> str:
    return _QUOTE_MARKS.sub("", line)


def _quoted(text: str) -> bool:
    """A forum paste quoted with ``> ``: at least 60% of the lines that are not blank start with the mark.

    Counted a piece at a time, stopping as soon as there are too few marks in the whole text to make up 60%."""
    marks = text.count(">")  # no more lines can be marked than this
    marked = lines = 0
    for piece in pieces(text):
        for line in _piece_lines(piece):
            if line:
                lines += 1
                marked += line.lstrip().startswith(">")
        if marks + 1 < 1.5 * (lines - marked):
            return False
    return marked >= 0.6 * lines


def _scan(source: Iterator[str], path: str, number: int = 0) -> Iterator[_Segment | RawRecord | Notice]:
    """One pass over the lines, yielding Format-List segments (their properties already fields), table rows as they
    close and Notices of lines under a table header that are not its rows.

    Written as one loop over locals because it runs once per line of files with 100,000 lines and more. Records of
    one cmdlet repeat the same lines up to each colon: while a segment's lines start as the previous segment's did,
    in the same order, each is taken by that prefix alone (a line so prefixed can be nothing but that property).
    """
    current: list[RawField | _Wrapped] = []
    command: str | None = None
    blank_only = True  # the open segment follows the previous one across blank lines only
    block_indent = 0
    last_length = 0  # of the last property's line
    shape: list[tuple[str, str, str, int]] = []  # the last segment's (line up to its colon, label, key, indent)
    found: list[tuple[str, str, str, int]] = []  # the same, of the open segment
    replaying = True  # the open segment has so far followed the last one's shape
    is_label, canonical, new, value_of = _is_label, canonical_key, tuple.__new__, text_value
    longest = _LONGEST_SEGMENT
    following = next(source, None)
    while following is not None:
        if len(current) >= longest:  # a segment without blank lines: pass its finished records on (``_cut``)
            head = _cut(current)
            if head:
                yield _Segment(current[:head], command, blank_only)
                del current[:head], found[:head]
                blank_only = False
            longest = max(_LONGEST_SEGMENT, 2 * len(current))  # one long record: look again when doubled
        line = following
        following = next(source, None)
        number += 1
        if not line:  # lines arrive right-stripped
            if current:
                yield _Segment(current, command, blank_only)
                current, shape, found, replaying = [], found, [], True
                blank_only = True
            continue
        if replaying and len(current) < len(shape):
            prefix, label, key, shape_indent = shape[len(current)]
            if (line.startswith(prefix) and (len(line) == len(prefix) or line[len(prefix)] == " ")
                    and (following is None or following[:1] != "-")):
                if not current:
                    block_indent = shape_indent
                text = line[len(prefix):].strip()
                if not text or (text[0] not in "{@" and text[-1] not in "}.]\u2026"):  # text_value's common case
                    value = new(RawValue, (text, None, False, None, False))
                else:
                    value = value_of(text)
                found.append(shape[len(current)])
                current.append(new(RawField, (label, value, number, key)))
                last_length = len(line)
                continue
        indent = 0 if line[0] != " " else len(line) - len(line.lstrip(" "))
        if current and indent > block_indent:
            last = current[-1]
            piece = (line.strip(), len(line))
            if isinstance(last, _Wrapped):
                last.pieces.append(piece)
            else:
                current[-1] = _Wrapped(last.label, last.line, [(last.value.text, last_length), piece])
            continue
        if ">" in line:
            stripped = line.lstrip()
            prompt = PROMPT.match(stripped) if stripped.startswith(("[", "PS")) or stripped[1:3] == ":\\" else None
            if prompt:
                if current:
                    yield _Segment(current, command, blank_only)
                    current, shape, found, replaying = [], found, [], True
                blank_only = False
                command = prompt["command"].strip() or command
                continue
        if following is not None and following[indent:indent + 1] == "-":
            columns = _underlined_header(line, following, indent)
            if columns:
                if current:
                    yield _Segment(current, command, blank_only)
                    current, shape, found, replaying = [], found, [], True
                blank_only = False
                table = _new_table(columns, path, number, command, underlined=True)
                following, number = yield from _read_table(table, next(source, None), source, number + 1)
                continue
        # ``Label : value`` (inline: this is the hot path); labels never hold a colon
        colon = line.find(":", indent)
        if colon > 0 and (colon + 1 == len(line) or line[colon + 1] in " \t") and (indent == block_indent or not current):
            label = line[indent:colon].rstrip()
            if is_label(label):
                if not current:
                    block_indent = indent
                text = line[colon + 1:].strip()
                if not text or (text[0] not in "{@" and text[-1] not in "}.]\u2026"):  # text_value's common case
                    value = new(RawValue, (text, None, False, None, False))
                else:
                    value = value_of(text)
                key = canonical(label)
                found.append((line[:colon + 1], label, key, indent))
                replaying = False
                current.append(new(RawField, (label, value, number, key)))
                last_length = len(line)
                continue
        if current:  # prose: ends the record
            yield _Segment(current, command, blank_only)
            current, shape, found, replaying = [], found, [], True
        blank_only = False
        columns = _known_header(line)  # a table pasted without its dashes, or else prose
        if columns:
            table = _new_table(columns, path, number, command, underlined=False)
            following, number = yield from _read_table(table, following, source, number)
    if current:
        yield _Segment(current, command, blank_only)


def _cut(fields: list[RawField | _Wrapped]) -> int:
    """Where a long segment may be cut without changing its records: the start of its last record (records end where
    a property repeats), or 0 when it is all one record.

    A segment is otherwise held whole until a blank line or prose ends it, and output whose records are separated only
    by a repeating first property (``Get-MessageTrackingLog | fl``) may have no blank line at all."""
    seen: set[str] = set()
    start = 0
    for index, item in enumerate(fields):
        key = item.key if isinstance(item, RawField) else canonical_key(item.label)
        if key in seen:
            start, seen = index, set()
        seen.add(key)
    return start


@lru_cache(maxsize=4096)
def _is_label(text: str) -> bool:
    return _LABEL.fullmatch(text) is not None


Pending = Union[tuple[int, int, str | None], RawRecord]  # noqa: UP007 - runtime alias: fields start:end, or a row


class _Grouper:
    """Segments into records, as they come.

    Forum pastes put a blank line between every property: when most segments hold one property the file is
    "spaced", and segments separated by blank lines only (under the same command) are one group, split into
    records where a property repeats. Whether a file is spaced is known only at its end, so both readings are
    followed: records on which both agree are yielded at once (in ordinary output they always agree), and from
    the first record on which they differ, both are held until the end decides.
    """

    def __init__(self, path: str, width: Callable[[], int]) -> None:
        self._path = path
        self._width = width
        self._width_known: int | None = None
        self._fields: list[RawField] = []  # the fields from index self._base on (indexes count every field read)
        self._base = 0
        self._count = 0
        self._apart: deque[Pending] = deque()  # reading 1: each segment its own group
        self._grouped: deque[Pending] = deque()  # reading 2 (spaced): segments across blank lines grouped
        self._group_open = False
        self._group_start = 0
        self._group_seen: AbstractSet[str] = frozenset()
        self._group_command: str | None = None
        self._segments = 0
        self._singles = 0
        self._differ = False

    def segment(self, segment: _Segment) -> list[RawRecord]:
        fields, keys = self._raw_fields(segment.fields)
        count = len(fields)
        self._segments += 1
        self._singles += count == 1
        start = self._count
        self._count += count
        command = segment.command
        shape = shape_of(keys)
        distinct = len(shape.positions) == count
        apart = self._apart
        if (distinct and segment.after_blank_only and self._group_open and command == self._group_command
                and keys[0] in self._group_seen and not self._grouped and len(apart) == 1
                and apart[0] == (self._group_start, start, command)):
            # Ordinary output: the previous segment was one record and this one starts the next; both readings
            # agree on it, and nothing before this segment is needed any more.
            previous = self._record(apart[0])
            apart[0] = (start, start + count, command)
            self._fields, self._base = fields, start
            self._group_start, self._group_seen = start, shape.key_set
            return [previous]
        self._fields.extend(fields)
        if distinct:  # each segment apart, split where a property repeats
            self._apart.append((start, start + count, command))
        else:
            chunk, _ = _split(self._apart, keys, start, set(), start, command)
            self._apart.append((chunk, start + count, command))
        if not (self._group_open and segment.after_blank_only and command == self._group_command):
            self._close_group(start)  # a group goes on across blank lines, under the same command
            self._group_open, self._group_start, self._group_seen, self._group_command = True, start, frozenset(), command
        if distinct and keys[0] in self._group_seen:  # the common case: the next record begins
            self._grouped.append((self._group_start, start, command))
            self._group_start, self._group_seen = start, shape.key_set
        else:
            self._group_start, self._group_seen = _split(self._grouped, keys, start, set(self._group_seen),
                                                         self._group_start, command)
        return self._agreed()

    def table(self, row: RawRecord) -> list[RawRecord]:
        self._close_group(self._count)  # nothing after a table continues a group
        self._apart.append(row)
        self._grouped.append(row)
        return self._agreed()

    def finish(self) -> Iterator[RawRecord]:
        self._close_group(self._count)
        yield from self._agreed()
        spaced = self._segments >= 3 and self._singles >= 0.75 * self._segments
        for item in self._grouped if spaced else self._apart:
            yield self._record(item)

    def _close_group(self, end: int) -> None:
        if self._group_open:
            if end > self._group_start:
                self._grouped.append((self._group_start, end, self._group_command))
            self._group_open = False

    def _agreed(self) -> list[RawRecord]:
        """The records both readings agree on, up to the first on which they differ."""
        apart, grouped = self._apart, self._grouped
        ready: list[RawRecord] = []
        while not self._differ and apart and grouped:
            if apart[0] != grouped[0]:
                self._differ = True  # from here on, the end decides
                return ready
            grouped.popleft()
            ready.append(self._record(apart.popleft()))
        if ready and self._count - self._base > 8192:
            self._forget_emitted()
        return ready

    def _forget_emitted(self) -> None:
        keep = self._group_start if self._group_open else self._count
        for queue in (self._apart, self._grouped):
            for item in queue:
                if type(item) is tuple:
                    keep = min(keep, item[0])
                    break
        if keep - self._base > 4096:
            del self._fields[:keep - self._base]
            self._base = keep

    def _record(self, item: Pending) -> RawRecord:
        if not isinstance(item, tuple):
            return item  # a table row
        start, end, command = item
        fields = tuple(self._fields[start - self._base:end - self._base])
        return RawRecord(Source(path=self._path, line=fields[0].line), fields, command=command)

    def _raw_fields(self, found: list[RawField | _Wrapped]) -> tuple[list[RawField], tuple[str, ...]]:
        fields: list[RawField] = []
        for item in found:
            if isinstance(item, _Wrapped):
                if self._width_known is None:
                    self._width_known = self._width()
                fields.append(raw_field(item.label, text_value(_join(item.pieces, self._width_known)), item.line))
            else:
                fields.append(item)
        return fields, tuple(map(_KEY, fields))


def _split(out: deque[Pending], keys: tuple[str, ...], start: int, seen: set[str], chunk: int,
           command: str | None) -> tuple[int, set[str]]:
    """Close a record at each key already seen in the open chunk; returns the open chunk's start and keys."""
    for offset, key in enumerate(keys):
        if key in seen:
            out.append((chunk, start + offset, command))
            chunk, seen = start + offset, set()
        seen.add(key)
    return chunk, seen


def _join(pieces: list[tuple[str, int]], width: int) -> str:
    """Rejoin a wrapped value. A line cut at the console width continues mid-word; a word-wrapped one at a space.
    Built as a list and joined once: linear however many continuation lines a value has."""
    first, previous_length = pieces[0]
    parts = [first]
    tail = first[-1:]  # the last character joined so far ("" while nothing is)
    for piece, length in pieces[1:]:
        cut_mid_word = previous_length >= width >= 60 and tail != ","
        if not (cut_mid_word or not tail):
            parts.append(" ")
            tail = " "
        parts.append(piece)
        tail = piece[-1:] or tail
        previous_length = length
    return "".join(parts)


# What a header without a line of dashes under it may hold: the properties of the cmdlets hybridtls reads (every
# key a record kind consumes, which a test keeps so, and the columns of each cmdlet's default table), as PowerShell
# labels them. A header is two or more of them and nothing else, so that prose is never taken for one.
_TABLE_LABELS = (
    # Get-ExchangeCertificate
    "Thumbprint", "Services", "Subject", "Issuer", "NotAfter", "NotBefore", "SerialNumber", "CertificateDomains",
    "RootCAType", "Status", "IsSelfSigned", "HasPrivateKey", "PublicKeySize", "FriendlyName", "AccessRules",
    "Identity", "PSComputerName", "Server",
    # Get-ChildItem Cert:\LocalMachine\<Store> (Format-Table *), certutil -store pasted as console text
    "Extensions", "DnsNameList", "EnhancedKeyUsageList", "PSParentPath", "PSPath", "PSChildName", "Cert Hash(sha1)",
    "Serial Number",
    # Get-Queue
    "DeliveryType", "MessageCount", "Velocity", "RiskLevel", "OutboundIPPool", "NextHopDomain", "NextHopConnector",
    "LastError", "LastRetryTime", "RetryCount", "TlsDomain",
    # Get-SendConnector, Get-ReceiveConnector, Get-HybridConfiguration, Get-Inbound/OutboundConnector,
    # Get-TransportService
    "Name", "Enabled", "AddressSpaces", "SmartHosts", "DNSRoutingEnabled", "SourceTransportServers",
    "TlsCertificateName", "TlsAuthLevel", "RequireTLS", "CloudServicesMailEnabled", "Fqdn", "Bindings",
    "AuthMechanism", "PermissionGroups", "RemoteIPRanges", "TlsDomainCapabilities", "TransportRole", "Banner",
    "ReceivingTransportServers", "SendingTransportServers", "Features", "Domains", "OnPremisesSmartHost",
    "EdgeTransportServers", "ConnectorType", "RecipientDomains", "RouteAllMessagesViaOnPremises", "UseMXRecord",
    "TlsSettings", "IsTransportRuleScoped", "AllAcceptedDomains", "IsValidated", "SenderDomains", "SenderIPAddresses",
    "TlsSenderCertificateName", "RestrictDomainsToCertificate", "RestrictDomainsToIPAddresses",
    "TreatMessagesAsInternal", "EFSkipIPs", "InternalTransportCertificateThumbprint", "SmtpDaneMode", "MtaStsMode",
    # Get-AcceptedDomain, Get-DnssecStatusForVerifiedDomain
    "DomainName", "DomainType", "Default", "AddressBookEnabled", "MatchSubDomains", "AuthenticationType",
    "InitialDomain", "DnssecFeatureStatus", "ExpectedMxRecord", "DnsValidation", "MxValidation", "MtaStsValidation",
    "Errors", "Warnings",
    # TLSA records (Resolve-DnsName's columns, the DNS server module's TLSA properties)
    "Type", "TTL", "Section", "TimeToLive", "HostName", "RecordType", "CertificateUsage", "Selector", "MatchingType",
    "CertificateAssociationData",
    # Get-MessageTrace, Get-MessageTraceDetail
    "Received", "Sender Address", "Recipient Address", "From IP", "To IP", "Size", "Message ID", "Message Trace ID",
    "Date", "Event", "Action", "Detail", "Data",
    # Get-MessageTrackingLog
    "Timestamp", "EventId", "Source", "Sender", "Recipients", "MessageSubject", "RecipientStatus", "InternalMessageId",
    "ConnectorId", "ServerHostname", "TotalBytes", "SchemaVersion",
    # Get-WinEvent, Get-EventLog
    "TimeCreated", "Id", "LevelDisplayName", "Level", "Message", "ProviderName", "LogName", "MachineName", "RecordId",
    "TaskDisplayName", "Index", "Time", "EntryType", "InstanceID", "Category", "CategoryNumber", "ReplacementStrings",
    "TimeGenerated", "TimeWritten",
)
TABLE_COLUMNS = frozenset(map(canonical_key, _TABLE_LABELS))
_COLUMN_WORDS = TABLE_COLUMNS | {canonical_key(word) for label in _TABLE_LABELS for word in label.split()}
_WORDS = re.compile(r"\S+")
_LONGEST_LABEL = 4  # words, as in ``Message Trace ID``
_NUMBER = re.compile(r"[+-]?\d[\d,.]*")
_TRUSTED_ROWS = 32  # rows filling two columns or more, with few lines between them that do not line up: passed on
_REPORTED_LINES = 20  # lines that do not line up, named one by one per table; the rest are counted
_ALIGN_HINT = "columns start where the header's words do: keep the output's spacing as printed, or save it with Format-List"


@dataclass(slots=True)
class _Table:
    """A table header: where each column starts (and its label ends), and what the rows are read for."""

    path: str
    command: str | None
    line: int  # of the header
    indent: int
    starts: list[int]
    labels: list[str]
    ends: list[int]  # where each label ends: a right-aligned cell ends there too
    underlined: bool


def _underlined_header(line: str, underline: str, indent: int) -> tuple[list[int], list[str]] | None:
    """The columns of a header with a line of dashes under it: each run of dashes starts under a header word, the
    first under the first (a table indented under prose or in a quote is indented as a whole)."""
    if not _DASHES.match(underline):
        return None
    starts = _dash_starts(underline)
    if len(starts) < 2 or starts[0] != indent:
        return None
    if not all(pos < len(line) and line[pos] != " " and (pos == 0 or line[pos - 1] == " ") for pos in starts):
        return None
    return starts, [_cell(line, starts, k) for k in range(len(starts))]


def _dash_starts(underline: str) -> list[int]:
    return [m.start() for m in re.finditer(r"-+", underline)]


def _known_header(line: str) -> tuple[list[int], list[str]] | None:
    """The columns of a header without dashes: two or more known property names, none twice, and nothing else, with
    two spaces or more somewhere between them (PowerShell pads a column to its widest value; prose is single-spaced).
    Words one space apart are one label when together they name a property (``Sender Address``), else a label each
    (Get-Queue's ``DeliveryType Status MessageCount``)."""
    if "  " not in line.lstrip(" "):  # the cheap tests first: this is asked of every line of prose
        return None
    plain = line.split(None, 64)
    if len(plain) > 64 or not all(canonical_key(word) in _COLUMN_WORDS for word in plain):
        return None  # no cmdlet's table is that wide, or a word no property name holds: prose
    words = [(match.start(), match.group()) for match in _WORDS.finditer(line)]
    starts: list[int] = []
    labels: list[str] = []
    at = 0
    while at < len(words):
        start = words[at][0]
        for end in range(min(len(words), at + _LONGEST_LABEL), at, -1):
            run = words[at:end]
            if all(b[0] == a[0] + len(a[1]) + 1 for a, b in pairwise(run)):
                label = line[start:run[-1][0] + len(run[-1][1])]
                if canonical_key(label) in TABLE_COLUMNS:
                    starts.append(start)
                    labels.append(label)
                    at = end
                    break
        else:
            return None
    if len(starts) < 2 or "  " not in line[starts[0]:starts[-1]]:  # prose is single-spaced; a table pads its columns
        return None
    return (starts, labels) if len(set(map(canonical_key, labels))) == len(labels) else None


def _new_table(columns: tuple[list[int], list[str]], path: str, number: int, command: str | None, *,
               underlined: bool) -> _Table:
    starts, labels = columns
    return _Table(path=path, command=command, line=number, indent=starts[0], starts=starts, labels=labels,
                  ends=[start + len(label) for start, label in zip(starts, labels, strict=True)], underlined=underlined)


def _cells(line: str, table: _Table) -> tuple[list[str], str | None]:
    """The row's cells, cut where the header's columns start; and why the line is not a row, when it is not.

    A cell starts where its column does (left-aligned), or is a number, or ends where its label ends
    (right-aligned, as PowerShell prints numbers); nothing reaches into the space before the next column."""
    starts, labels = table.starts, table.labels
    if table.indent and line[:table.indent].strip():
        return [], "the line starts left of the table's first column"
    cells = []
    last = len(starts) - 1
    for k, start in enumerate(starts):
        end = starts[k + 1] if k < last else len(line)
        if k < last and end <= len(line) and line[end - 1] != " ":
            return [], f"its text runs into column {_shown(labels[k + 1])}"
        text = line[start:end]
        if text[:1] == " ":
            cell = text.strip()
            if cell and not (_NUMBER.fullmatch(cell) or start + len(text.rstrip()) == table.ends[k]):
                return [], f"its text under {_shown(labels[k])} starts right of where the column does"
            cells.append(cell)
        else:
            cells.append(text.rstrip())
    return cells, None


def _shown(label: str) -> str:
    return repr(label if len(label) <= 40 else label[:40] + "\u2026")


def _read_table(table: _Table, line: str | None, source: Iterator[str],
                number: int) -> Generator[RawRecord | Notice, None, tuple[str | None, int]]:
    """The rows under a table header, yielded as they are read, and what was not read, said in Notices. ``line`` is
    the first line under the header (and its dashes), ``number`` the number of the line before it. Returns the line
    that ended the table (not read yet) and the number of the line before it.

    Rows follow one another, and a blank line ends the table (as PowerShell prints it); or, when a blank line comes
    before the first row (a forum paste), they come apart by blank lines. A line that follows a row and does not
    line up with the columns is named, never shifted into them. After a blank line (and under a header without
    dashes), only a line that is plainly a row (text in the first column and another) goes on with the table.
    Rows are held until enough of them line up to show that this is a table: lines under a known header that
    mostly do not line up (pasted prose, random text) are not a table, and none of their rows is passed on."""
    held: list[tuple[int, list[str]]] = []  # (line, cells): rows not passed on yet; the last may still continue
    rows = odd = 0  # since rows were last passed on: rows filling two columns or more, lines not lining up
    first_odd = last_odd = named = unnamed = 0
    spaced: bool | None = None  # whether blank lines come between the rows: known at the first row
    blank = False  # a blank line comes before this line
    while line is not None:
        if not line:
            if spaced is False:
                break
            blank, number = True, number + 1
            line = next(source, None)
            continue
        if ">" in line and PROMPT.match(line.lstrip()):
            break
        if spaced is None and not (held or odd) and _DASHES.match(line) and _dash_starts(line) == table.starts:
            number += 1  # the dashes, a blank line apart from their header: the paste doubled every line break
            line = next(source, None)
            continue
        cells, why = _cells(line, table)
        apart = blank or (spaced is None and not table.underlined)
        dashes = apart and _DASHES.match(line) is not None
        if apart and (why or dashes or not cells[0] or sum(map(bool, cells)) < 2 or _known_header(line)):
            if (why or dashes) and not (table.underlined or held or odd):  # a header of known names, and no row
                yield Notice(source=Source(path=table.path, line=table.line),
                             message=f"line {table.line} reads as a table header, but line {number + 1} under it is "
                                     f"not a row of it ({why or 'dashes that do not start under its words'}); "
                                     "neither is read",
                             hint=_ALIGN_HINT)
            break
        number += 1
        if why:
            odd += 1
            first_odd, last_odd = first_odd or number, number
            if named < _REPORTED_LINES:
                named += 1
                yield Notice(source=Source(path=table.path, line=number),
                             message=f"not read as a row of the table headed on line {table.line}: {why}",
                             hint=_ALIGN_HINT)
            else:
                unnamed += 1
        elif held and not cells[0] and not apart:  # Format-Table -Wrap continues a cell on the next line
            previous = held[-1][1]
            for k, cell in enumerate(cells):
                if cell:
                    previous[k] = (previous[k] + " " + cell).strip()
        else:
            if spaced is None:
                spaced = blank
            held.append((number, cells))
            rows += sum(map(bool, cells)) >= 2
            if rows >= _TRUSTED_ROWS and odd * 4 <= rows:
                for row in held[:-1]:
                    yield _row(table, *row)
                del held[:-1]
                rows = odd = 0
        blank = False
        line = next(source, None)
    if held and odd > rows:
        yield Notice(source=Source(path=table.path, line=held[0][0]),
                     message=f"lines {held[0][0]}-{number} under the table header on line {table.line} are not read: "
                             f"{odd:,} of them do not line up with its columns, more than the {rows:,} rows that do, "
                             "so this is not taken for a table")
    else:
        for row in held:
            yield _row(table, *row)
    if unnamed:
        yield Notice(source=Source(path=table.path, line=first_odd),
                     message=f"{unnamed:,} more lines under the table header on line {table.line} (up to line "
                             f"{last_odd}) do not line up with its columns either; not read")
    return line, number


def _row(table: _Table, number: int, cells: list[str]) -> RawRecord:
    fields = tuple(raw_field(label, text_value(cell), number) for label, cell in zip(table.labels, cells, strict=True)
                   if label)
    return RawRecord(Source(path=table.path, line=number), fields, command=table.command)


def _cell(line: str, starts: list[int], k: int) -> str:
    end = starts[k + 1] if k + 1 < len(starts) else len(line)
    return line[starts[k]:end].strip()
