"""Message-tracking logs (``MSGTRK*.log``): DEFER and FAIL rows become delivery errors, every event is counted.

The columns are found by name in ``#Fields`` (30 from ``date-time`` to ``schema-version``; older 2013 builds end at
``custom-data``). A DEFER or FAIL row's ``recipient-status`` (else its ``source-context``) is the error text the
delivery-error catalogue reads; at most ``KEEP_PER_TEXT`` rows of one text are kept per file, and at most
``MAX_KEPT`` in all; the rest are counted in the file's ``TrackingSummary``.
"""

from __future__ import annotations

from collections.abc import Iterator

from hybridtls.errors import EvidenceError
from hybridtls.evidence.interface import EvidenceFile, Record
from hybridtls.evidence.logs.common import csv_rows, log_time
from hybridtls.model import DeliveryError, Source, TrackingSummary

KEEP_PER_TEXT = 50
MAX_KEPT = 5_000  # delivery errors per file, whatever else (a hostile file of all-different texts stays bounded)
MAX_EVENTS = 64  # distinct event ids counted per file; past it they are counted as "(other)"
_ERROR_EVENTS = frozenset({"DEFER", "FAIL"})


def read_tracking_log(file: EvidenceFile, fields: tuple[str, ...]) -> Iterator[Record]:
    path = file.display
    column = {name: index for index, name in enumerate(fields)}
    when_at, event_at, status_at = column.get("date-time"), column["event-id"], column["recipient-status"]
    context_at, host_at = column.get("source-context"), column.get("server-hostname")
    folder_server = file.server.name if file.server else None
    counts: dict[str, int] = {}
    kept: dict[str, int] = {}
    total = 0
    first = last = ""
    first_line = None
    server = folder_server  # else the server-hostname of the first RECEIVE (a SEND's names the next hop)
    for line, row in csv_rows(file.text, path):
        if not row or row[0].startswith("#") or row[0] == "date-time" or not "".join(row).strip():
            continue
        if len(row) <= max(event_at, status_at):
            raise EvidenceError(f"a message-tracking row of {len(row)} fields, expected {len(fields)}", path=path,
                                line=line)
        first_line = first_line or line
        when = row[when_at] if when_at is not None else ""
        first, last = (when if not first or when < first else first), max(last, when)
        event = row[event_at].upper()
        counted = event if event in counts or len(counts) < MAX_EVENTS else "(other)"
        counts[counted] = counts.get(counted, 0) + 1
        if host_at is not None and not server and event == "RECEIVE" and row[host_at]:
            server = row[host_at]
        if event not in _ERROR_EVENTS:
            continue
        text = row[status_at] or (row[context_at] if context_at is not None else "")
        if not text:
            continue
        seen = kept.get(text, 0)
        if seen >= KEEP_PER_TEXT or total >= MAX_KEPT:
            continue
        kept[text], total = seen + 1, total + 1
        yield DeliveryError(source=Source(path=path, line=line), origin=f"message tracking log {server or '?'}",
                            text=text, server=server, when=log_time(when, path, line))
    if first_line is None:
        raise EvidenceError("a message-tracking log with no rows", path=path)
    yield TrackingSummary(source=Source(path=path, line=first_line), server=server,
                          first_seen=log_time(first, path, first_line), last_seen=log_time(last, path, first_line),
                          events=tuple(counts.items()))

