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
from dataclasses import dataclass, field

from hybridtls.evidence.raw import RawField, RawRecord, canonical_key, text_value
from hybridtls.model import Source

_PROMPT = re.compile(r"^(?:\[PS\]\s*)?(?:PS\s*)?(?:[A-Za-z]:\\[^>]*|PS)>\s?(?P<command>.*)$")
# A label is at most four words (``Message Trace ID``); a longer line ending in ':' is prose.
_PROPERTY = re.compile(
    r"^(?P<label>[A-Za-z_][\w.\-/#()]{0,40}(?: [\w.\-/#()]{1,40}){0,3}?)\s*:(?:\s(?P<value>.*)|$)"
)
_DASHES = re.compile(r"^\s*-+(?:\s+-+)*\s*$")
_SERVER_ARG = re.compile(r"-(?:Server|ComputerName)\s+(['\"]?)(?P<server>[A-Za-z0-9][\w.\-]*)\1", re.I)
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2007": " ", "\t": " "})


@dataclass
class _Field:
    label: str
    line: int
    pieces: list[tuple[str, int]] = field(default_factory=list)  # (text, physical line length)


@dataclass
class _Segment:
    fields: list[_Field]
    command: str | None
    after_blank_only: bool  # separated from the previous segment by blank lines only


def command_server(command: str | None) -> str | None:
    """The server named by ``-Server X`` in a command line, if any."""
    if not command:
        return None
    match = _SERVER_ARG.search(command)
    return match["server"] if match else None


class _Scanner:
    """One pass over the lines, collecting Format-List segments and table records."""

    def __init__(self, lines: list[str], path: str) -> None:
        self.lines = lines
        self.path = path
        self.segments: list[_Segment] = []
        self.table_records: list[RawRecord] = []
        self.current: list[_Field] = []
        self.command: str | None = None
        self.blank_only = True
        self.block_indent = 0

    def close(self, *, separated_by_blank: bool) -> None:
        if self.current:
            self.segments.append(_Segment(self.current, self.command, self.blank_only))
            self.current = []
            self.blank_only = separated_by_blank
        elif not separated_by_blank:
            self.blank_only = False

    def scan(self) -> None:
        index = 0
        lines = self.lines
        while index < len(lines):
            line = lines[index]
            if not line.strip():
                self.close(separated_by_blank=True)
                index += 1
                continue
            prompt = _PROMPT.match(line.lstrip())
            if prompt:
                self.close(separated_by_blank=False)
                self.command = prompt["command"].strip() or self.command
                index += 1
                continue
            if index + 1 < len(lines) and _is_table_header(line, lines[index + 1]):
                self.close(separated_by_blank=False)
                index = _read_table(lines, index, self.path, self.command, self.table_records)
                continue
            self.take(line, index + 1)
            index += 1
        self.close(separated_by_blank=True)

    def take(self, line: str, number: int) -> None:
        indent = len(line) - len(line.lstrip(" "))
        if self.current and indent > self.block_indent:
            self.current[-1].pieces.append((line.strip(), len(line)))
            return
        match = _PROPERTY.match(line[indent:])
        if match and (indent == self.block_indent or not self.current):
            if not self.current:
                self.block_indent = indent
            value = (match["value"] or "").strip()
            self.current.append(_Field(match["label"].strip(), number, [(value, len(line))]))
        else:
            self.close(separated_by_blank=False)


def read_console_text(text: str, path: str) -> list[RawRecord]:
    lines = _normalise(text.splitlines())
    scanner = _Scanner(lines, path)
    scanner.scan()
    width = max((len(line) for line in lines), default=0)
    records = scanner.table_records + _records_from_segments(scanner.segments, width, path)
    records.sort(key=lambda r: r.source.line or 0)
    return records


def _normalise(raw_lines: list[str]) -> list[str]:
    lines = [line.translate(_SPACES).rstrip() for line in raw_lines]
    non_blank = [line for line in lines if line.strip()]
    if non_blank and sum(1 for line in non_blank if line.lstrip().startswith(">")) >= 0.6 * len(non_blank):
        lines = [re.sub(r"^\s*(?:>\s?)+", "", line) for line in lines]
    return lines


def _records_from_segments(segments: list[_Segment], width: int, path: str) -> list[RawRecord]:
    """Group fields into records; undo forum double-spacing; split where a property repeats."""
    spaced = len(segments) >= 3 and sum(1 for s in segments if len(s.fields) == 1) >= 0.75 * len(segments)
    groups: list[tuple[list[_Field], str | None]] = []
    for segment in segments:
        if spaced and groups and segment.after_blank_only and segment.command == groups[-1][1]:
            groups[-1][0].extend(segment.fields)
        else:
            groups.append((list(segment.fields), segment.command))
    records = []
    for fields, command in groups:
        chunk: list[_Field] = []
        seen: set[str] = set()
        for item in fields:
            key = canonical_key(item.label)
            if key in seen:
                records.append(_record(chunk, width, path, command))
                chunk, seen = [], set()
            chunk.append(item)
            seen.add(key)
        if chunk:
            records.append(_record(chunk, width, path, command))
    return records


def _record(fields: list[_Field], width: int, path: str, command: str | None) -> RawRecord:
    raw_fields = tuple(RawField(f.label, text_value(_join(f.pieces, width)), f.line) for f in fields)
    return RawRecord(Source(path=path, line=fields[0].line), raw_fields, command=command)


def _join(pieces: list[tuple[str, int]], width: int) -> str:
    """Rejoin a wrapped value. A line cut at the console width continues mid-word; a word-wrapped one at a space."""
    text, previous_length = pieces[0]
    for piece, length in pieces[1:]:
        cut_mid_word = previous_length >= width >= 60 and not text.endswith(",")
        text = text + piece if cut_mid_word or not text else text + " " + piece
        previous_length = length
    return text


def _is_table_header(line: str, underline: str) -> bool:
    if not _DASHES.match(underline) or line[0].isspace():
        return False
    starts = [m.start() for m in re.finditer(r"-+", underline)]
    if len(starts) < 2:
        return False
    return all(pos < len(line) and line[pos] != " " and (pos == 0 or line[pos - 1] == " ") for pos in starts)


def _read_table(lines: list[str], index: int, path: str, command: str | None, out: list[RawRecord]) -> int:
    header, underline = lines[index], lines[index + 1]
    starts = [m.start() for m in re.finditer(r"-+", underline)]
    labels = [_cell(header, starts, k) for k in range(len(starts))]
    index += 2
    rows: list[tuple[int, list[str]]] = []
    while index < len(lines) and lines[index].strip() and not _PROMPT.match(lines[index]):
        cells = [_cell(lines[index], starts, k) for k in range(len(starts))]
        if rows and not cells[0]:  # Format-Table -Wrap continues a cell on the next line
            for k, cell in enumerate(cells):
                if cell:
                    rows[-1][1][k] = (rows[-1][1][k] + " " + cell).strip()
        else:
            rows.append((index + 1, cells))
        index += 1
    for number, cells in rows:
        fields = tuple(RawField(label, text_value(cell), number) for label, cell in zip(labels, cells, strict=True) if label)
        out.append(RawRecord(Source(path=path, line=number), fields, command=command))
    return index


def _cell(line: str, starts: list[int], k: int) -> str:
    end = starts[k + 1] if k + 1 < len(starts) else len(line)
    return line[starts[k]:end].strip()
