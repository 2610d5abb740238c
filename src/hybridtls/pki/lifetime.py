"""How long a publicly-trusted TLS certificate may live (CA/B Forum Baseline Requirements 6.3.2, ballot SC-081),
and when a certificate should be renewed. Pure date arithmetic."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hybridtls import references as refs

ONE_SECOND = timedelta(seconds=1)
_SCHEDULE = tuple((date.fromisoformat(day), days) for day, days in refs.PUBLIC_TLS_LIFETIMES)


def comparable(now: datetime, like: datetime) -> datetime:
    """``now`` comparable with ``like``: certificate dates may be naive UTC or aware, and ``--now`` either."""
    if like.tzinfo is not None and now.tzinfo is None:
        return now.replace(tzinfo=like.tzinfo)
    if like.tzinfo is None and now.tzinfo is not None:
        return now.replace(tzinfo=None)
    return now


def validity(not_before: datetime, not_after: datetime) -> timedelta:
    """The validity period as the BRs count it: both ends inclusive."""
    return not_after - not_before + ONE_SECOND


def max_public_lifetime(issued: datetime | date) -> int | None:
    """The most days a public CA may make a TLS certificate valid for when issued on that day; None before the
    first limit this schedule holds (2018-03-01)."""
    day = issued.date() if isinstance(issued, datetime) else issued
    allowed = None
    for since, days in _SCHEDULE:
        if day >= since:
            allowed = days
    return allowed


def limit_since(issued: datetime | date) -> str:
    """The ISO date from which the limit in force on that day applies."""
    day = issued.date() if isinstance(issued, datetime) else issued
    return max((since for since, _ in _SCHEDULE if day >= since), default=_SCHEDULE[0][0]).isoformat()


ONE_HOUR = timedelta(hours=1)  # local times on either side of a daylight-saving change: 200 days read as 200 d 1 h


def over_public_limit(not_before: datetime, not_after: datetime,
                      slack: timedelta = timedelta(0)) -> tuple[float, int] | None:
    """(validity in days, the limit) when the validity exceeds what a public CA could issue on NotBefore by more
    than ``slack``: none for dates read from the certificate (exact), ONE_HOUR for local times read from text
    without an offset, which a daylight-saving change between NotBefore and NotAfter puts an hour apart."""
    allowed = max_public_lifetime(not_before)
    period = validity(not_before, not_after)
    if allowed is None or period <= timedelta(days=allowed) + slack:
        return None
    return period / timedelta(days=1), allowed


def renew_by(not_before: datetime, not_after: datetime) -> datetime:
    """When to have the next certificate in place: two thirds into the lifetime, or 30 days before NotAfter,
    whichever comes first."""
    at_fraction = not_before + (not_after - not_before) * refs.RENEW_AT_FRACTION
    return min(at_fraction, not_after - timedelta(days=refs.RENEW_MARGIN_DAYS))
