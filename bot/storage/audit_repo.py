"""SQL for the append-only audit trail (UPDATE and DELETE are refused by triggers, migration 0001)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import aiosqlite

from bot.storage.timefmt import from_db, to_db

AuditRow = tuple[int, datetime, str, str, dict[str, Any]]
# The append-only trails and the column naming what each row is about; fixed names, never from input.
_TRAILS = {"request_audit": "request_id", "learning_audit": "question_id"}


async def append(conn: aiosqlite.Connection, request_id: str, event: str, actor: str,
                 details: dict[str, Any], at: datetime) -> int:
    return await append_to(conn, "request_audit", request_id, event, actor, details, at)


async def for_request(conn: aiosqlite.Connection, request_id: str) -> list[AuditRow]:
    return await rows_of(conn, "request_audit", request_id)


async def append_to(conn: aiosqlite.Connection, trail: str, subject: str | int, event: str, actor: str,
                    details: dict[str, Any], at: datetime) -> int:
    cur = await conn.execute(
        f"INSERT INTO {trail}({_TRAILS[trail]}, at, event, actor, details) VALUES (?, ?, ?, ?, ?)",
        (subject, to_db(at), event, actor, json.dumps(details, ensure_ascii=False, sort_keys=True)))
    return int(cur.lastrowid or 0)


async def rows_of(conn: aiosqlite.Connection, trail: str, subject: str | int) -> list[AuditRow]:
    async with conn.execute(f"SELECT id, at, event, actor, details FROM {trail} WHERE {_TRAILS[trail]} = ? "
                            "ORDER BY id", (subject,)) as cur:
        rows = await cur.fetchall()
    result = []
    for row in rows:
        at = from_db(row[1])
        assert at is not None
        result.append((int(row[0]), at, str(row[2]), str(row[3]), json.loads(row[4] or "{}")))
    return result
