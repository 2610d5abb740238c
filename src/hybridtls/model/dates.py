"""A date the evidence gives two ways: PowerShell printed ``11/2/2026`` and nothing says which way round it is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class DateReadings:
    """Both readings of a console date whose day and month could be either way round (``11/2/2026``: 11 February
    or 2 November), when nothing in the evidence settles the order. A check judges such a date only where both
    readings give the same verdict, and then names both: the evidence gives no single date."""

    text: str  # as printed: "11/2/2026 1:53:00 PM"
    day_first: datetime
    month_first: datetime

    def __post_init__(self) -> None:
        if self.day_first == self.month_first:
            raise ValueError(f"{self.text!r} reads the same both ways round: it is one date, not two readings")

    @property
    def both(self) -> tuple[datetime, datetime]:
        """The two readings, the earlier first."""
        return (self.day_first, self.month_first) if self.day_first < self.month_first else (
            self.month_first, self.day_first)


def possible_dates(value: datetime | None, readings: DateReadings | None) -> tuple[datetime, ...]:
    """What a date may be, as a record holds it: nothing, the one date read, or both readings (the earlier first)."""
    if value is not None:
        return (value,)
    return readings.both if readings is not None else ()
