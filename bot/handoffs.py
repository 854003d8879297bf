"""Things that need a person: mail the engine cannot place, unreadable mail, requests about others.

Each handoff is stored (channel, sender, subject, a short text, language) and announced to staff through
the outbox (channel "staff", kind "staff.handoff") in the same transaction. Staff see them in the staff
chat and with ``privacy-bot handoffs``. Channel-neutral: any channel may hand off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.config import Config
from bot.i18n import Translator, get_translator
from bot.outbox.repository import OutboxRepository
from bot.storage.db import Database
from bot.storage.timefmt import from_db, to_db, utcnow

# Kept short: staff need the gist; the full mail stays in the channel's own store under retention.
MAX_TEXT_CHARS = 1500


@dataclass(frozen=True)
class Handoff:
    id: int
    channel: str
    sender: str
    subject: str
    text: str
    lang: str
    reason: str
    reference: str | None
    created_at: datetime
    closed_at: datetime | None
    closed_by: str | None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "channel": self.channel, "sender": self.sender, "subject": self.subject,
                "text": self.text, "lang": self.lang, "reason": self.reason, "reference": self.reference,
                "created_at": self.created_at.isoformat(),
                "closed_at": self.closed_at.isoformat() if self.closed_at else None, "closed_by": self.closed_by}


class HandoffNotFound(Exception):
    def __init__(self, handoff_id: int) -> None:
        super().__init__(f"handoff {handoff_id} not found")
        self.handoff_id = handoff_id


class HandoffAlreadyClosed(Exception):
    def __init__(self, handoff: Handoff) -> None:
        super().__init__(f"handoff {handoff.id} was already closed by {handoff.closed_by}")
        self.handoff = handoff


def _row(row: Any) -> Handoff:
    created = from_db(row["created_at"])
    assert created is not None
    return Handoff(int(row["id"]), row["channel"], row["sender"], row["subject"], row["text"], row["lang"],
                   row["reason"], row["reference"], created, from_db(row["closed_at"]), row["closed_by"])


class HandoffService:
    def __init__(self, db: Database, config: Config, *, outbox: OutboxRepository | None = None,
                 translator: Translator | None = None) -> None:
        self.db = db
        self.config = config
        self.outbox = outbox or OutboxRepository(db)
        self.translator = translator or get_translator()

    async def add(self, conn: aiosqlite.Connection, *, channel: str, sender: str, subject: str, text: str,
                  lang: str, reason: str, reference: str | None = None) -> int:
        """Store a handoff and tell staff, inside the caller's transaction. A repeated reference is a no-op."""
        if reference:
            async with conn.execute("SELECT id FROM handoffs WHERE channel = ? AND reference = ?",
                                    (channel, reference)) as cur:
                existing = await cur.fetchone()
            if existing is not None:
                return int(existing[0])
        short = text.strip()[:MAX_TEXT_CHARS]
        cursor = await conn.execute(
            "INSERT INTO handoffs(channel, sender, subject, text, lang, reason, reference, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (channel, sender, subject[:300], short, lang, reason, reference, to_db(utcnow())))
        handoff_id = int(cursor.lastrowid or 0)
        staff_lang = self.config.policy.default_language
        staff_text = self.translator(staff_lang, "handoff-staff", id=handoff_id, channel=channel, sender=sender,
                                     subject=subject[:300] or "-",
                                     reason=self.translator(staff_lang, "handoff-reason", reason=reason),
                                     text=short or "-")
        await self.outbox.enqueue(conn, channel="staff", recipient="", kind="staff.handoff",
                                  payload={"handoff_id": handoff_id, "text": staff_text, "kind": "staff.handoff",
                                           "channel": channel, "reason": reason},
                                  idempotency_key=f"handoff:{handoff_id}:staff")
        return handoff_id

    async def create(self, **fields: Any) -> int:
        """``add`` in a transaction of its own."""
        async with self.db.transaction() as conn:
            return await self.add(conn, **fields)

    async def get(self, handoff_id: int) -> Handoff:
        async with self.db.conn.execute("SELECT * FROM handoffs WHERE id = ?", (handoff_id,)) as cur:
            row = await cur.fetchone()
        if row is None:
            raise HandoffNotFound(handoff_id)
        return _row(row)

    async def list(self, *, include_closed: bool = False, limit: int = 200) -> list[Handoff]:
        where = "" if include_closed else "WHERE closed_at IS NULL"
        async with self.db.conn.execute(f"SELECT * FROM handoffs {where} ORDER BY id LIMIT ?", (limit,)) as cur:
            return [_row(row) for row in await cur.fetchall()]

    async def close(self, handoff_id: int, by: str) -> Handoff:
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE handoffs SET closed_at = ?, closed_by = ? WHERE id = ? AND closed_at IS NULL",
                (to_db(utcnow()), by, handoff_id))
            changed = cursor.rowcount
        handoff = await self.get(handoff_id)
        if not changed:
            raise HandoffAlreadyClosed(handoff)
        return handoff
