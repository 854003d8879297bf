"""SQL for the append-only audit trail (UPDATE and DELETE are refused by triggers, migration 0001)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import aiosqlite

from bot.storage.timefmt import from_db, to_db


async def append(conn: aiosqlite.Connection, request_id: str, event: str, actor: str,
                 details: dict[str, Any], at: datetime) -> int:
    cur = await conn.execute(
        "INSERT INTO request_audit(request_id, at, event, actor, details) VALUES (?, ?, ?, ?, ?)",
        (request_id, to_db(at), event, actor, json.dumps(details, ensure_ascii=False, sort_keys=True)))
    return int(cur.lastrowid or 0)


async def for_request(conn: aiosqlite.Connection, request_id: str) -> list[tuple[int, datetime, str, str, dict[str, Any]]]:
    async with conn.execute("SELECT id, at, event, actor, details FROM request_audit WHERE request_id = ? "
                            "ORDER BY id", (request_id,)) as cur:
        rows = await cur.fetchall()
    result = []
    for row in rows:
        at = from_db(row[1])
        assert at is not None
        result.append((int(row[0]), at, str(row[2]), str(row[3]), json.loads(row[4] or "{}")))
    return result
