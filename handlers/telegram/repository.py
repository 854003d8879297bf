"""SQL for the Telegram channel's own tables (migration 0100): people, handoffs, cards, security events."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiosqlite

from bot.lru import PER_PERSON_ENTRIES, BoundedLRU
from bot.storage.db import Database


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Handoff:
    user_id: int
    user_chat_id: int
    user_message_id: int


@dataclass(frozen=True)
class Card:
    chat_id: int
    message_id: int


class TelegramRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        # (language, blocked) of recently active people; a miss reads the row (see _profile).
        self._profiles: BoundedLRU[int, tuple[str | None, bool]] = BoundedLRU(PER_PERSON_ENTRIES)

    # -- people ------------------------------------------------------------------------------
    # A row exists only for people who chose a language or blocked the bot: nothing is stored just
    # because someone wrote (their private chat id is their user id). Rows of recently active people are
    # cached by this process, the only writer: a read per update would be a query per update. The cache
    # is bounded and only a shortcut: a miss reads the row, and every write drops the entry.
    async def _profile(self, user_id: int) -> tuple[str | None, bool]:
        cached = self._profiles.get(user_id)
        if cached is not None:
            return cached
        async with self._db.conn.execute(
                "SELECT lang, blocked_at FROM telegram_users WHERE user_id = ?", (user_id,)) as cur:
            row = await cur.fetchone()
        profile = (None, False) if row is None else (row[0], row[1] is not None)
        self._profiles[user_id] = profile
        return profile

    async def cached_language(self, user_id: int) -> str | None:
        return (await self._profile(user_id))[0]

    async def user_language(self, user_id: int) -> str | None:
        return await self.cached_language(user_id)

    async def seen_in_private_chat(self, user_id: int) -> None:
        """The person writes again: if they had blocked the bot, they no longer do."""
        _, blocked = await self._profile(user_id)
        if blocked:
            async with self._db.transaction() as conn:
                await conn.execute("UPDATE telegram_users SET blocked_at = NULL, last_seen = ? WHERE user_id = ?",
                                   (_now(), user_id))
            self._profiles.pop(user_id)

    async def set_language(self, user_id: int, chat_id: int, lang: str) -> None:
        now = _now()
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO telegram_users(user_id, chat_id, lang, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(user_id) DO UPDATE SET lang = excluded.lang, last_seen = excluded.last_seen",
                (user_id, chat_id, lang, now, now))
        self._profiles.pop(user_id)  # the next read takes the row as written

    async def mark_blocked(self, chat_id: int) -> None:
        """Telegram said the person blocked the bot (a private chat's id is the person's id)."""
        now = _now()
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO telegram_users(user_id, chat_id, lang, blocked_at, first_seen, last_seen)"
                " VALUES (?, ?, NULL, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET blocked_at = excluded.blocked_at",
                (chat_id, chat_id, now, now, now))
        self._profiles.pop(chat_id)

    async def is_blocked(self, chat_id: int) -> bool:
        async with self._db.conn.execute(
                "SELECT blocked_at FROM telegram_users WHERE chat_id = ?", (chat_id,)) as cur:
            row = await cur.fetchone()
        return row is not None and row[0] is not None

    async def forget_user(self, user_id: int) -> None:
        """Erase the person's chat data kept by the channel (``/forget``); the FSM storage forgets its own."""
        self._profiles.pop(user_id, None)
        async with self._db.transaction() as conn:
            # The core handoff records of their talk-to-a-person messages keep the fact, not the words.
            await conn.execute(
                "UPDATE handoffs SET text = '', subject = '', sender = '' WHERE id IN"
                " (SELECT handoff_id FROM telegram_handoffs WHERE user_id = ? AND handoff_id IS NOT NULL)",
                (user_id,))
            await conn.execute("DELETE FROM telegram_handoffs WHERE user_id = ?", (user_id,))
            await conn.execute("DELETE FROM telegram_users WHERE user_id = ?", (user_id,))
            await conn.execute("DELETE FROM verification_codes WHERE subject = ?", (f"tg:{user_id}",))

    async def held_about(self, user_id: int) -> dict[str, int]:
        """How much the channel keeps about one person (for ``/privacy``)."""
        async with self._db.conn.execute(
                "SELECT COUNT(*) FROM telegram_handoffs WHERE user_id = ?", (user_id,)) as cur:
            row = await cur.fetchone()
        return {"handoff_messages": int(row[0]) if row else 0}

    # -- talk to a person ------------------------------------------------------------------------
    async def record_handoff(self, *, staff_chat_id: int, staff_message_id: int | None, user_id: int,
                             user_chat_id: int, user_message_id: int, direction: str, text: str,
                             staff_user_id: int | None = None, handoff_id: int | None = None,
                             conn: aiosqlite.Connection | None = None) -> None:
        values = (staff_chat_id, staff_message_id, user_id, user_chat_id, user_message_id, direction, text,
                  staff_user_id, handoff_id, _now())
        sql = ("INSERT INTO telegram_handoffs(staff_chat_id, staff_message_id, user_id, user_chat_id,"
               " user_message_id, direction, text, staff_user_id, handoff_id, created_at)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        if conn is not None:  # inside the caller's transaction
            await conn.execute(sql, values)
            return
        async with self._db.transaction() as own:
            await own.execute(sql, values)

    async def attach_staff_message(self, handoff_id: int, staff_chat_id: int, staff_message_id: int) -> bool:
        """The staff-chat message that shows a core handoff: replies to it reach the person."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE telegram_handoffs SET staff_chat_id = ?, staff_message_id = ? WHERE handoff_id = ?"
                " AND direction = 'user'", (staff_chat_id, staff_message_id, handoff_id))
            return cursor.rowcount > 0

    async def handoff_for(self, staff_chat_id: int, staff_message_id: int) -> Handoff | None:
        async with self._db.conn.execute(
                "SELECT user_id, user_chat_id, user_message_id FROM telegram_handoffs"
                " WHERE staff_chat_id = ? AND staff_message_id = ? ORDER BY id DESC LIMIT 1",
                (staff_chat_id, staff_message_id)) as cur:
            row = await cur.fetchone()
        return None if row is None else Handoff(int(row[0]), int(row[1]), int(row[2]))

    async def latest_handoff_of(self, user_id: int) -> Handoff | None:
        async with self._db.conn.execute(
                "SELECT user_id, user_chat_id, user_message_id FROM telegram_handoffs"
                " WHERE user_id = ? AND direction = 'user' ORDER BY id DESC LIMIT 1", (user_id,)) as cur:
            row = await cur.fetchone()
        return None if row is None else Handoff(int(row[0]), int(row[1]), int(row[2]))

    async def purge_handoffs(self, before: datetime) -> int:
        async with self._db.transaction() as conn:
            cursor = await conn.execute("DELETE FROM telegram_handoffs WHERE created_at < ?",
                                        (before.astimezone(UTC).isoformat(timespec="seconds"),))
            return cursor.rowcount

    # -- staff cards -------------------------------------------------------------------------
    async def save_card(self, request_id: str, chat_id: int, message_id: int) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO telegram_cards(request_id, chat_id, message_id, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(request_id) DO UPDATE SET chat_id = excluded.chat_id,"
                " message_id = excluded.message_id, updated_at = excluded.updated_at",
                (request_id, chat_id, message_id, _now()))

    async def card_for(self, request_id: str) -> Card | None:
        async with self._db.conn.execute(
                "SELECT chat_id, message_id FROM telegram_cards WHERE request_id = ?", (request_id,)) as cur:
            row = await cur.fetchone()
        return None if row is None else Card(int(row[0]), int(row[1]))

    # -- security ----------------------------------------------------------------------------
    async def security_event(self, event: str, *, user_id: int | None, chat_id: int | None,
                             details: dict[str, Any]) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO telegram_security_events(at, event, user_id, chat_id, details) VALUES (?, ?, ?, ?, ?)",
                (_now(), event, user_id, chat_id, json.dumps(details, ensure_ascii=False)))

    async def security_events(self) -> list[dict[str, Any]]:
        async with self._db.conn.execute(
                "SELECT at, event, user_id, chat_id, details FROM telegram_security_events ORDER BY id") as cur:
            rows = await cur.fetchall()
        return [{"at": r[0], "event": r[1], "user_id": r[2], "chat_id": r[3], "details": json.loads(r[4])}
                for r in rows]
