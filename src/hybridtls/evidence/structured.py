"""``Export-Csv`` and ``ConvertTo-Json`` output."""

from __future__ import annotations

import csv
import io
import json
import re
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterator
from functools import lru_cache
from itertools import accumulate, chain
from typing import Any

from hybridtls.errors import EvidenceError
from hybridtls.evidence.interface import EvidenceFile, EvidenceReader, Record, at_least_one, pieces
from hybridtls.evidence.raw import RawField, RawRecord, RawValue, canonical_key, text_value
from hybridtls.model import Source

_SHALLOW_HINT = (
    "the export was too shallow: nested values were written as type names; re-export with "
    "'ConvertTo-Json -Depth 4', or for CSV join them: Select-Object *,@{n='CertificateDomains';"
    "e={$_.CertificateDomains -join ','}}"
)
_CSV_HEADER = re.compile(r'^"?[A-Za-z_][\w ]*"?(?:,"?[A-Za-z_][\w ]*"?)+$')
_JSON_SPACE = re.compile(r"[ \t\n\r]*")  # what json.loads skips between values
_STRUCTURAL = re.compile(r'[\[\]{}"]')
# The rest of a JSON string, unrolled: an alternation repeated per character held ~130 bytes of the regex engine's
# state per character (a 300,000-character unterminated string took 40 MB).
_STRING_REST = re.compile(r'[^"\\\n]*(?:\\.[^"\\\n]*)*"')
_JSON_OPENING = re.compile(r'\{[ \t\r\n]*["}]|\[[ \t\r\n]*(?:[{\["\]\d-]|true|false|null)')
MAX_JSON_DIGITS = 40  # longer numbers are refused before Python turns them into integers (4,300 digits raise)


def _bounded_int(text: str) -> int:
    if len(text) > MAX_JSON_DIGITS:
        raise _NumberTooLong(len(text))
    return int(text)


class _NumberTooLong(ValueError):
    def __init__(self, digits: int) -> None:
        super().__init__(f"a number of {digits:,} digits")
        self.digits = digits


_DECODER = json.JSONDecoder(parse_int=_bounded_int)
_EMPTY = RawValue("")
_OTHER_LINE_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # str.splitlines breaks lines there too (and at a lone \r)


def read_csv(text: str, path: str) -> list[RawRecord]:
    return list(iter_csv(text, path))


def iter_csv(text: str, path: str) -> Iterator[RawRecord]:
    """The rows of ``Export-Csv`` output, one record each, as they are parsed (the text is fed to the csv module
    a piece at a time)."""
    offset = position = 0  # lines (as str.splitlines splits them) and characters before the header
    type_hint = None
    for line in chain.from_iterable(piece.splitlines(keepends=True) for piece in pieces(text)):
        if not line.strip():
            offset, position = offset + 1, position + len(line)
            continue
        if line.startswith("#TYPE"):
            type_hint = line[5:].strip()
            offset, position = offset + 1, position + len(line)
        break
    # io.StringIO splits lines at \n only, as the csv module has always been given them here
    reader = csv.reader(chain.from_iterable(map(io.StringIO, pieces(text, position))), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise EvidenceError("a CSV header but no rows", path=path, line=offset + 1) from None
    except csv.Error as exc:
        raise EvidenceError(f"malformed CSV header ({exc})", path=path, line=offset + 1) from None
    if len(header) < 2 or any(not h.strip() for h in header):
        raise EvidenceError("expected a CSV header of property names", path=path, line=offset + 1)
    labels = [(label, canonical_key(label)) for label in header]
    previous_end = reader.line_num
    try:
        for row in reader:
            start_line = offset + previous_end + 1
            previous_end = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise EvidenceError(
                    f"a row of {len(row)} values under a header of {len(header)} (file cut short?)",
                    path=path,
                    line=start_line,
                )
            fields = tuple(RawField(label, _csv_value(cell), start_line, key)
                           for (label, key), cell in zip(labels, row, strict=True))
            yield RawRecord(Source(path=path, line=start_line), fields, type_hint=type_hint)
    except csv.Error as exc:
        raise EvidenceError(f"malformed CSV ({exc})", path=path, line=offset + reader.line_num) from None


def _csv_value(cell: str) -> RawValue:
    value = text_value(cell)
    digits = cell.strip()
    if len(digits) <= MAX_JSON_DIGITS and re.fullmatch(r"-?\d+", digits):  # longer: text, judged as text
        return RawValue(value.text, number=int(digits))
    return value


def read_json(text: str, path: str) -> list[RawRecord]:
    return list(iter_json(text, path))


def iter_json(text: str, path: str) -> Iterator[RawRecord]:
    """The objects of ``ConvertTo-Json`` output, one record each, as they are parsed.

    A top-level array is read one element at a time (``raw_decode``), so the work per object does not grow with
    the file: a property's line is found from its object's line with a bounded ``find``, never by splitting the
    text again. Anything else, and any error, is read through ``json.loads`` of the whole text, whose message and
    line are reported.
    """
    lines = _JsonLines(text)
    start = _skip_space(text)
    done = 0
    if text.startswith("[", start):
        newlines = _NewlineCounter(text)
        try:
            for position, end, item in _array_items(text, start):
                if not isinstance(item, dict):
                    break
                line = newlines.line_at(position)
                yield _json_record(item, line, lines.key_lines(line, position, end), path)
                done += 1
            else:
                return
        except (json.JSONDecodeError, _NumberTooLong, RecursionError):
            pass  # reading the whole text below names the error as it always has
    yield from _document_records(_load_json(text, path), text, lines, path, skip=done)


def _load_json(text: str, path: str) -> Any:
    try:
        return _DECODER.decode(text)
    except _NumberTooLong as exc:
        raise EvidenceError(f"{exc}: more than any Exchange property holds; expected ConvertTo-Json output",
                            path=path) from None
    except RecursionError:
        raise EvidenceError("JSON nested too deeply to be ConvertTo-Json output (it writes at most 100 levels)",
                            path=path) from None
    except json.JSONDecodeError as exc:
        raise EvidenceError(
            f"not valid JSON ({exc.msg}, column {exc.colno}); expected ConvertTo-Json output",
            path=path,
            line=exc.lineno,
            hint="the file may be cut short; export it again" if exc.pos >= len(text.rstrip()) else None,
        ) from None


def _document_records(document: Any, text: str, lines: _JsonLines, path: str, *, skip: int) -> Iterator[RawRecord]:
    """A whole parsed document: an array, Windows PowerShell's ``{"value": [...], "Count": n}``, or one object."""
    if isinstance(document, dict) and isinstance(document.get("value"), list) and "Count" in document:
        document = document["value"]  # Windows PowerShell's array wrapper
    objects = document if isinstance(document, list) else [document]
    starts = _object_lines(text)
    for number, item in enumerate(objects):
        line = starts[number] if number < len(starts) else 1
        if not isinstance(item, dict):
            raise EvidenceError(
                f"expected objects with properties, found {type(item).__name__}", path=path, line=line
            )
        if number >= skip:
            yield _json_record(item, line, lines.key_lines(line), path)


def _json_record(item: dict[str, Any], line: int, key_lines: Callable[[str], int], path: str) -> RawRecord:
    value_of, field_of, canonical = _json_value, RawField, canonical_key
    fields = [field_of(key, value_of(value), key_lines(key), canonical(key)) for key, value in item.items()]
    return RawRecord(Source(path=path, line=line), tuple(fields))


def shallow_hint() -> str:
    return _SHALLOW_HINT


def _json_value(value: Any) -> RawValue:
    kind = type(value)
    if kind is str:  # the common case first
        return text_value(value) if value.startswith("@{") or value.endswith("[]") else RawValue(value)
    if value is None:
        return _EMPTY
    if kind is bool:
        return RawValue("True" if value else "False")
    if isinstance(value, int):
        return RawValue(str(value), number=value)
    if isinstance(value, float):
        return RawValue(repr(value))
    if isinstance(value, list):
        items = tuple(_scalar_text(v) for v in value)
        return RawValue("{" + ", ".join(items) + "}", items=items)
    if isinstance(value, dict):
        return RawValue(_scalar_text(value))
    return RawValue(str(value))


def _scalar_text(value: Any) -> str:
    if isinstance(value, dict):
        for key in ("value", "Address", "Domain", "Name", "DisplayName", "FriendlyName"):
            if key in value and not isinstance(value[key], (dict, list)):
                return str(value[key])
        return json.dumps(value, sort_keys=True)
    if isinstance(value, bool):
        return "True" if value else "False"
    return "" if value is None else str(value)


def _skip_space(text: str, position: int = 0) -> int:
    return _JSON_SPACE.match(text, position).end()  # type: ignore[union-attr]  # the pattern matches anywhere


def _array_items(text: str, start: int) -> Iterator[tuple[int, int, Any]]:
    """(start, end, value) of each element of the top-level array opening at ``start``; JSONDecodeError when the
    text is not exactly one array (the caller then lets ``json.loads`` say why)."""
    decode = _DECODER.raw_decode
    position = _skip_space(text, start + 1)
    if text.startswith("]", position):
        if _skip_space(text, position + 1) != len(text):
            raise json.JSONDecodeError("Extra data", text, position + 1)
        return
    while True:
        item, end = decode(text, position)
        yield position, end, item
        position = _skip_space(text, end)
        if text.startswith(",", position):
            position = _skip_space(text, position + 1)
        elif text.startswith("]", position):
            if _skip_space(text, position + 1) != len(text):
                raise json.JSONDecodeError("Extra data", text, position + 1)
            return
        else:
            raise json.JSONDecodeError("Expecting ',' delimiter", text, position)


class _NewlineCounter:
    """1 + the number of ``\n`` before an offset, for offsets asked in increasing order (each counted once)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._offset = 0
        self._line = 1

    def line_at(self, offset: int) -> int:
        if offset < self._offset:
            self._offset, self._line = 0, 1
        self._line += self._text.count("\n", self._offset, offset)
        self._offset = offset
        return self._line


class _JsonLines:
    """Which line holds a property: the first line, from its object's line to 400 lines on, that holds the key as
    JSON writes it (``"Key"``).

    Lines are as ``str.splitlines`` splits them. When the text breaks lines only with ``\\n`` or ``\\r\\n`` (the
    usual case), a key is looked for within its object first and its line counted from the object's line; an index
    of every line end is built only for other line breaks, or for a key not found within its object.
    """

    __slots__ = ("_text", "_ends", "_exotic")

    def __init__(self, text: str) -> None:
        self._text = text
        self._exotic = text.count("\r") != text.count("\r\n") or any(c in text for c in _OTHER_LINE_BREAKS)
        self._ends: array[int] | None = None

    def key_lines(self, object_line: int, start: int = -1, end: int = -1) -> Callable[[str], int]:
        """The line of each key of the object on ``object_line``, which spans ``start:end`` of the text (when
        known: an element of a top-level array)."""
        text = self._text
        begin = text.rfind("\n", 0, start) + 1  # the start of the object's line
        if self._exotic or start < 0 or text.count("\n", begin, end) >= 400:
            return lambda key: self._indexed(key, object_line)
        find, count = text.find, text.count
        last = [begin, object_line]  # where the previous key was found, and its line

        def line_of(key: str) -> int:
            found = find(_needle(key), begin, end)
            if found < 0:
                return self._indexed(key, object_line)
            at, line = last
            if found < at:
                at, line = begin, object_line
            line += count("\n", at, found)
            last[0], last[1] = found, line
            return line

        return line_of

    def _indexed(self, key: str, object_line: int) -> int:
        if self._ends is None:
            self._ends = _line_ends(self._text)
        ends = self._ends
        last = min(len(ends), object_line + 400)
        if object_line > last:
            return object_line
        begin = ends[object_line - 2] if object_line >= 2 else 0
        found = self._text.find(_needle(key), begin, ends[last - 1])
        return object_line if found < 0 else bisect_right(ends, found, object_line - 1) + 1


@lru_cache(maxsize=4096)
def _needle(key: str) -> str:
    return json.dumps(key)


def _line_ends(text: str) -> array[int]:
    """The offset just past each line (and its line break), as ``str.splitlines`` splits lines."""
    ends = array("q")
    offset = 0
    for chunk in pieces(text):
        running = accumulate(map(len, chunk.splitlines(keepends=True)), initial=offset)
        next(running)  # the chunk's start
        ends.extend(running)
        offset += len(chunk)
    return ends


def _object_lines(text: str) -> list[int]:
    """1-based line of each top-level object's opening brace (of a document already known to be valid JSON)."""
    start = _skip_space(text)
    newlines = _NewlineCounter(text)
    if text.startswith("{", start):
        return [newlines.line_at(start)]
    if not text.startswith("[", start):
        return []
    return [newlines.line_at(position) for position, _, item in _array_items(text, start) if isinstance(item, dict)]


def json_block_end(text: str, opening: int) -> int | None:
    """The end of the line holding the bracket that closes the one at ``opening``, or None."""
    depth = 0
    position = opening
    while True:
        match = _STRUCTURAL.search(text, position)
        if match is None:
            return None
        char = match.group()
        if char == '"':
            rest = _STRING_REST.match(text, match.end())
            if rest is None:
                return None
            position = rest.end()
            continue
        depth += 1 if char in "[{" else -1
        position = match.end()
        if depth == 0:
            line_end = text.find("\n", position)
            return len(text) if line_end < 0 else line_end + 1


class JsonReader(EvidenceReader):
    name = "ConvertTo-Json output"

    def recognises(self, file: EvidenceFile) -> bool:
        r"""A file that is JSON from its first character to its last; JSON inside prose is a block of the text
        (``blocks``). ``[PS] C:\>`` is the Exchange Management Shell's prompt and ``{Update}`` prose, not JSON."""
        if _JSON_OPENING.match(file.head(64)) is None:
            return False
        text = file.text
        if text.rstrip()[-1:] in ("]", "}"):
            return True
        # JSON and then more is a block of mixed text; JSON that never closes is cut short, and said to be
        return json_block_end(text, len(text) - len(text.lstrip())) is None

    def read(self, file: EvidenceFile) -> Iterator[Record]:
        return at_least_one(iter_json(file.text, file.display), file.display)


class CsvReader(EvidenceReader):
    name = "Export-Csv output"

    def recognises(self, file: EvidenceFile) -> bool:
        first_line = file.first_line()
        return first_line.startswith("#TYPE") or _CSV_HEADER.match(first_line) is not None

    def read(self, file: EvidenceFile) -> Iterator[Record]:
        return at_least_one(iter_csv(file.text, file.display), file.display)
