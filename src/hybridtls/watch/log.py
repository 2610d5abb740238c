"""What a watch tells its log: one event per line, ``key=value`` pairs, every value inert and on one line.

The application never prints: it hands ``Event`` records to a callback; the command line writes ``line(event)``
to standard output, where systemd's journal (or any log shipper) takes one line per event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from hybridtls.report.escape import inert


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One thing that happened: ``kind`` is a word (round, alert, alert_repeat, sink_failed, notice, stopping)."""

    kind: str
    message: str
    fields: tuple[tuple[str, str], ...] = ()
    at: datetime | None = None


Logger = Callable[[Event], None]


def line(event: Event) -> str:
    """``2026-11-30T10:00:00Z event=alert kind=certificate_changed ... msg="..."``: one line, nothing live in it."""
    pairs = [("event", event.kind), *event.fields, ("msg", event.message)]
    text = " ".join(f"{key}={_value(value)}" for key, value in pairs)
    return f"{event.at:%Y-%m-%dT%H:%M:%SZ} {text}" if event.at else text


def _value(text: str) -> str:
    shown = inert(text, single_line=True)
    if shown and not any(c in shown for c in ' "=\\'):
        return shown
    return '"' + shown.replace("\\", "\\\\").replace('"', '\\"') + '"'
