"""Email ownership codes: hashed, constant-time compared, expiring, limited attempts, resend pause, reminders."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import Config
from bot.storage.db import Database
from bot.verification import CheckStatus, ResendTooSoon, VerificationCodes


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
async def db(config: Config) -> AsyncIterator[Database]:
    database = await Database(config.database_path).open()
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def codes(db: Database, config: Config, clock: Clock) -> VerificationCodes:
    return VerificationCodes(db, config.telegram, clock=clock)


async def _issue(db: Database, codes: VerificationCodes, subject: str = "tg:1", email: str = "a@b.ru") -> str:
    async with db.transaction() as conn:
        return (await codes.issue(conn, subject, email)).code


async def test_code_is_six_digits_and_only_a_salted_hash_is_stored(db: Database, codes: VerificationCodes) -> None:
    code = await _issue(db, codes)
    assert len(code) == 6 and code.isdigit()
    async with db.conn.execute("SELECT * FROM verification_codes") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    assert code not in " ".join(str(v) for v in tuple(row)) and len(bytes(row["salt"])) == 16
    other = await _issue(db, codes, subject="tg:2")
    async with db.conn.execute("SELECT code_hash FROM verification_codes") as cursor:
        hashes = {bytes(r[0]) for r in await cursor.fetchall()}
    assert len(hashes) == 2 or code == other


async def test_right_code_passes_wrong_ones_count_down_then_lock(db: Database, codes: VerificationCodes) -> None:
    code = await _issue(db, codes)
    wrong = "000000" if code != "000000" else "111111"
    results = [await codes.check("tg:1", wrong) for _ in range(4)]
    assert [r.attempts_left for r in results] == [4, 3, 2, 1]
    assert (await codes.check("tg:1", wrong)).status is CheckStatus.LOCKED
    assert (await codes.check("tg:1", code)).status is CheckStatus.LOCKED  # locked even for the right code
    fresh = await _issue(db, codes, subject="tg:3")
    ok = await codes.check("tg:3", f" {fresh[:3]} {fresh[3:]} ")  # spaces typed by people are fine
    assert ok.ok and ok.email == "a@b.ru"


async def test_code_expires_after_its_lifetime(db: Database, codes: VerificationCodes, clock: Clock) -> None:
    code = await _issue(db, codes)
    clock.advance(899)
    assert (await codes.check("tg:1", "x")).status is CheckStatus.WRONG
    clock.advance(2)
    assert (await codes.check("tg:1", code)).status is CheckStatus.EXPIRED
    assert (await codes.check("tg:404", code)).status is CheckStatus.MISSING


async def test_resend_waits_for_the_pause_and_replaces_the_old_code(db: Database, codes: VerificationCodes,
                                                                   clock: Clock) -> None:
    first = await _issue(db, codes)
    clock.advance(30)
    with pytest.raises(ResendTooSoon) as waited:
        await _issue(db, codes)
    assert waited.value.wait_seconds == 30
    clock.advance(30)
    second = await _issue(db, codes)
    if first != second:
        assert (await codes.check("tg:1", first)).status is CheckStatus.WRONG
    assert (await codes.check("tg:1", second)).ok


async def test_stalled_codes_are_reminded_once(db: Database, codes: VerificationCodes, clock: Clock) -> None:
    await _issue(db, codes)
    assert await codes.stalled() == []
    clock.advance(600)
    stalled = await codes.stalled()
    assert [s.subject for s in stalled] == ["tg:1"]
    async with db.transaction() as conn:
        await codes.mark_reminded(conn, "tg:1")
    assert await codes.stalled() == []
    clock.advance(24 * 3600)
    assert await codes.purge(timedelta(days=1)) == 1
