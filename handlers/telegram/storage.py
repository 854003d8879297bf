"""aiogram FSM storage on the project's SQLite, so a flow half-way through survives a restart."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

from bot.lru import PER_PERSON_ENTRIES, BoundedLRU
from bot.storage.db import Database


def _key(key: StorageKey) -> tuple[int, int, int, int, str]:
    return (key.bot_id, key.chat_id, key.user_id, key.thread_id or 0, key.destiny)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SQLiteStorage(BaseStorage):
    """One row per (bot, chat, user, thread, destiny). Every write is its own short transaction.

    Reads of recently active conversations are served from a cache: the bot process is the only writer
    of this table, and every update asks for the state, so this saves a query per update. The cache is
    bounded and only a shortcut: a miss reads the row, and every write drops the entry.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._cache: BoundedLRU[tuple[int, int, int, int, str], tuple[str | None, str]] = \
            BoundedLRU(PER_PERSON_ENTRIES)

    async def close(self) -> None:
        """The database belongs to Services and is closed there."""

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO telegram_fsm(bot_id, chat_id, user_id, thread_id, destiny, state, data, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, '{}', ?) ON CONFLICT(bot_id, chat_id, user_id, thread_id, destiny)"
                " DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                (*_key(key), value, _now()))
            await self._drop_if_empty(conn, key)
        self._cache.pop(_key(key), None)

    async def get_state(self, key: StorageKey) -> str | None:
        row = await self._row(key)
        return None if row is None else row[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, dict):
            raise DataNotDictLikeError(f"Data must be a dict or dict-like object, got {type(data).__name__}")
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO telegram_fsm(bot_id, chat_id, user_id, thread_id, destiny, state, data, updated_at)"
                " VALUES (?, ?, ?, ?, ?, NULL, ?, ?) ON CONFLICT(bot_id, chat_id, user_id, thread_id, destiny)"
                " DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                (*_key(key), json.dumps(data, ensure_ascii=False), _now()))
            await self._drop_if_empty(conn, key)
        self._cache.pop(_key(key), None)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row = await self._row(key)
        if row is None:
            return {}
        data = json.loads(row[1])
        return data if isinstance(data, dict) else {}

    async def forget_user(self, user_id: int) -> int:
        """Every conversation state of one person (``/forget``)."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute("DELETE FROM telegram_fsm WHERE user_id = ?", (user_id,))
        self._cache.drop_where(lambda k: k[2] == user_id)
        return int(cursor.rowcount)

    async def _row(self, key: StorageKey) -> tuple[str | None, str] | None:
        cache_key = _key(key)
        cached = self._cache.get(cache_key)
        if cached is not None:
            return None if cached == (None, "{}") else cached
        async with self._db.conn.execute(
            "SELECT state, data FROM telegram_fsm WHERE bot_id = ? AND chat_id = ? AND user_id = ?"
            " AND thread_id = ? AND destiny = ?", cache_key) as cursor:
            row = await cursor.fetchone()
        found = (None, "{}") if row is None else (row[0], row[1])
        self._cache[cache_key] = found
        return None if row is None else found

    @staticmethod
    async def _drop_if_empty(conn: Any, key: StorageKey) -> None:
        # A finished flow leaves nothing behind: no state and no data means no row.
        await conn.execute(
            "DELETE FROM telegram_fsm WHERE bot_id = ? AND chat_id = ? AND user_id = ? AND thread_id = ?"
            " AND destiny = ? AND state IS NULL AND data = '{}'", _key(key))
