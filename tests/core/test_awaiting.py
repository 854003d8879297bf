"""When a proof a person owes is reminded about and given up: one rule for every channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.awaiting import Step, Timing, next_step

SINCE = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
CODE = Timing(remind_after=timedelta(minutes=10), expire_after=timedelta(minutes=15))


def test_one_reminder_then_expiry() -> None:
    at = [SINCE + timedelta(minutes=m) for m in (0, 9, 10, 14, 15, 60)]
    assert [next_step(SINCE, False, now, CODE) for now in at] == [
        Step.WAIT, Step.WAIT, Step.REMIND, Step.REMIND, Step.EXPIRE, Step.EXPIRE]
    # Reminded once: never again, and still given up at the same time.
    assert [next_step(SINCE, True, now, CODE) for now in at] == [
        Step.WAIT, Step.WAIT, Step.WAIT, Step.WAIT, Step.EXPIRE, Step.EXPIRE]
