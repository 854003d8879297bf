"""The FSM storage keeps a flow's state and data in SQLite, across a reopen of the database."""

from __future__ import annotations

from aiogram.fsm.storage.base import StorageKey

from bot.config import Config
from bot.storage.db import Database
from handlers.telegram.storage import SQLiteStorage


async def test_state_and_data_survive_reopening_and_clearing_leaves_no_row(config: Config) -> None:
    key = StorageKey(bot_id=1, chat_id=10, user_id=10)
    other = StorageKey(bot_id=1, chat_id=-5, user_id=10)
    db = await Database(config.database_path).open()
    storage = SQLiteStorage(db)
    await storage.set_state(key, "RequestFlow:code")
    await storage.update_data(key, {"email": "a@b.ru", "corrections": [{"field": "имя"}]})
    await storage.set_state(other, "StaffFlow:reject_reason")
    await db.close()

    db = await Database(config.database_path).open()
    storage = SQLiteStorage(db)
    assert await storage.get_state(key) == "RequestFlow:code"
    assert await storage.get_data(key) == {"email": "a@b.ru", "corrections": [{"field": "имя"}]}
    assert await storage.get_state(other) == "StaffFlow:reject_reason"
    await storage.set_state(key, None)
    await storage.set_data(key, {})
    async with db.conn.execute("SELECT COUNT(*) FROM telegram_fsm") as cursor:
        row = await cursor.fetchone()
    assert row is not None and row[0] == 1
    assert await storage.forget_user(10) == 1
    await db.close()
