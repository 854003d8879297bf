"""Statutory deadlines: working days, holidays and decreed day transfers, Moscow time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest

from bot.config import Config, RequestsConfig
from bot.requests.deadlines import add_working_days, due_date, extended_due_date, is_working_day
from bot.requests.models import RequestType
from bot.requests.service import RequestService

MSK = ZoneInfo("Europe/Moscow")
CFG = RequestsConfig()


def msk(*args: int) -> datetime:
    return datetime(*args, tzinfo=MSK)  # type: ignore[misc]


def test_calendar_facts_the_deadlines_rely_on() -> None:
    assert not is_working_day(date(2026, 1, 9))  # decreed day off (moved from 3 January)
    assert not is_working_day(date(2026, 12, 31))  # decreed day off
    assert is_working_day(date(2025, 11, 1))  # a working Saturday
    assert not is_working_day(date(2025, 11, 3))  # the Monday that Saturday paid for


def test_calendar_data_for_next_year_is_present() -> None:
    """Decreed transfers are published yearly; without them every deadline next year is wrong."""
    next_year = datetime.now(MSK).year + 1
    calendar = holidays.country_holidays("RU", years=next_year)
    names = [name for day, name in calendar.items() if day.year == next_year]
    assert date(next_year, 1, 1) in calendar, f"no holidays at all for {next_year}"
    transfers = [n for n in names if "substituted" in n.lower()]
    assert transfers, (f"the holidays package has no decreed day transfers for {next_year}: "
                       f"upgrade it (pip install -U holidays) before deadlines are computed for that year")


@pytest.mark.parametrize(("type_", "received", "expected"), [
    # the example: across the New Year holidays and the decreed 9 January
    (RequestType.ACCESS, msk(2025, 12, 30, 12, 0), date(2026, 1, 23)),
    # a working Saturday (1 Nov 2025) counts; the Monday after it and Unity Day do not
    (RequestType.CORRECTION, msk(2025, 10, 31, 15, 0), date(2025, 11, 12)),
    # May holidays 2026: 1 May, 9 May and its observed Monday 11 May
    (RequestType.CORRECTION, msk(2026, 4, 30, 10, 0), date(2026, 5, 13)),
    # deletion: 30 calendar days, holidays do not matter
    (RequestType.DELETION, msk(2025, 12, 15, 10, 0), date(2026, 1, 14)),
    (RequestType.DELETION, msk(2026, 2, 1, 23, 59), date(2026, 3, 3)),
    # access received on a Friday: counted from Saturday, the 10th working day is two weeks later
    (RequestType.ACCESS, msk(2026, 3, 13, 18, 0), date(2026, 3, 27)),
])
def test_due_dates(type_: RequestType, received: datetime, expected: date) -> None:
    assert due_date(type_, received, CFG) == expected


def test_counted_in_moscow_time_not_utc() -> None:
    # 20:30 UTC on 29 Dec is 23:30 in Moscow (still the 29th); 21:30 UTC is already the 30th there.
    assert due_date(RequestType.ACCESS, datetime(2025, 12, 29, 20, 30, tzinfo=UTC), CFG) == date(2026, 1, 22)
    assert due_date(RequestType.ACCESS, datetime(2025, 12, 29, 21, 30, tzinfo=UTC), CFG) == date(2026, 1, 23)


def test_deadline_running_into_next_years_holidays() -> None:
    # 31 Dec 2026 is a decreed day off and 1-8 Jan 2027 are holidays.
    assert add_working_days(date(2026, 12, 28), 3) == date(2027, 1, 11)


def test_periods_are_configurable() -> None:
    cfg = RequestsConfig(access_working_days=3, correction_working_days=1, deletion_calendar_days=10)
    assert due_date(RequestType.ACCESS, msk(2025, 12, 30, 12, 0), cfg) == date(2026, 1, 14)
    assert due_date(RequestType.CORRECTION, msk(2025, 10, 31, 12, 0), cfg) == date(2025, 11, 1)
    assert due_date(RequestType.DELETION, msk(2025, 12, 30, 12, 0), cfg) == date(2026, 1, 9)


def test_extension_adds_five_working_days() -> None:
    assert extended_due_date(date(2026, 1, 23), CFG) == date(2026, 1, 30)
    assert extended_due_date(date(2026, 4, 30), CFG) == date(2026, 5, 8)  # 1 May skipped


async def test_service_stores_the_statutory_due_date(create: Callable[..., Any], service: RequestService,
                                                     config: Config) -> None:
    access = (await create(type=RequestType.ACCESS, received_at=msk(2025, 12, 30, 12, 0))).request
    assert access.due_date == date(2026, 1, 23)
    assert (await service.get(access.id)).due_date == date(2026, 1, 23)
    extended = await service.extend(access.id, "staff:a", "the data sits in three systems")
    assert extended.extended_due_date == date(2026, 1, 30)
    assert extended.effective_due_date == date(2026, 1, 30)
    assert extended.due_date == date(2026, 1, 23)


def test_every_day_of_a_year_has_a_due_date_after_receipt() -> None:
    start = date(2026, 1, 1)
    for offset in range(366):
        day = start + timedelta(days=offset)
        received = msk(day.year, day.month, day.day, 12, 0)
        for type_ in RequestType:
            due = due_date(type_, received, CFG)
            assert due > day
            if type_ is not RequestType.DELETION:
                assert is_working_day(due)
