"""Email ownership codes: 6 digits, stored only as a salted hash, compared in constant time.

A code belongs to a *subject*: an opaque string the channel chooses (e.g. "tg:12345"); one live code per
subject. Lifetime, attempts, the pause before a resend and the reminder delay come from the
``[telegram]`` config keys. Nothing here knows about Telegram or email transport: ``issue`` takes the
caller's transaction so the code email can be written to the outbox in the same commit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import aiosqlite

from bot.config import TelegramConfig
from bot.storage.db import Database

CODE_DIGITS = 6


def utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _hash(salt: bytes, code: str) -> bytes:
    return hmac.new(salt, code.encode("ascii"), hashlib.sha256).digest()


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


class CheckStatus(StrEnum):
    OK = "ok"
    WRONG = "wrong"          # try again; attempts_left says how many remain
    EXPIRED = "expired"      # lifetime over: ask for a new code
    LOCKED = "locked"        # too many wrong attempts: ask for a new code
    MISSING = "missing"      # no code was issued to this subject


@dataclass(frozen=True)
class CheckResult:
    status: CheckStatus
    attempts_left: int = 0
    email: str = ""

    @property
    def ok(self) -> bool:
        return self.status is CheckStatus.OK


@dataclass(frozen=True)
class IssuedCode:
    code: str
    email: str
    expires_at: datetime


@dataclass(frozen=True)
class StalledCode:
    subject: str
    email: str
    issued_at: datetime


class ResendTooSoon(Exception):
    def __init__(self, wait_seconds: int) -> None:
        super().__init__(f"a new code can be sent in {wait_seconds} s")
        self.wait_seconds = wait_seconds


class VerificationCodes:
    def __init__(self, db: Database, config: TelegramConfig,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._config = config
        self._clock = clock

    @property
    def ttl(self) -> timedelta:
        return timedelta(seconds=self._config.verification_code_ttl_seconds)

    async def issue(self, conn: aiosqlite.Connection, subject: str, email: str) -> IssuedCode:
        """A fresh code for ``subject`` (replacing any earlier one), inside the caller's transaction.

        Raises ResendTooSoon when the previous code for the same address was sent too recently.
        """
        now = self._clock()
        async with conn.execute("SELECT email, issued_at, verified_at FROM verification_codes WHERE subject = ?",
                                (subject,)) as cursor:
            row = await cursor.fetchone()
        if row is not None and row["verified_at"] is None and row["email"] == email:
            elapsed = (now - _parse(row["issued_at"])).total_seconds()
            pause = self._config.verification_resend_after_seconds
            if elapsed < pause:
                raise ResendTooSoon(max(1, int(pause - elapsed + 0.999)))
        code = new_code()
        salt = secrets.token_bytes(16)
        expires_at = now + self.ttl
        await conn.execute(
            "INSERT INTO verification_codes(subject, email, salt, code_hash, issued_at, expires_at, attempts,"
            " reminded_at, verified_at) VALUES (?, ?, ?, ?, ?, ?, 0, NULL, NULL)"
            " ON CONFLICT(subject) DO UPDATE SET email = excluded.email, salt = excluded.salt,"
            " code_hash = excluded.code_hash, issued_at = excluded.issued_at, expires_at = excluded.expires_at,"
            " attempts = 0, reminded_at = NULL, verified_at = NULL",
            (subject, email, salt, _hash(salt, code), _iso(now), _iso(expires_at)),
        )
        return IssuedCode(code=code, email=email, expires_at=expires_at)

    async def check(self, subject: str, code: str) -> CheckResult:
        """Compare ``code`` with the live code of ``subject``; counts the attempt."""
        candidate = "".join(ch for ch in code if ch.isdigit())
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT email, salt, code_hash, expires_at, attempts, verified_at FROM verification_codes"
                " WHERE subject = ?", (subject,)) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return CheckResult(CheckStatus.MISSING)
            email = str(row["email"])
            if row["verified_at"] is not None:
                return CheckResult(CheckStatus.OK, email=email)
            max_attempts = self._config.verification_max_attempts
            if row["attempts"] >= max_attempts:
                return CheckResult(CheckStatus.LOCKED, email=email)
            if self._clock() >= _parse(row["expires_at"]):
                return CheckResult(CheckStatus.EXPIRED, email=email)
            # Always hash, whatever the input looks like, so timing does not tell a malformed code apart.
            matches = hmac.compare_digest(_hash(bytes(row["salt"]), candidate), bytes(row["code_hash"]))
            if matches and len(candidate) == CODE_DIGITS:
                await conn.execute("UPDATE verification_codes SET verified_at = ? WHERE subject = ?",
                                   (_iso(self._clock()), subject))
                return CheckResult(CheckStatus.OK, email=email)
            attempts = row["attempts"] + 1
            await conn.execute("UPDATE verification_codes SET attempts = ? WHERE subject = ?", (attempts, subject))
            if attempts >= max_attempts:
                return CheckResult(CheckStatus.LOCKED, email=email)
            return CheckResult(CheckStatus.WRONG, attempts_left=max_attempts - attempts, email=email)

    async def stalled(self) -> list[StalledCode]:
        """Live codes issued longer than the reminder delay ago, not used, not yet reminded about."""
        now = self._clock()
        before = _iso(now - timedelta(seconds=self._config.verification_reminder_after_seconds))
        async with self._db.conn.execute(
            "SELECT subject, email, issued_at FROM verification_codes WHERE verified_at IS NULL"
            " AND reminded_at IS NULL AND issued_at <= ? AND expires_at > ? AND attempts < ?",
            (before, _iso(now), self._config.verification_max_attempts)) as cursor:
            rows = await cursor.fetchall()
        return [StalledCode(str(r["subject"]), str(r["email"]), _parse(r["issued_at"])) for r in rows]

    async def mark_reminded(self, conn: aiosqlite.Connection, subject: str) -> None:
        await conn.execute("UPDATE verification_codes SET reminded_at = ? WHERE subject = ?",
                           (_iso(self._clock()), subject))

    async def discard(self, subject: str) -> None:
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM verification_codes WHERE subject = ?", (subject,))

    async def purge(self, older_than: timedelta) -> int:
        """Retention: forget codes (used or not) issued before ``now - older_than``."""
        cutoff = _iso(self._clock() - older_than)
        async with self._db.transaction() as conn:
            cursor = await conn.execute("DELETE FROM verification_codes WHERE issued_at < ?", (cutoff,))
            return cursor.rowcount
