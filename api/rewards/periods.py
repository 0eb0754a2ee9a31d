"""The calendar periods of per-member limits, in the member's time zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from api.rewards.model import Period

# Every time zone's offset lies within these: a member's local period is one of the
# periods at these offsets, so a read can fetch the candidates before knowing the member.
EARLIEST, LATEST = timedelta(hours=-12), timedelta(hours=14)


def period_of(period: Period, local: datetime) -> str:
    if period is Period.DAY:
        return local.date().isoformat()
    if period is Period.WEEK:
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    if period is Period.MONTH:
        return f"{local.year}-{local.month:02d}"
    if period is Period.YEAR:
        return str(local.year)
    return "EVER"


def current(period: Period, now: datetime, time_zone: str) -> str:
    """The period a member is in now."""
    return period_of(period, now.astimezone(ZoneInfo(time_zone)))


def candidates(period: Period, now: datetime) -> set[str]:
    """Every period some member may be in now, whatever their time zone."""
    return {period_of(period, now + offset) for offset in (EARLIEST, timedelta(0), LATEST)}
