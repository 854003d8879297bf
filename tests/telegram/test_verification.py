"""Email ownership codes: hashed, constant-time compared, expiring, limited attempts, resend pause and hourly
cap that hold across flows, any digits people type, made only when their mail is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import Config
from bot.digits import ascii_digits
from bot.i18n import get_translator
from bot.outbox.base import OutboxMessage
from bot.storage.db import Database
from bot.verification import (
    CheckStatus,
    CodeMail,
    ResendTooSoon,
    VerificationCodes,
    code_mail_payload,
)


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
    return VerificationCodes(db, config.telegram, "test-secret", clock=clock)


async def _issue(db: Database, codes: VerificationCodes, subject: str = "tg:1", email: str = "a@b.ru") -> str:
    """Reserve a code and make it, as the outbox does when the code mail is sent."""
    async with db.transaction() as conn:
        await codes.reserve(conn, subject, email)
    code = await codes.fill(subject, email)
    assert code is not None
    return code


async def test_code_is_six_digits_and_only_a_salted_hash_is_stored(db: Database, codes: VerificationCodes) -> None:
    code = await _issue(db, codes)
    assert len(code) == 6 and code.isdigit()
    async with db.conn.execute("SELECT * FROM verification_codes") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    assert code not in " ".join(str(v) for v in tuple(row)) and len(bytes(row["salt"])) == 16
    other = await _issue(db, codes, subject="tg:2", email="c@d.ru")
    async with db.conn.execute("SELECT code_hash FROM verification_codes") as cursor:
        hashes = {bytes(r[0]) for r in await cursor.fetchall()}
    assert len(hashes) == 2 or code == other


async def test_right_code_passes_wrong_ones_count_down_then_lock(db: Database, codes: VerificationCodes) -> None:
    code = await _issue(db, codes)
    wrong = "000000" if code != "000000" else "111111"
    results = [await codes.check("tg:1", wrong, "a@b.ru") for _ in range(4)]
    assert [r.attempts_left for r in results] == [4, 3, 2, 1]
    assert (await codes.check("tg:1", wrong, "a@b.ru")).status is CheckStatus.LOCKED
    assert (await codes.check("tg:1", code, "a@b.ru")).status is CheckStatus.LOCKED  # locked even for the right code
    fresh = await _issue(db, codes, subject="tg:3", email="e@f.ru")
    ok = await codes.check("tg:3", f" {fresh[:3]} {fresh[3:]} ", "e@f.ru")  # spaces typed by people are fine
    assert ok.ok and ok.email == "e@f.ru"


async def test_code_expires_after_its_lifetime(db: Database, codes: VerificationCodes, clock: Clock) -> None:
    code = await _issue(db, codes)
    clock.advance(899)
    assert (await codes.check("tg:1", "x", "a@b.ru")).status is CheckStatus.WRONG
    clock.advance(2)
    assert (await codes.check("tg:1", code, "a@b.ru")).status is CheckStatus.EXPIRED
    assert (await codes.check("tg:404", code, "a@b.ru")).status is CheckStatus.MISSING


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
        assert (await codes.check("tg:1", first, "a@b.ru")).status is CheckStatus.WRONG
    assert (await codes.check("tg:1", second, "a@b.ru")).ok


async def test_stalled_codes_are_reminded_once(db: Database, codes: VerificationCodes, clock: Clock) -> None:
    await _issue(db, codes)
    assert await codes.stalled() == []
    clock.advance(600)
    stalled = await codes.stalled()
    assert [s.subject for s in stalled] == ["tg:1"]
    async with db.transaction() as conn:
        await codes.mark_reminded(conn, "tg:1")
    assert await codes.stalled() == []


async def test_the_code_exists_in_clear_only_in_the_mail(db: Database, codes: VerificationCodes, clock: Clock) -> None:
    async with db.transaction() as conn:
        await codes.reserve(conn, "tg:1", "a@b.ru")
    # Reserved, not made: nothing could be typed yet, and nothing readable is stored.
    assert (await codes.check("tg:1", "123456", "a@b.ru")).status is CheckStatus.WRONG
    mail = OutboxMessage(id=1, channel="email", recipient="a@b.ru", kind="verification.code",
                         payload=code_mail_payload("tg:1", "en", "Your code", 15))
    assert not any(ch.isdigit() for ch in str(mail.payload).replace("15", "").replace("tg:1", ""))
    filled = await CodeMail(codes, get_translator())(mail)
    assert filled is not None
    code = ascii_digits(str(filled.payload["text"]))[:6]
    assert (await codes.check("tg:1", code, "a@b.ru")).ok
    # A mail for a code no longer wanted (cancelled) is dropped, not sent with a dead code.
    await codes.discard("tg:1")
    assert await CodeMail(codes, get_translator())(mail) is None


async def test_any_digits_people_type_are_read(db: Database, codes: VerificationCodes) -> None:
    assert ascii_digits("１２３ ٤٥٦") == "123456"  # full-width and Arabic-Indic
    assert ascii_digits("¹²³⁴⁵⁶") == "123456"  # superscript
    assert ascii_digits("۱۲۳-४५६") == "123456"  # Persian and Devanagari
    code = await _issue(db, codes)
    fullwidth = "".join(chr(ord("０") + int(d)) for d in code)
    arabic = "".join(chr(0x0660 + int(d)) for d in code)
    assert (await codes.check("tg:1", fullwidth, "a@b.ru")).ok
    other = await _issue(db, codes, subject="tg:2", email="c@d.ru")
    assert (await codes.check("tg:2", " ".join(chr(0x0660 + int(d)) for d in other), "c@d.ru")).ok
    assert arabic  # (built from the same code, read the same way above)


async def test_limits_hold_across_flows_per_person_and_per_address(db: Database, codes: VerificationCodes,
                                                                    config: Config, clock: Clock) -> None:
    await _issue(db, codes)
    await codes.discard("tg:1")  # /cancel, then a new flow at once
    with pytest.raises(ResendTooSoon):
        await _issue(db, codes)
    # Another person asking a code for the same address right away: the address's pause holds too.
    with pytest.raises(ResendTooSoon):
        await _issue(db, codes, subject="tg:2")
    # The hourly cap: five codes an hour to one address, whoever asks and however often they cancel.
    cap = config.telegram.verification_codes_per_hour
    sent = 1
    for n in range(10):
        clock.advance(61)
        try:
            await _issue(db, codes, subject=f"tg:{10 + n}")
            sent += 1
        except ResendTooSoon as exc:
            assert exc.wait_seconds > 60
            break
    assert sent == cap
    # ... and per person, whatever address they give.
    clock.advance(3600)
    for n in range(cap):
        await _issue(db, codes, subject="tg:99", email=f"x{n}@b.ru")
        clock.advance(61)
    with pytest.raises(ResendTooSoon):
        await _issue(db, codes, subject="tg:99", email="another@b.ru")


async def test_a_code_proves_only_its_own_address_and_only_once(db: Database, codes: VerificationCodes,
                                                                clock: Clock) -> None:
    code = await _issue(db, codes)
    assert (await codes.check("tg:1", code, "other@b.ru")).status is CheckStatus.MISSING
    assert (await codes.check("tg:1", code, "a@b.ru")).ok
    # Used: it proves nothing more, for this address or any other, whatever is typed.
    for typed, email in ((code, "a@b.ru"), ("000000", "victim@b.ru"), (code, "victim@b.ru")):
        assert (await codes.check("tg:1", typed, email)).status is CheckStatus.MISSING

