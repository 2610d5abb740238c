"""Judging a date the evidence may give two ways: a check decides on each reading of it, and judges only when the
readings agree; when they do not, it says what it could not judge instead of passing it over."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from hybridtls.model import DateReadings, NotJudged, Source

V = TypeVar("V")

SETTLE_HINT = "--date-order dmy or --date-order mdy settles it"


def verdicts(dates: Sequence[datetime], verdict: Callable[[datetime], V]) -> list[V]:
    """The distinct verdicts of a date's readings, in the readings' order: one when they agree (or the date was
    read one way only), so the date is judged; more than one when they disagree, so it is not."""
    found: list[V] = []
    for date in dates:
        value = verdict(date)
        if value not in found:
            found.append(value)
    return found


def days_text(dates: Sequence[datetime]) -> str:
    """A date as the evidence gives it: ``2026-11-02``, or ``2026-02-11 or 2026-11-02`` for both readings."""
    return " or ".join(f"{date:%Y-%m-%d}" for date in dates)


def reads(label: str, readings: DateReadings) -> str:
    """``NotAfter 11/2/2026 1:53:00 PM is 2026-02-11 or 2026-11-02 (day and month could be either way round)``."""
    return f"{label} {readings.text} is {days_text(readings.both)} (day and month could be either way round)"


def each_reading(dates: Sequence[datetime], describe: Callable[[datetime], str]) -> str:
    """How readings disagree: ``expired if 2026-02-11, not expired if 2026-11-02``."""
    return ", ".join(f"{describe(date)} if {date:%Y-%m-%d}" for date in dates)


def expired_on(dates: Sequence[datetime], now: datetime) -> str | None:
    """When a certificate expired, if it did under every reading of its NotAfter: ``2026-11-02``, or ``2026-02-11 or
    2026-11-02``. None when it has not under some reading (or there is no date): not known to have expired."""
    return days_text(dates) if dates and all(date < now for date in dates) else None


def valid_until(dates: Sequence[datetime], now: datetime) -> str | None:
    """Until when a certificate is valid, if it is under every reading of its NotAfter; None otherwise."""
    return days_text(dates) if dates and all(date > now for date in dates) else None


def as_printed(readings: DateReadings | None) -> str:
    """A date read two ways, for a citation: ``11/2/2026 1:53:00 PM (2026-02-11 or 2026-11-02)``; ``?`` for none."""
    return f"{readings.text} ({days_text(readings.both)})" if readings else "?"


def not_judged(subject: str, label: str, readings: DateReadings, source: Source, disagreement: str) -> NotJudged:
    """A date whose readings disagree: ``disagreement`` says how (``expired under one reading, not the other``)."""
    return NotJudged(subject=subject, source=source,
                     reason=f"{reads(label, readings)}: {disagreement}; {SETTLE_HINT}")
