"""Durations as a person types them on the command line: ``90d``, ``12h``, ``5m``, ``30s`` (``--keep``, intervals)."""

from __future__ import annotations

import re
from datetime import timedelta

from hybridtls.errors import UsageError

_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_DURATION = re.compile(r"(?P<count>[0-9]{1,15})(?P<unit>[dhms])")
LONGEST = timedelta(days=36500)  # a hundred years: any longer and a date it is taken from leaves datetime's range


def parse_duration(text: str, *, option: str = "duration") -> timedelta:
    """A whole positive number and one unit (d, h, m, s); a UsageError naming ``option`` and what was expected."""
    match = _DURATION.fullmatch(text.strip().lower())
    if not match:
        raise UsageError(f"{option} {text.strip()[:40]!r} is not a duration",
                         hint="a whole number and a unit: 90d (days), 12h (hours), 5m (minutes) or 30s (seconds)")
    count = int(match["count"])
    if count == 0:
        raise UsageError(f"{option} {text.strip()!r} must be longer than zero")
    value = timedelta(**{_UNITS[match["unit"]]: min(count, LONGEST.days * 86400 + 1)})  # never overflows
    if value > LONGEST:
        raise UsageError(f"{option} {text.strip()!r} is longer than {LONGEST.days} days",
                         hint="give at most 36500d (a hundred years)")
    return value


def format_duration(value: timedelta) -> str:
    """The shortest exact ``parse_duration`` form: ``timedelta(days=90)`` is ``90d``, 90 minutes ``90m``."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
