"""What the Exchange log readers share: the protocol log's columns, the rows of a
log as the csv module parses them a piece at a time, and a log's UTC times."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime
from itertools import chain
from typing import Any

from hybridtls.errors import EvidenceError
from hybridtls.evidence.interface import pieces

PROTOCOL_FIELDS = ("date-time", "connector-id", "session-id", "sequence-number", "local-endpoint", "remote-endpoint",
                   "event", "data", "context")
# A protocol-log row as pasted without its header: a UTC time, a connector, a session id, a sequence number.
HEADERLESS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z,[^,\n]*,[0-9A-Fa-f]+,\d+,")
PIECE = 1 << 20  # characters of text handed to the csv module at a time


def csv_rows(text: str, path: str) -> Iterator[tuple[int, list[str]]]:
    """(line, fields) for every row, header lines included, as the csv module parses the text a piece at a time;
    malformed CSV is an EvidenceError naming the line."""
    reader = log_rows(text)
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise malformed(exc, path, reader.line_num) from None


def log_rows(text: str) -> Any:
    """A csv reader over the text, fed a piece at a time (its ``line_num`` is the line of the row just read): for
    a reader's hot loop, which asks the line only when it keeps one."""
    return csv.reader(chain.from_iterable(map(io.StringIO, pieces(text, 0, PIECE))))


def malformed(exc: csv.Error, path: str, line_num: int) -> EvidenceError:
    """The csv module has counted the line it failed on when it raises."""
    return EvidenceError(f"malformed CSV in an Exchange log ({exc})", path=path, line=max(line_num, 1))


def log_time(text: str, path: str, line: int) -> datetime | None:
    """A log's ``date-time`` (``2026-11-02T08:15:01.123Z``, UTC) as a naive UTC datetime; None when empty."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text[:-1] if text.endswith("Z") else text)
    except ValueError:
        raise EvidenceError(f"a log time that is not an ISO 8601 UTC time: {text[:40]!r}", path=path,
                            line=line) from None
