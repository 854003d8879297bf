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


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Handoff:
    user_id: int
    user_chat_id: int
    user_message_id: int
    handoff_id: int | None = None  # the core handoff (bot/handoffs.py) this Telegram message is


@dataclass(frozen=True)
class StaffPrompt:
    id: int
    chat_id: int
    prompt_message_id: int
    staff_user_id: int
    request_id: str
    action: str  # reject, info
    state: str  # open, typed, used, cancelled
    text: str | None
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


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
        subject = f"tg:{user_id}"
        async with self._db.transaction() as conn:
            mine = "(SELECT handoff_id FROM telegram_handoffs WHERE user_id = ? AND handoff_id IS NOT NULL)"
            # Posts of their words not yet shown to staff are not shown any more.
            await conn.execute(f"DELETE FROM outbox WHERE kind = 'staff.handoff' AND status = 'pending'"
                               f" AND json_extract(payload, '$.handoff_id') IN {mine}", (user_id,))
            # The core handoff records of their talk-to-a-person messages keep the fact, not the words.
            await conn.execute(
                f"UPDATE handoffs SET text = '', subject = '', sender = '', reference = NULL,"
                f" closed_at = COALESCE(closed_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),"
                f" closed_by = COALESCE(closed_by, 'forgotten') WHERE id IN {mine}", (user_id,))
            await conn.execute("DELETE FROM telegram_handoffs WHERE user_id = ?", (user_id,))
            await conn.execute("DELETE FROM telegram_users WHERE user_id = ?", (user_id,))
            await conn.execute("DELETE FROM verification_codes WHERE subject = ?", (subject,))
            await conn.execute("DELETE FROM verification_sends WHERE subject = ?", (subject,))
            await conn.execute("DELETE FROM telegram_security_events WHERE user_id = ?", (user_id,))
            # Messages to their chat, except those an open request still owes them.
            await conn.execute(
                "DELETE FROM outbox WHERE channel = 'telegram' AND recipient = ? AND (status <> 'pending'"
                " OR request_id IS NULL OR request_id NOT IN (SELECT id FROM requests WHERE status IN"
                " ('awaiting_verification', 'pending_review', 'needs_info', 'approved')))", (str(user_id),))

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
        """The person a staff-chat post stands for: only through the link stored when the bot posted it
        (or when staff replied through it), never from anything written in the post."""
        async with self._db.conn.execute(
                "SELECT user_id, user_chat_id, user_message_id, handoff_id FROM telegram_handoffs"
                " WHERE staff_chat_id = ? AND staff_message_id = ? ORDER BY id DESC LIMIT 1",
                (staff_chat_id, staff_message_id)) as cur:
            row = await cur.fetchone()
        return None if row is None else Handoff(int(row[0]), int(row[1]), int(row[2]),
                                                int(row[3]) if row[3] is not None else None)

    # -- staff prompts (a typed reason or question) -------------------------------------------
    async def open_prompt(self, *, chat_id: int, prompt_message_id: int, staff_user_id: int, request_id: str,
                          action: str, expires_at: datetime) -> int:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO telegram_staff_prompts(chat_id, prompt_message_id, staff_user_id, request_id, action,"
                " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (chat_id, prompt_message_id, staff_user_id, request_id, action, _now(), _iso(expires_at)))
            return int(cursor.lastrowid or 0)

    async def prompt_for_post(self, chat_id: int, message_id: int) -> StaffPrompt | None:
        return await self._prompt("chat_id = ? AND prompt_message_id = ?", (chat_id, message_id))

    async def prompt(self, prompt_id: int) -> StaffPrompt | None:
        return await self._prompt("id = ?", (prompt_id,))

    async def _prompt(self, where: str, params: tuple[Any, ...]) -> StaffPrompt | None:
        async with self._db.conn.execute(
                "SELECT id, chat_id, prompt_message_id, staff_user_id, request_id, action, state, text, expires_at"
                f" FROM telegram_staff_prompts WHERE {where}", params) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return StaffPrompt(int(row[0]), int(row[1]), int(row[2]), int(row[3]), str(row[4]), str(row[5]),
                           str(row[6]), row[7], datetime.fromisoformat(row[8]))

    async def set_prompt(self, prompt_id: int, *, expected: tuple[str, ...], state: str,
                         text: str | None = None) -> bool:
        """Move a prompt on only from an expected state (a second press or a race changes nothing)."""
        marks = ",".join("?" * len(expected))
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                f"UPDATE telegram_staff_prompts SET state = ?, text = COALESCE(?, text) WHERE id = ?"
                f" AND state IN ({marks})", (state, text, prompt_id, *expected))
            return cursor.rowcount == 1

    async def cancel_prompts(self, chat_id: int, staff_user_id: int) -> int:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE telegram_staff_prompts SET state = 'cancelled' WHERE chat_id = ? AND staff_user_id = ?"
                " AND state IN ('open', 'typed')", (chat_id, staff_user_id))
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
                             details: dict[str, Any]) -> int:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO telegram_security_events(at, event, user_id, chat_id, details) VALUES (?, ?, ?, ?, ?)",
                (_now(), event, user_id, chat_id, json.dumps(details, ensure_ascii=False)))
            return int(cursor.lastrowid or 0)

    async def security_events(self) -> list[dict[str, Any]]:
        async with self._db.conn.execute(
                "SELECT at, event, user_id, chat_id, details FROM telegram_security_events ORDER BY id") as cur:
            rows = await cur.fetchall()
        return [{"at": r[0], "event": r[1], "user_id": r[2], "chat_id": r[3], "details": json.loads(r[4])}
                for r in rows]
