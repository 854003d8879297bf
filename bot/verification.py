"""Email ownership codes: 6 digits, stored only as a salted hash, compared in constant time.

A code belongs to a *subject*: an opaque string the channel chooses (e.g. "tg:12345"); one live code per
subject. Lifetime, attempts, the pause before a resend, the hourly cap and the reminder delay come from the
``[telegram]`` config keys. Nothing here knows about Telegram or email transport.

The code exists in clear only inside the mail that carries it: ``reserve`` (in the caller's transaction,
with the outbox message that will carry it) records that a code is due, and ``CodeMail.fill`` makes the
code when the outbox worker is about to send that message, stores its hash and puts it in the text. A
resend or a crash-retry makes a new code; the older one stops working.

Limits hold across flows: cancelling and starting again does not reset the pause or the hourly cap, per
person (subject) and per address (a keyed digest of it, so the log holds no address).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import aiosqlite

from bot.app_secret import derive_key
from bot.awaiting import Step, Timing, next_step
from bot.config import TelegramConfig
from bot.digits import ascii_digits
from bot.i18n import Translator
from bot.outbox.base import OutboxMessage
from bot.storage.db import Database

CODE_DIGITS = 6
# The outbox kind of a code mail, and the payload key naming the subject the code is for.
CODE_KIND = "verification.code"
CODE_FOR = "code_for"


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
class Reservation:
    email: str
    expires_at: datetime


@dataclass(frozen=True)
class StalledCode:
    subject: str
    email: str
    issued_at: datetime


class ResendTooSoon(Exception):
    """The pause after the last code (to this person or this address) has not passed; or the hourly cap
    is reached, and ``wait_seconds`` says when the oldest code of the hour leaves it."""

    def __init__(self, wait_seconds: int) -> None:
        super().__init__(f"a new code can be sent in {wait_seconds} s")
        self.wait_seconds = wait_seconds


class VerificationCodes:
    def __init__(self, db: Database, config: TelegramConfig, secret: str,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._config = config
        self._clock = clock
        self._address_key = derive_key(secret, "verification address")

    @property
    def ttl(self) -> timedelta:
        return timedelta(seconds=self._config.verification_code_ttl_seconds)

    def _address(self, email: str) -> str:
        return hmac.new(self._address_key, email.strip().lower().encode(), hashlib.sha256).hexdigest()

    async def _wait_needed(self, conn: aiosqlite.Connection, subject: str, address: str, now: datetime) -> int:
        """Seconds until another code may go to this person and this address (0: now)."""
        hour_ago = _iso(now - timedelta(hours=1))
        wait = 0.0
        for column, value in (("subject", subject), ("address_key", address)):
            async with conn.execute(
                    f"SELECT sent_at FROM verification_sends WHERE {column} = ? AND sent_at > ? ORDER BY sent_at",
                    (value, hour_ago)) as cursor:
                sent = [_parse(row[0]) for row in await cursor.fetchall()]
            if sent:
                pause = self._config.verification_resend_after_seconds
                wait = max(wait, pause - (now - sent[-1]).total_seconds())
            if len(sent) >= self._config.verification_codes_per_hour:
                wait = max(wait, (sent[len(sent) - self._config.verification_codes_per_hour]
                                  + timedelta(hours=1) - now).total_seconds())
        return max(0, int(wait + 0.999))

    async def reserve(self, conn: aiosqlite.Connection, subject: str, email: str) -> Reservation:
        """A code is due for ``subject`` at ``email`` (replacing any earlier one), inside the caller's
        transaction, which also writes the outbox message that will carry it (see ``CodeMail``).

        Raises ResendTooSoon while the pause or the hourly cap holds, for this person or this address.
        """
        now = self._clock()
        address = self._address(email)
        wait = await self._wait_needed(conn, subject, address, now)
        if wait:
            raise ResendTooSoon(wait)
        expires_at = now + self.ttl
        await conn.execute(
            "INSERT INTO verification_codes(subject, email, salt, code_hash, issued_at, expires_at, attempts,"
            " reminded_at, verified_at) VALUES (?, ?, x'', x'', ?, ?, 0, NULL, NULL)"
            " ON CONFLICT(subject) DO UPDATE SET email = excluded.email, salt = x'', code_hash = x'',"
            " issued_at = excluded.issued_at, expires_at = excluded.expires_at, attempts = 0, reminded_at = NULL,"
            " verified_at = NULL",
            (subject, email, _iso(now), _iso(expires_at)))
        await conn.execute("INSERT INTO verification_sends(subject, address_key, sent_at) VALUES (?, ?, ?)",
                           (subject, address, _iso(now)))
        return Reservation(email=email, expires_at=expires_at)

    async def fill(self, subject: str, email: str) -> str | None:
        """Make the code for a reserved subject and keep only its hash; None when no code is due any more
        (cancelled, verified, expired, or reserved for another address since)."""
        code = new_code()
        salt = secrets.token_bytes(16)
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE verification_codes SET salt = ?, code_hash = ? WHERE subject = ? AND email = ?"
                " AND verified_at IS NULL AND expires_at > ?",
                (salt, _hash(salt, code), subject, email, _iso(self._clock())))
        return code if cursor.rowcount == 1 else None

    async def check(self, subject: str, code: str, email: str) -> CheckResult:
        """Compare ``code`` with the live code ``subject`` was sent at ``email``; counts the attempt.

        A code proves only the address it was sent to, once: a code for another address, or one already
        used, is no code at all (MISSING), so an address proven earlier never stands in for a new one.
        """
        candidate = ascii_digits(code)
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT email, salt, code_hash, expires_at, attempts, verified_at FROM verification_codes"
                " WHERE subject = ?", (subject,)) as cursor:
                row = await cursor.fetchone()
            if row is None or row["verified_at"] is not None or str(row["email"]) != email:
                return CheckResult(CheckStatus.MISSING)
            max_attempts = self._config.verification_max_attempts
            if row["attempts"] >= max_attempts:
                return CheckResult(CheckStatus.LOCKED, email=email)
            if self._clock() >= _parse(row["expires_at"]):
                return CheckResult(CheckStatus.EXPIRED, email=email)
            # Always hash, whatever the input looks like, so timing does not tell a malformed code apart.
            salt, stored = bytes(row["salt"]), bytes(row["code_hash"])
            matches = hmac.compare_digest(_hash(salt, candidate), stored) and bool(stored)
            if matches and len(candidate) == CODE_DIGITS:
                await conn.execute("UPDATE verification_codes SET verified_at = ? WHERE subject = ?",
                                   (_iso(self._clock()), subject))
                return CheckResult(CheckStatus.OK, email=email)
            attempts = row["attempts"] + 1
            await conn.execute("UPDATE verification_codes SET attempts = ? WHERE subject = ?", (attempts, subject))
            if attempts >= max_attempts:
                return CheckResult(CheckStatus.LOCKED, email=email)
            return CheckResult(CheckStatus.WRONG, attempts_left=max_attempts - attempts, email=email)

    async def recently_verified(self, subject: str, email: str) -> bool:
        """True when ``subject`` proved ``email`` by a code within the reuse window: the same person filing
        a second request minutes later is not asked again (only that person, only that address)."""
        minutes = self._config.verification_reuse_minutes
        if not minutes:
            return False
        async with self._db.conn.execute(
                "SELECT email, verified_at FROM verification_codes WHERE subject = ?", (subject,)) as cursor:
            row = await cursor.fetchone()
        if row is None or row["verified_at"] is None or str(row["email"]) != email.strip().lower():
            return False
        return self._clock() - _parse(row["verified_at"]) <= timedelta(minutes=minutes)

    @property
    def timing(self) -> Timing:
        """A code's reminder and expiry (bot/awaiting.py)."""
        return Timing(timedelta(seconds=self._config.verification_reminder_after_seconds), self.ttl)

    async def stalled(self) -> list[StalledCode]:
        """Codes due their one reminder now (``awaiting.next_step``): mailed, neither used nor locked."""
        now = self._clock()
        async with self._db.conn.execute(
            "SELECT subject, email, issued_at, reminded_at FROM verification_codes WHERE verified_at IS NULL"
            " AND attempts < ? AND code_hash <> x''", (self._config.verification_max_attempts,)) as cursor:
            rows = await cursor.fetchall()
        return [StalledCode(str(r["subject"]), str(r["email"]), _parse(r["issued_at"])) for r in rows
                if next_step(_parse(r["issued_at"]), r["reminded_at"] is not None, now, self.timing) is Step.REMIND]

    async def mark_reminded(self, conn: aiosqlite.Connection, subject: str) -> None:
        await conn.execute("UPDATE verification_codes SET reminded_at = ? WHERE subject = ?",
                           (_iso(self._clock()), subject))

    async def discard(self, subject: str) -> None:
        """The flow was cancelled: the code stops working. The send log stays, so the limits still hold."""
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM verification_codes WHERE subject = ?", (subject,))


class CodeMail:
    """Fills a code mail (outbox kind ``verification.code``) right before it is sent: the code is made
    then, so it is never stored in clear in the outbox. Registered with the outbox worker."""

    def __init__(self, codes: VerificationCodes, translator: Translator) -> None:
        self.codes = codes
        self.translator = translator

    async def __call__(self, message: OutboxMessage) -> OutboxMessage | None:
        payload = message.payload
        code = await self.codes.fill(str(payload.get(CODE_FOR, "")), message.recipient)
        if code is None:
            return None  # no longer wanted: the worker drops the message
        lang = str(payload.get("lang") or "ru")
        text = self.translator(lang, str(payload.get("text_id", "tg-code-email-body")), code=code,
                               minutes=int(payload.get("minutes") or 15))
        return replace(message, payload={**payload, "text": text})


def code_mail_payload(subject: str, lang: str, mail_subject: str, minutes: int) -> dict[str, object]:
    """The outbox payload of a code mail: everything but the code, which ``CodeMail`` adds at sending."""
    return {CODE_FOR: subject, "lang": lang, "subject": mail_subject, "text_id": "tg-code-email-body",
            "minutes": minutes, "kind": CODE_KIND}
