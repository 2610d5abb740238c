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
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from hybridtls.evidence.interface import EvidenceFile, EvidenceReader, Record, at_least_one
from hybridtls.evidence.raw import RawField, RawRecord, canonical_key, raw_field, text_value
from hybridtls.model import Source

_PROMPT = re.compile(r"^(?:\[PS\]\s*)?(?:PS\s*)?(?:[A-Za-z]:\\[^>]*|PS)>\s?(?P<command>.*)$")
# A label is at most four words (``Message Trace ID``); a longer line ending in ':' is prose.
_LABEL = re.compile(r"[A-Za-z_][\w.\-/#()]{0,40}(?: [\w.\-/#()]{1,40}){0,3}")
_DASHES = re.compile(r"^\s*-+(?:\s+-+)*\s*$")
_SERVER_ARG = re.compile(r"-(?:Server|ComputerName)\s+(['\"]?)(?P<server>[A-Za-z0-9][\w.\-]*)\1", re.I)
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2007": " ", "\t": " "})


@dataclass(slots=True)
class _Field:
    label: str
    line: int
    pieces: list[tuple[str, int]] = field(default_factory=list)  # (text, physical line length)


@dataclass(slots=True)
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


def _scan(lines: list[str], path: str) -> tuple[list[_Segment], list[RawRecord]]:
    """One pass over the lines, collecting Format-List segments and table records.

    Written as one loop over locals because it runs once per line of files with 100,000 lines and more.
    """
    segments: list[_Segment] = []
    tables: list[RawRecord] = []
    current: list[_Field] = []
    command: str | None = None
    blank_only = True  # the open segment follows the previous one across blank lines only
    block_indent = 0
    count = len(lines)
    is_label = _is_label
    index = 0
    while index < count:
        line = lines[index]
        index += 1
        if not line:  # lines arrive right-stripped
            if current:
                segments.append(_Segment(current, command, blank_only))
                current = []
                blank_only = True
            continue
        indent = 0 if line[0] != " " else len(line) - len(line.lstrip(" "))
        if current and indent > block_indent:
            current[-1].pieces.append((line.strip(), len(line)))
            continue
        if ">" in line:
            prompt = _PROMPT.match(line.lstrip())
            if prompt:
                if current:
                    segments.append(_Segment(current, command, blank_only))
                    current = []
                blank_only = False
                command = prompt["command"].strip() or command
                continue
        if indent == 0 and index < count and lines[index][:1] == "-" and _is_table_header(line, lines[index]):
            if current:
                segments.append(_Segment(current, command, blank_only))
                current = []
            blank_only = False
            index = _read_table(lines, index - 1, path, command, tables)
            continue
        # ``Label : value`` (inline: this is the hot path); labels never hold a colon
        colon = line.find(":", indent)
        if colon > 0 and (colon + 1 == len(line) or line[colon + 1] in " \t") and (indent == block_indent or not current):
            label = line[indent:colon].rstrip()
            if is_label(label):
                if not current:
                    block_indent = indent
                current.append(_Field(label, index, [(line[colon + 1:].strip(), len(line))]))
                continue
        if current:  # prose: ends the record
            segments.append(_Segment(current, command, blank_only))
            current = []
        blank_only = False
    if current:
        segments.append(_Segment(current, command, blank_only))
    return segments, tables


@lru_cache(maxsize=4096)
def _is_label(text: str) -> bool:
    return _LABEL.fullmatch(text) is not None


def read_console_text(text: str, path: str) -> list[RawRecord]:
    lines = _normalise(text)
    segments, tables = _scan(lines, path)
    width = max(map(len, lines), default=0)
    records = tables + _records_from_segments(segments, width, path)
    records.sort(key=lambda r: r.source.line or 0)
    return records


def _normalise(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.translate(_SPACES).splitlines()]
    if ">" not in text[:4096]:
        return lines
    non_blank = [line for line in lines if line]
    if sum(1 for line in non_blank if line.lstrip().startswith(">")) >= 0.6 * len(non_blank):
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
            groups.append((segment.fields, segment.command))
    records = []
    canonical, value_of, field_of = canonical_key, text_value, RawField  # locals: this loop runs once per property
    for fields, command in groups:
        chunk: list[RawField] = []
        seen: set[str] = set()
        for item in fields:
            label, pieces = item.label, item.pieces
            key = canonical(label)
            if key in seen:
                records.append(RawRecord(Source(path=path, line=chunk[0].line), tuple(chunk), command=command))
                chunk, seen = [], set()
            text = pieces[0][0] if len(pieces) == 1 else _join(pieces, width)
            chunk.append(field_of(label, value_of(text), item.line, key))
            seen.add(key)
        if chunk:
            records.append(RawRecord(Source(path=path, line=chunk[0].line), tuple(chunk), command=command))
    return records


def _join(pieces: list[tuple[str, int]], width: int) -> str:
    """Rejoin a wrapped value. A line cut at the console width continues mid-word; a word-wrapped one at a space."""
    text, previous_length = pieces[0]
    for piece, length in pieces[1:]:
        cut_mid_word = previous_length >= width >= 60 and not text.endswith(",")
        text = text + piece if cut_mid_word or not text else text + " " + piece
        previous_length = length
    return text


def _is_table_header(line: str, underline: str) -> bool:
    # The dashes start under the first header, at column 0 (headers are never indented).
    if underline[:1] != "-" or line[0].isspace() or not _DASHES.match(underline):
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
        fields = tuple(raw_field(label, text_value(cell), number) for label, cell in zip(labels, cells, strict=True) if label)
        out.append(RawRecord(Source(path=path, line=number), fields, command=command))
    return index


def _cell(line: str, starts: list[int], k: int) -> str:
    end = starts[k + 1] if k + 1 < len(starts) else len(line)
    return line[starts[k]:end].strip()


class ConsoleReader(EvidenceReader):
    """Format-List text and default tables: what is left when no other reader recognises a file."""

    name = "console output"

    def recognises(self, file: EvidenceFile) -> bool:
        return True

    def read(self, file: EvidenceFile) -> Iterator[Record]:
        return at_least_one(iter(read_console_text(file.text, file.display)), file.display)
