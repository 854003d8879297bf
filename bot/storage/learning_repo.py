"""SQL for learning from staff: questions waiting for a section, the examples they become, and the trail of
staff decisions (migration 0006)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.storage import audit_repo
from bot.storage.timefmt import from_db, to_db

PENDING = "pending"
LEARNT = "learnt"


@dataclass(frozen=True)
class QuestionRow:
    id: int
    lang: str
    text: str
    text_key: str
    channel: str
    reason: str
    offered: tuple[str, ...]
    asked: int
    status: str
    section_id: str | None
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime


def _row(row: Any) -> QuestionRow:
    created = from_db(row["created_at"])
    assert created is not None
    return QuestionRow(int(row["id"]), str(row["lang"]), str(row["text"]), str(row["text_key"]), str(row["channel"]),
                       str(row["reason"]), tuple(json.loads(row["offered"] or "[]")), int(row["asked"]),
                       str(row["status"]), row["section_id"], row["decided_by"], from_db(row["decided_at"]), created)


async def get(conn: aiosqlite.Connection, question_id: int) -> QuestionRow | None:
    async with conn.execute("SELECT * FROM learning_questions WHERE id = ?", (question_id,)) as cur:
        row = await cur.fetchone()
    return None if row is None else _row(row)


async def by_reference(conn: aiosqlite.Connection, reference: str) -> QuestionRow | None:
    async with conn.execute("SELECT * FROM learning_questions WHERE reference = ?", (reference,)) as cur:
        row = await cur.fetchone()
    return None if row is None else _row(row)


async def pending_with_key(conn: aiosqlite.Connection, lang: str, text_key: str) -> QuestionRow | None:
    async with conn.execute("SELECT * FROM learning_questions WHERE status = 'pending' AND lang = ? AND text_key = ?",
                            (lang, text_key)) as cur:
        row = await cur.fetchone()
    return None if row is None else _row(row)


async def learnt_with_key(conn: aiosqlite.Connection, lang: str, text_key: str) -> QuestionRow | None:
    """The latest decision on this question, if staff made one."""
    async with conn.execute("SELECT * FROM learning_questions WHERE status = 'learnt' AND lang = ? AND text_key = ?"
                            " ORDER BY decided_at DESC, id DESC LIMIT 1", (lang, text_key)) as cur:
        row = await cur.fetchone()
    return None if row is None else _row(row)


async def count(conn: aiosqlite.Connection, *, status: str | None = None, created_since: datetime | None = None) -> int:
    where, params = ["1"], []
    if status is not None:
        where.append("status = ?")
        params.append(status)
    if created_since is not None:
        where.append("created_at >= ?")
        params.append(to_db(created_since))
    async with conn.execute(f"SELECT COUNT(*) FROM learning_questions WHERE {' AND '.join(where)}", params) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def insert(conn: aiosqlite.Connection, *, lang: str, text: str, text_key: str, channel: str, reason: str,
                 offered: Sequence[str], reference: str | None, now: datetime) -> int:
    cur = await conn.execute(
        "INSERT INTO learning_questions(lang, text, text_key, channel, reason, offered, reference, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (lang, text, text_key, channel, reason, json.dumps(list(offered)), reference, to_db(now), to_db(now)))
    return int(cur.lastrowid or 0)


async def asked_again(conn: aiosqlite.Connection, question_id: int, now: datetime) -> None:
    await conn.execute("UPDATE learning_questions SET asked = asked + 1, updated_at = ? WHERE id = ?",
                       (to_db(now), question_id))


async def decide(conn: aiosqlite.Connection, question_id: int, section_id: str | None, by: str,
                 now: datetime) -> bool:
    """Only a pending question is decided; False when someone else decided it first."""
    cur = await conn.execute(
        "UPDATE learning_questions SET status = 'learnt', section_id = ?, decided_by = ?, decided_at = ?,"
        " updated_at = ? WHERE id = ? AND status = 'pending'", (section_id, by, to_db(now), to_db(now), question_id))
    return cur.rowcount == 1


async def listing(conn: aiosqlite.Connection, *, status: str, lang: str | None = None, after_id: int = 0,
                  limit: int | None = None) -> list[QuestionRow]:
    """Questions in one status, oldest first (learnt ones in the order they were decided)."""
    order = "decided_at, id" if status == LEARNT else "id"
    sql = f"SELECT * FROM learning_questions WHERE status = ? AND id > ?{' AND lang = ?' if lang else ''} ORDER BY {order}"
    params: list[Any] = [status, after_id] + ([lang] if lang else [])
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    async with conn.execute(sql, params) as cur:
        return [_row(row) for row in await cur.fetchall()]


async def append_audit(conn: aiosqlite.Connection, question_id: int, event: str, actor: str,
                       details: dict[str, Any], at: datetime) -> int:
    return await audit_repo.append_to(conn, "learning_audit", question_id, event, actor, details, at)


async def audit_for(conn: aiosqlite.Connection, question_id: int) -> list[audit_repo.AuditRow]:
    return await audit_repo.rows_of(conn, "learning_audit", question_id)
