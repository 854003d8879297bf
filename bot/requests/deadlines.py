"""Statutory deadlines (152-FZ) on the Russian working-day calendar, in Moscow time.

Periods are counted from the day after receipt: ``holidays``' ``get_nth_working_day(d, n)`` already
starts at d + 1, and it knows the decreed day transfers (a working Saturday, a moved day off).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from bot.config import RequestsConfig
from bot.requests.models import RequestType


@lru_cache(maxsize=4)
def _calendar() -> holidays.HolidayBase:
    return holidays.country_holidays("RU")


def local_date(moment: datetime, timezone: str) -> date:
    """The calendar day of ``moment`` where deadlines are counted (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(timezone)).date()


def is_working_day(day: date) -> bool:
    return bool(_calendar().is_working_day(day))


@lru_cache(maxsize=4096)
def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself not counted)."""
    if days <= 0:
        return start
    return _calendar().get_nth_working_day(start, days)


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]; negative when end is before start."""
    if end == start:
        return 0
    sign = 1 if end > start else -1
    low, high = (start, end) if end > start else (end, start)
    count = 0
    day = low + timedelta(days=1)
    while day <= high:
        if is_working_day(day):
            count += 1
        day += timedelta(days=1)
    return sign * count


def due_date(type: RequestType, received_at: datetime, config: RequestsConfig) -> date:
    """The statutory due date of a request received at ``received_at``."""
    received = local_date(received_at, config.timezone)
    if type is RequestType.DELETION:
        return received + timedelta(days=config.deletion_calendar_days)
    if type is RequestType.CORRECTION:
        return add_working_days(received, config.correction_working_days)
    return add_working_days(received, config.access_working_days)


def extended_due_date(current_due: date, config: RequestsConfig) -> date:
    """An access request extended once: the due date moves by the extension's working days."""
    return add_working_days(current_due, config.access_extension_working_days)


def today(timezone: str, now: datetime | None = None) -> date:
    return local_date(now or datetime.now(UTC), timezone)
