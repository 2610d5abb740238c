from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hybridtls.evidence.dates import AmbiguousDate, DateOrder, is_ambiguous, order_evidence, parse_datetime
from hybridtls.model import DateReadings, ExchangeCertificate, Source


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("12/02/2018 1:53:00 PM", DateOrder.DMY, datetime(2018, 2, 12, 13, 53)),
        ("12/02/2018 1:53:00 PM", DateOrder.MDY, datetime(2018, 12, 2, 13, 53)),
        ("18/02/2016 11:23:21 AM", None, datetime(2016, 2, 18, 11, 23, 21)),
        ("2/18/2016 11:23:21 AM", None, datetime(2016, 2, 18, 11, 23, 21)),
        ("12/2/2018 12:05:00 AM", DateOrder.MDY, datetime(2018, 12, 2, 0, 5)),
        ("15.03.2019 02:31:53", None, datetime(2019, 3, 15, 2, 31, 53)),
        ("05.03.2019 14:31:53", None, datetime(2019, 3, 5, 14, 31, 53)),  # dots are always day-first
        ("2016/2/12", None, datetime(2016, 2, 12)),
        ("2016-02-12T13:43:23", None, datetime(2016, 2, 12, 13, 43, 23)),
        ("2016-02-12T13:43:23.1234567+01:00", None, datetime(2016, 2, 12, 12, 43, 23, 123456)),
        ("18-02-16 13:43:23", None, datetime(2016, 2, 18, 13, 43, 23)),
        ("03-04-99 13:43:23", DateOrder.DMY, datetime(1999, 4, 3, 13, 43, 23)),
        ("/Date(1455284603000)/", None, datetime(2016, 2, 12, 13, 43, 23)),
        ("/Date(-62135596800000)/", None, datetime(1, 1, 1)),
        ("\\/Date(1455284603000)\\/", None, datetime(2016, 2, 12, 13, 43, 23)),
        ("Friday, 12 February 2016 1:43:23 PM", None, datetime(2016, 2, 12, 13, 43, 23)),
        ("February 12, 2016 1:43:23 p.m.", None, datetime(2016, 2, 12, 13, 43, 23)),
        ("7/7/2020 9:00:00 AM", None, datetime(2020, 7, 7, 9)),
    ],
)
def test_console_dates(text: str, order: DateOrder | None, expected: datetime) -> None:
    assert parse_datetime(text, order) == expected


def test_ambiguous_date_needs_an_order() -> None:
    with pytest.raises(AmbiguousDate):
        parse_datetime("12/02/2018 1:53:00 PM")
    assert is_ambiguous("12/02/2018 1:53:00 PM")
    assert not is_ambiguous("18/02/2016 11:23:21 AM")
    assert not is_ambiguous("12.02.2018 13:53:00")


@pytest.mark.parametrize("text", ["/Date(99999999999999999)/", "31/31/2016", "2/30/2016 1:00:00 PM", "13:00 yesterday", "", "13/02/2016 13:00:00 PM"])
def test_not_dates(text: str) -> None:
    with pytest.raises(ValueError):
        parse_datetime(text, DateOrder.DMY)


def test_order_evidence() -> None:
    assert order_evidence("18/02/2016 11:23:21 AM") is DateOrder.DMY
    assert order_evidence("2/18/2016 11:23:21 AM") is DateOrder.MDY
    assert order_evidence("12/02/2016") is None
    assert order_evidence("18.02.2016") is None  # dotted dates prove nothing about slashed ones


@given(st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(2049, 12, 31)).map(lambda d: d.replace(microsecond=0)),
       st.sampled_from(["dmy12", "mdy12", "dmy24", "dots", "ymd", "iso", "dashes2"]))
def test_formatted_dates_round_trip(moment: datetime, style: str) -> None:
    hour12 = f"{moment.hour % 12 or 12}:{moment:%M:%S} {'PM' if moment.hour >= 12 else 'AM'}"
    text, order = {
        "dmy12": (f"{moment.day:02d}/{moment.month:02d}/{moment.year} {hour12}", DateOrder.DMY),
        "mdy12": (f"{moment.month}/{moment.day}/{moment.year} {hour12}", DateOrder.MDY),
        "dmy24": (f"{moment.day}/{moment.month}/{moment.year} {moment:%H:%M:%S}", DateOrder.DMY),
        "dots": (f"{moment:%d.%m.%Y} {moment.hour}:{moment:%M:%S}", None),
        "ymd": (f"{moment.year}/{moment.month}/{moment.day} {moment:%H:%M:%S}", None),
        "iso": (moment.isoformat(), None),
        "dashes2": (f"{moment:%d-%m-%y %H:%M:%S}", DateOrder.DMY),
    }[style]
    assert parse_datetime(text, order) == moment


def test_date_readings_are_two_dates_the_earlier_first_and_never_one_held_twice() -> None:
    november, february = datetime(2026, 11, 2, 13, 53), datetime(2026, 2, 11, 13, 53)
    month_first = DateReadings(text="11/2/2026 1:53:00 PM", day_first=february, month_first=november)
    day_first = DateReadings(text="2/11/2026 1:53:00 PM", day_first=november, month_first=february)
    assert month_first.both == day_first.both == (february, november)
    with pytest.raises(ValueError, match="reads the same both ways round"):
        DateReadings(text="7/7/2026", day_first=datetime(2026, 7, 7), month_first=datetime(2026, 7, 7))
    with pytest.raises(ValueError, match="either read or held as two readings"):
        ExchangeCertificate(source=Source(path="c.txt"), not_after=november, not_after_readings=month_first)
    cert = ExchangeCertificate(source=Source(path="c.txt"), not_before=february, not_after_readings=month_first)
    assert (cert.possible_not_before, cert.possible_not_after) == ((february,), (february, november))
