"""Retention of the bot's own data about people.

- closed requests older than ``closed_request_details_days``: personal fields removed; a pseudonymised
  proof record remains (salted hash of the identifiers, type, dates, decision), and the redaction is
  logged in the audit trail;
- every other table with personal data follows its rule in ``bot/storage/retention_repo.py`` (one place).

The salt comes from PRIVACY_BOT_PSEUDONYM_SALT, or is generated once and kept in the database's meta
table (never in a file), so the same person always gets the same pseudonym.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.app_secret import app_secret
from bot.audit import SYSTEM, AuditLog
from bot.config import Config
from bot.outbox.repository import OutboxRepository
from bot.requests.models import PrivacyRequest
from bot.storage import requests_repo, retention_repo
from bot.storage.db import Database
from bot.storage.timefmt import utcnow

log = logging.getLogger(__name__)

BATCH = 200


@dataclass
class RetentionReport:
    redacted: list[str] = field(default_factory=list)
    message_bodies: int = 0
    outbox_messages: int = 0
    other: dict[str, int] = field(default_factory=dict)

    @property
    def other_total(self) -> int:
        return sum(self.other.values())


def pseudonym(salt: str, request: PrivacyRequest) -> str:
    """Keyed hash of every identifier the request had (stable for the same person and salt)."""
    who = request.requester
    parts = []
    if who.telegram_user_id:
        parts.append(f"tg:{who.telegram_user_id}")
    if who.normalized_email():
        parts.append(f"email:{who.normalized_email()}")
    if who.normalized_phone():
        parts.append(f"phone:{who.normalized_phone()}")
    return hmac.new(salt.encode(), "|".join(sorted(parts)).encode(), hashlib.sha256).hexdigest()


class RetentionJob:
    def __init__(self, db: Database, config: Config, *, audit: AuditLog | None = None,
                 outbox: OutboxRepository | None = None) -> None:
        self.db = db
        self.config = config
        self.audit = audit or AuditLog()
        self.outbox = outbox or OutboxRepository(db)

    async def salt(self) -> str:
        return await app_secret(self.db, self.config)

    async def run(self, now: datetime | None = None) -> RetentionReport:
        now = now or utcnow()
        periods = self.config.retention
        report = RetentionReport()
        salt = await self.salt()
        cutoff = now - timedelta(days=periods.closed_request_details_days)
        while True:
            batch = await requests_repo.closed_before(self.db.conn, cutoff, limit=BATCH)
            if not batch:
                break
            for request in batch:
                async with self.db.transaction() as conn:
                    if not await requests_repo.redact(conn, request.id, pseudonym(salt, request), now):
                        continue
                    copies = await retention_repo.clear_request_copies(conn, request.id)
                    await self.audit.append(conn, request.id, "redacted", SYSTEM, {
                        "closed_at": request.closed_at.isoformat() if request.closed_at else None,
                        "retention_days": periods.closed_request_details_days, "channel_copies": copies})
                report.redacted.append(request.id)

        async with self.db.transaction() as conn:
            for rule in retention_repo.rules():
                days = getattr(periods, f"{rule.period}_days")
                removed = await retention_repo.apply_rule(conn, rule, now - timedelta(days=days))
                if not removed:
                    continue
                if rule.table == "request_messages":
                    report.message_bodies += removed
                elif rule.table == "outbox":
                    report.outbox_messages += removed
                else:
                    report.other[rule.table] = report.other.get(rule.table, 0) + removed
        await self.db.checkpoint()
        log.info("retention: %d requests redacted, %d message bodies, %d outbox messages, %d other records",
                 len(report.redacted), report.message_bodies, report.outbox_messages, report.other_total)
        return report
