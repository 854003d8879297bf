"""SQL for what completed deletions destroyed (migration 0009): one row per request, written once."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.requests.destruction import Destruction
from bot.storage.timefmt import to_db


async def insert(conn: aiosqlite.Connection, request_id: str, destruction: Destruction, at: datetime) -> None:
    row = destruction.to_row()
    await conn.execute("INSERT INTO request_destruction(request_id, categories, systems, method, recorded_at)"
                       " VALUES (?, ?, ?, ?, ?)",
                       (request_id, row["categories"], row["systems"], row["method"], to_db(at)))


async def get(conn: aiosqlite.Connection, request_id: str) -> Destruction | None:
    async with conn.execute("SELECT categories, systems, method FROM request_destruction WHERE request_id = ?",
                            (request_id,)) as cur:
        row = await cur.fetchone()
    return Destruction.from_row(row[0], row[1], row[2]) if row else None
