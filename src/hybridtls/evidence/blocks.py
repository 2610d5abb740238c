"""Text whose format changes from block to block: a forum post, an e-mail or a ticket that quotes
``ConvertTo-Json`` output, an ``Export-Csv`` file and ``Format-List`` text between paragraphs of prose.

A file's format is decided per block, never from its first byte. JSON and CSV blocks are found by their shape (a
line that opens an array or object and the bracket that closes it; a header of property names and rows with as many
values) and read by the JSON and CSV readers; everything else, prose included, is read as console text. Each block
is read as what the command on the prompt line above it produced. Lines keep their numbers in the file.
"""

from __future__ import annotations

import csv
import html
import re
from bisect import bisect_right
from collections.abc import Iterator

from hybridtls.errors import EvidenceError
from hybridtls.evidence.console import PROMPT, iter_console_text
from hybridtls.evidence.interface import EXPECTED, EvidenceFile, EvidenceReader, Record
from hybridtls.evidence.raw import RawField, RawRecord, raw_field, text_value
from hybridtls.evidence.structured import iter_csv, iter_json, json_block_end
from hybridtls.model import Notice, Source

# A line that opens ConvertTo-Json output: "[" or "{" alone, or followed by what JSON puts next ("[PS]" is a prompt).
_JSON_START = re.compile(r'^[ \t]*(?:\[[ \t]*(?:\r?$|[{\["\]])|\{[ \t]*(?:\r?$|["}]))', re.M)
# An Export-Csv header: quoted names (two or more), or three or more bare names; "#TYPE" above it is kept.
_CSV_START = re.compile(r'^(?:#TYPE [^\r\n]*\r?\n)?(?:"[A-Za-z_][\w ]*"(?:,"[A-Za-z_][\w ]*")+'
                        r'|[A-Za-z_]\w*(?:,[A-Za-z_]\w*){2,})[ \t]*\r?$', re.M)
_PROMPT_LOOKBACK = 20  # lines above a block searched for the prompt that produced it
# Entities that only text copied from a web page's source holds (a Format-List value may hold a plain "&amp;").
_WEB_PAGE = re.compile(r"&(?:gt|lt|quot|#39|#x27|nbsp);")
_ENTITY = re.compile(r"&(?:[A-Za-z]{2,8}|#\d{1,7}|#[xX][0-9A-Fa-f]{1,6});")
_LINE_BREAKS = frozenset("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def has_blocks(text: str) -> bool:
    """Cheap: whether any line could open a JSON or CSV block (most console text has none)."""
    return _JSON_START.search(text) is not None or _CSV_START.search(text) is not None


def iter_blocks(text: str, path: str, notices: list[Notice] | None = None) -> Iterator[RawRecord]:
    """The records of every block, in file order; what the console reader says of lines it did not read goes to
    ``notices``."""
    position = 0
    line = 1
    for start, end, kind in _blocks(text):
        if start > position:
            yield from _console(text[position:start], path, line, notices)
        block_line = line + text.count("\n", position, start)
        command = _command_above(text, start)
        records = _structured(text[start:end], path, kind)
        if records is None:  # not JSON after all: read as console text
            yield from _console(text[start:end], path, block_line, notices)
        else:
            yield from (_moved(record, block_line - 1, command) for record in records)
        line = block_line + text.count("\n", start, end)
        position = end
    if position < len(text):
        yield from _console(text[position:], path, line, notices)


def _blocks(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, "json" or "csv") of each block, in order, not overlapping."""
    position = 0
    json_search = True
    while position < len(text):
        json_match = _JSON_START.search(text, position) if json_search else None
        csv_match = _CSV_START.search(text, position)
        if json_match is None and csv_match is None:
            return
        if json_match is not None and (csv_match is None or json_match.start() <= csv_match.start()):
            matched = json_match.group()
            end = json_block_end(text, json_match.start() + len(matched) - len(matched.lstrip(" \t")))
            if end is None:  # never closed: no later line can open a block that closes either
                json_search = False
                continue
            yield json_match.start(), end, "json"
            position = end
        else:
            assert csv_match is not None
            end = _csv_end(text, csv_match)
            if end is None:
                position = csv_match.end()
                continue
            yield csv_match.start(), end, "csv"
            position = end




def _csv_end(text: str, header: re.Match[str]) -> int | None:
    """The end of the rows under a CSV header (as many values each), or None when no row follows it."""
    width = len(next(csv.reader([header.group().splitlines()[-1]])))
    position = header.end() + 1
    end = None
    while position < len(text):
        line_end = text.find("\n", position)
        line_end = len(text) if line_end < 0 else line_end
        line = text[position:line_end]
        try:
            row = next(csv.reader([line]), [])
        except csv.Error:
            break
        if not line.strip() or len(row) != width:
            break
        end = line_end + 1
        position = line_end + 1
    return min(end, len(text)) if end is not None else None


def _structured(block: str, path: str, kind: str) -> list[RawRecord] | None:
    try:
        return list(iter_json(block, path) if kind == "json" else iter_csv(block, path))
    except EvidenceError:
        return None


def _console(text: str, path: str, first_line: int, notices: list[Notice] | None) -> Iterator[RawRecord]:
    if text.strip():
        yield from iter_console_text(text, path, notices, first_line=first_line)


def _command_above(text: str, start: int) -> str | None:
    """The command on the prompt line just above a block (blank lines between them), if there is one: a block
    under prose is not that command's output."""
    above = text[max(0, start - 4096):start].splitlines()[-_PROMPT_LOOKBACK:]
    for line in reversed(above):
        if not line.strip():
            continue
        match = PROMPT.match(line.strip())
        return (match["command"].strip() or None) if match else None
    return None


def _moved(record: RawRecord, lines: int, command: str | None) -> RawRecord:
    """A block's record with its lines counted from the top of the file, and the command that produced it."""
    fields = tuple(RawField(f.label, f.value, f.line + lines, f.key) for f in record.fields)
    source = Source(path=record.source.path, line=(record.source.line or 1) + lines)
    return RawRecord(source, fields, type_hint=record.type_hint, command=record.command or command)


class ConsoleReader(EvidenceReader):
    """Format-List text, default tables, and text that mixes them with JSON, CSV and prose: what is left when no
    other reader recognises a file."""

    name = "console output"

    def recognises(self, file: EvidenceFile) -> bool:
        return True

    def read(self, file: EvidenceFile) -> Iterator[Record]:
        return _with_notices(file.text, file.display)


def _with_notices(text: str, path: str) -> Iterator[Record]:
    """The records and, as they come, what was said about lines not read; or an EvidenceError saying why, when no
    record was read."""
    notices: list[Notice] = []
    if _WEB_PAGE.search(text):
        text = _ENTITY.sub(_character, text)
        notices.append(Notice(source=Source(path=path), message="HTML entities (&gt;, &quot; ...) read as the "
                              "characters a web page shows for them: the text was copied from a page's source"))
    read = False
    text, headers = _group_headers(text)
    records = iter_blocks(text, path, notices) if has_blocks(text) else iter_console_text(text, path, notices)
    for record in _under_group_headers(records, headers) if headers else records:
        read = True
        if notices:
            yield from notices
            notices.clear()
        yield record
    if not read:
        if notices:
            first = notices[0]
            more = f" (and {len(notices) - 1:,} more such notes)" if len(notices) > 1 else ""
            raise EvidenceError(f"no PowerShell output read: {first.message}{more}",
                                path=path, line=first.source.line, hint=first.hint)
        raise EvidenceError("no PowerShell output found; " + EXPECTED, path=path)
    yield from notices


# PowerShell's group header, above each store's certificates: "   PSParentPath: ...Certificate::LocalMachine\\Root".
# Format-List writes "PSParentPath : ..." (a space before the colon): that is a property, not this.
def console_rest(lines: list[str], path: str) -> Iterator[Record]:
    """What another reader left of a file, read as console text (blocks and group headers too): its lines, blanked
    where that reader read so that line numbers stay the file's. Nothing when only prose is left. ``lines`` is
    emptied."""
    text = "\n".join(lines)
    lines.clear()
    if not text.strip():
        return
    try:
        yield from _with_notices(text, path)
    except EvidenceError:  # nothing but prose around the other reader's output: passed over, as prose is
        return


_GROUP_HEADER = re.compile(r"^[ \t]*(?P<label>PSParentPath): (?P<value>\S[^\n]*)$", re.M)  # value stripped after


def _group_headers(text: str) -> tuple[str, list[tuple[int, RawField | None]]]:
    """The text with its group headers blanked, and where each header (or a prompt, which ends one) is."""
    if "PSParentPath: " not in text:
        return text, []
    marks: list[tuple[int, RawField | None]] = []
    line, counted = 1, 0
    for match in _GROUP_HEADER.finditer(text):
        line += text.count("\n", counted, match.start())  # counted once over the text, however many headers
        counted = match.start()
        marks.append((line, raw_field(match["label"], text_value(match["value"].strip()), line)))
    if not marks:
        return text, []
    for number, line_text in enumerate(text.split("\n"), start=1):
        if ">" in line_text and PROMPT.match(line_text.strip()):
            marks.append((number, None))
    marks.sort(key=lambda mark: mark[0])
    return _GROUP_HEADER.sub("", text), marks


def _under_group_headers(records: Iterator[RawRecord], marks: list[tuple[int, RawField | None]]) -> Iterator[RawRecord]:
    """Each record under a group header (one per store with ``-Recurse``) gets it as a property, until the next
    header or prompt."""
    lines = [line for line, _ in marks]
    for record in records:
        at = bisect_right(lines, record.source.line or 0) - 1
        header = marks[at][1] if at >= 0 else None
        if header is None or record.get("PSParentPath") is not None:
            yield record
            continue
        yield RawRecord(record.source, (*record.fields, header), type_hint=record.type_hint, command=record.command)


def _character(entity: re.Match[str]) -> str:
    """An entity's character; one that would break a line stays as written (line numbers stay the file's)."""
    character = html.unescape(entity.group())
    return entity.group() if any(c in _LINE_BREAKS for c in character) else character
