"""PowerShell console output as saved or pasted: ``Format-List`` records and default tables.

What real files look like, and what this reader copes with:
- ``Name : value`` records separated by blank lines, or by a repeating first property;
- values wrapped onto indented continuation lines (word-wrapped, or cut at the console width);
- forum pastes: blank lines between every property, ``> `` quote prefixes, output indented under prose,
  non-breaking spaces, prompt lines (``[PS] C:\\>Get-ExchangeCertificate -Server excas1 | fl``);
- default tables (a header line, a line of dashes, rows cut to columns).
Prose around the output is passed over.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from typing import Union

from hybridtls.evidence.interface import pieces
from hybridtls.evidence.raw import RawField, RawRecord, RawValue, canonical_key, raw_field, shape_of, text_value
from hybridtls.model import Source

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


def read_console_text(text: str, path: str) -> list[RawRecord]:
    return list(iter_console_text(text, path))


def iter_console_text(text: str, path: str, *, first_line: int = 1) -> Iterator[RawRecord]:
    """The records of console text in file order, yielded as they are found: lines are split a piece of the text
    at a time, and only records whose grouping is still open are held (see ``_Grouper``). ``first_line`` is the
    number of the text's first line in its file (a block of a larger file)."""
    quoted = ">" in text[:4096] and _quoted(text)
    grouper = _Grouper(path, lambda: max(map(len, _lines(text, quoted)), default=0))
    for found in _scan(_lines(text, quoted), path, first_line - 1):
        if type(found) is _Segment:
            ready = grouper.segment(found)
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


def _scan(source: Iterator[str], path: str, number: int = 0) -> Iterator[_Segment | RawRecord]:
    """One pass over the lines, yielding Format-List segments (their properties already fields) and table rows as
    they close.

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
                if len(current) >= longest:
                    head = _cut(current)
                    if head:
                        yield _Segment(current[:head], command, blank_only)
                        del current[:head], found[:head]
                        blank_only = False
                    longest = max(_LONGEST_SEGMENT, 2 * len(current))  # one long record: look again when doubled
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
        if indent == 0 and following is not None and following[:1] == "-" and _is_table_header(line, following):
            if current:
                yield _Segment(current, command, blank_only)
                current, shape, found, replaying = [], found, [], True
            blank_only = False
            rows, following, number = _read_table(line, following, source, number, path, command)
            yield from rows
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
                if len(current) >= longest:
                    head = _cut(current)
                    if head:
                        yield _Segment(current[:head], command, blank_only)
                        del current[:head], found[:head]
                        blank_only = False
                    longest = max(_LONGEST_SEGMENT, 2 * len(current))  # one long record: look again when doubled
                continue
        if current:  # prose: ends the record
            yield _Segment(current, command, blank_only)
            current, shape, found, replaying = [], found, [], True
        blank_only = False
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


def _is_table_header(line: str, underline: str) -> bool:
    # The dashes start under the first header, at column 0 (headers are never indented).
    if underline[:1] != "-" or line[0].isspace() or not _DASHES.match(underline):
        return False
    starts = [m.start() for m in re.finditer(r"-+", underline)]
    if len(starts) < 2:
        return False
    return all(pos < len(line) and line[pos] != " " and (pos == 0 or line[pos - 1] == " ") for pos in starts)


def _read_table(header: str, underline: str, source: Iterator[str], number: int, path: str,
                command: str | None) -> tuple[list[RawRecord], str | None, int]:
    """The rows under a table header (on line ``number``); returns them, the line that ended the table (not
    read yet) and the number of the line before it."""
    starts = [m.start() for m in re.finditer(r"-+", underline)]
    labels = [_cell(header, starts, k) for k in range(len(starts))]
    number += 1
    rows: list[tuple[int, list[str]]] = []
    line = next(source, None)
    while line is not None and line.strip() and not PROMPT.match(line):
        number += 1
        cells = [_cell(line, starts, k) for k in range(len(starts))]
        if rows and not cells[0]:  # Format-Table -Wrap continues a cell on the next line
            for k, cell in enumerate(cells):
                if cell:
                    rows[-1][1][k] = (rows[-1][1][k] + " " + cell).strip()
        else:
            rows.append((number, cells))
        line = next(source, None)
    out = []
    for row_number, cells in rows:
        fields = tuple(raw_field(label, text_value(cell), row_number) for label, cell in zip(labels, cells, strict=True) if label)
        out.append(RawRecord(Source(path=path, line=row_number), fields, command=command))
    return out, line, number


def _cell(line: str, starts: list[int], k: int) -> str:
    end = starts[k + 1] if k + 1 < len(starts) else len(line)
    return line[starts[k]:end].strip()
