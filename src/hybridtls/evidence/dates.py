"""Dates as PowerShell consoles print them, in whatever culture the admin's machine uses.

Day/month order cannot be known from one value like ``12/02/2016``; it is inferred per file from values
that settle it (``18/02/2016``), or given with ``--date-order``. Nothing here guesses silently: an
ambiguous value with no order known parses to ``AmbiguousDate``.
"""

from __future__ import annotations

import enum
import re
from datetime import datetime, timedelta, timezone


class DateOrder(str, enum.Enum):
    DMY = "dmy"
    MDY = "mdy"


class AmbiguousDate(ValueError):
    """The value reads as a valid date with day first and with month first."""


_TIME = (
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,7}))?)?"
    r"\s*(?P<ampm>[AaPp]\.?\s?[Mm]\.?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2}|UTC|GMT)?"
)
_NUMERIC = re.compile(r"^(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})" + _TIME + r"$")
_YEAR_FIRST = re.compile(r"^(?P<year>\d{4})(?P<sep>[/.\-])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})" + _TIME + r"$")
_MS_JSON = re.compile(r"^\\?/Date\((?P<ms>-?\d+)(?P<offset>[+-]\d{4})?\)\\?/$")
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
            ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
            ("october", "oct"), ("november", "nov"), ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_WEEKDAY = r"(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?,?\s+)?"
_DAY_MONTH_NAME = re.compile(
    r"^" + _WEEKDAY + r"(?P<day>\d{1,2})\.?\s+(?P<mname>[A-Za-z]+)\.?,?\s+(?P<year>\d{4})" + _TIME + r"$", re.I
)
_MONTH_NAME_DAY = re.compile(
    r"^" + _WEEKDAY + r"(?P<mname>[A-Za-z]+)\.?\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})" + _TIME + r"$", re.I
)


def _numeric(value: str) -> re.Match[str] | None:
    """``_NUMERIC.match(value)``, remembered for the last value: the loader asks order_evidence, is_ambiguous and
    parse_datetime about the same value one after the other."""
    global _last_numeric
    last_value, last_match = _last_numeric
    if value is last_value or value == last_value:
        return last_match
    match = _NUMERIC.match(value)
    _last_numeric = (value, match)
    return match


_last_numeric: tuple[str, re.Match[str] | None] = ("", None)


def order_evidence(text: str) -> DateOrder | None:
    """Which day/month order this one value proves, if any."""
    match = _numeric(text.strip())
    if not match or match["sep"] == ".":
        return None
    a, b = int(match["a"]), int(match["b"])
    if a > 12 and 1 <= b <= 12:
        return DateOrder.DMY
    if b > 12 and 1 <= a <= 12:
        return DateOrder.MDY
    return None


def is_ambiguous(text: str) -> bool:
    """True when the value needs a day/month order to be read."""
    match = _numeric(text.strip())
    if not match or match["sep"] == ".":
        return False
    a, b = int(match["a"]), int(match["b"])
    return a != b and a <= 12 and b <= 12


def parse_datetime(text: str, order: DateOrder | None = None) -> datetime:
    """Parse a console-printed date. Raises ValueError (AmbiguousDate when order is needed and unknown).

    Returned values are naive: local console time as printed, or UTC for ``/Date(ms)/`` and zoned ISO values.
    """
    try:
        return _parse_datetime(text, order)
    except OverflowError:  # 9999-12-31 23:59:59 -14:00 is past the last date Python holds once made UTC
        raise ValueError(f"{text.strip()[:60]!r} is out of the range of dates") from None


def _parse_datetime(text: str, order: DateOrder | None) -> datetime:
    value = text.strip()
    if not value:
        raise ValueError("empty date")
    match = _MS_JSON.match(value)
    if match:
        try:
            return datetime(1970, 1, 1) + timedelta(milliseconds=int(match["ms"]))
        except OverflowError:
            raise ValueError(f"{value!r} is out of the range of dates") from None
    match = _numeric(value)
    if match:
        first, sep, second, year = match.group("a", "sep", "b", "year")
        a, b = int(first), int(second)
        if sep == ".":
            day, month = a, b
        elif a == b:
            day = month = a
        elif a > 12:
            day, month = a, b
        elif b > 12:
            month, day = a, b
        elif order is None:
            raise AmbiguousDate(f"{value!r} could be day-first or month-first")
        elif order is DateOrder.DMY:
            day, month = a, b
        else:
            month, day = a, b
        return _build(_year(year), month, day, match)
    match = _YEAR_FIRST.match(value)
    if match:
        return _build(int(match["year"]), int(match["month"]), int(match["day"]), match)
    for pattern in (_DAY_MONTH_NAME, _MONTH_NAME_DAY):
        match = pattern.match(value)
        if match and match["mname"].casefold() in _MONTHS:
            return _build(int(match["year"]), _MONTHS[match["mname"].casefold()], int(match["day"]), match)
    raise ValueError(f"{value!r} is not a date in a format PowerShell prints")


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:  # .NET's default two-digit year window: 00-49 -> 20xx
        year += 2000 if year < 50 else 1900
    return year


def _build(year: int, month: int, day: int, match: re.Match[str]) -> datetime:
    hour_text, minute_text, second_text, fraction, ampm_text, tz = match.group(
        "hour", "minute", "second", "fraction", "ampm", "tz")
    hour = int(hour_text or 0)
    minute = int(minute_text or 0)
    second = int(second_text or 0)
    micro = int(fraction.ljust(6, "0")[:6]) if fraction else 0
    ampm = ampm_text.replace(".", "").replace(" ", "").upper() if ampm_text else ""
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueError(f"hour {hour} with {ampm}")
        hour = hour % 12 + (12 if ampm == "PM" else 0)
    moment = datetime(year, month, day, hour, minute, second, micro)  # raises ValueError when invalid
    if tz and tz not in ("Z", "UTC", "GMT"):
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        moment = (moment.replace(tzinfo=timezone(sign * offset))).astimezone(timezone.utc).replace(tzinfo=None)
    return moment
