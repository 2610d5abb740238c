"""``Export-Csv`` and ``ConvertTo-Json`` output."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from hybridtls.errors import EvidenceError
from hybridtls.evidence.raw import RawRecord, RawValue, raw_field, text_value
from hybridtls.model import Source

_SHALLOW_HINT = (
    "the export was too shallow: nested values were written as type names; re-export with "
    "'ConvertTo-Json -Depth 4', or for CSV join them: Select-Object *,@{n='CertificateDomains';"
    "e={$_.CertificateDomains -join ','}}"
)


def read_csv(text: str, path: str) -> list[RawRecord]:
    lines = text.splitlines(keepends=True)
    type_hint = None
    offset = 0
    while offset < len(lines) and not lines[offset].strip():
        offset += 1
    if offset < len(lines) and lines[offset].startswith("#TYPE"):
        type_hint = lines[offset][5:].strip()
        offset += 1
    reader = csv.reader(io.StringIO("".join(lines[offset:])), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise EvidenceError("a CSV header but no rows", path=path, line=offset + 1) from None
    except csv.Error as exc:
        raise EvidenceError(f"malformed CSV header ({exc})", path=path, line=offset + 1) from None
    if len(header) < 2 or any(not h.strip() for h in header):
        raise EvidenceError("expected a CSV header of property names", path=path, line=offset + 1)
    records = []
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
            fields = tuple(raw_field(label, _csv_value(cell), start_line) for label, cell in zip(header, row, strict=True))
            records.append(RawRecord(Source(path=path, line=start_line), fields, type_hint=type_hint))
    except csv.Error as exc:
        raise EvidenceError(f"malformed CSV ({exc})", path=path, line=offset + reader.line_num) from None
    return records


def _csv_value(cell: str) -> RawValue:
    value = text_value(cell)
    if re.fullmatch(r"-?\d+", cell.strip()):
        return RawValue(value.text, number=int(cell.strip()))
    return value


def read_json(text: str, path: str) -> list[RawRecord]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EvidenceError(
            f"not valid JSON ({exc.msg}, column {exc.colno}); expected ConvertTo-Json output",
            path=path,
            line=exc.lineno,
            hint="the file may be cut short; export it again" if exc.pos >= len(text.rstrip()) else None,
        ) from None
    if isinstance(document, dict) and isinstance(document.get("value"), list) and "Count" in document:
        document = document["value"]  # Windows PowerShell's array wrapper
    objects = document if isinstance(document, list) else [document]
    starts = _object_lines(text, len(objects))
    records = []
    for number, item in enumerate(objects):
        line = starts[number] if number < len(starts) else 1
        if not isinstance(item, dict):
            raise EvidenceError(
                f"expected objects with properties, found {type(item).__name__}", path=path, line=line
            )
        fields = tuple(
            raw_field(str(key), _json_value(value), _key_line(text, str(key), line)) for key, value in item.items()
        )
        records.append(RawRecord(Source(path=path, line=line), fields))
    return records


def shallow_hint() -> str:
    return _SHALLOW_HINT


def _json_value(value: Any) -> RawValue:
    if value is None:
        return RawValue("")
    if isinstance(value, bool):
        return RawValue("True" if value else "False")
    if isinstance(value, int):
        return RawValue(str(value), number=value)
    if isinstance(value, float):
        return RawValue(repr(value))
    if isinstance(value, str):
        return text_value(value) if value.startswith("@{") or value.endswith("[]") else RawValue(value)
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


def _object_lines(text: str, count: int) -> list[int]:
    """1-based line of each top-level object's opening brace."""
    depth = 0
    in_string = escaped = False
    lines = []
    line = 1
    for ch in text:
        if ch == "\n":
            line += 1
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "[{":
            if ch == "{" and (depth == 0 or (depth == 1 and text.lstrip()[0] == "[")):
                lines.append(line)
            depth += 1
        elif ch in "]}":
            depth -= 1
        if len(lines) >= count and depth == 0:
            break
    return lines


def _key_line(text: str, key: str, object_line: int) -> int:
    lines = text.splitlines()
    needle = json.dumps(key)
    for index in range(object_line - 1, min(len(lines), object_line + 400)):
        if needle in lines[index]:
            return index + 1
    return object_line
