"""SQL for the outbox: enqueue inside the caller's transaction, then claim, mark sent, retry or fail."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiosqlite

from bot.outbox.base import OutboxMessage
from bot.storage.db import Database
from bot.storage.timefmt import from_db, to_db, utcnow

_COLUMNS = "id, channel, recipient, kind, payload, idempotency_key, attempts, request_id"
# What a delivered or failed message keeps of its payload: its kind and request, never its text (staff
# forwards, answers, codes): the text lives on only where it was sent. Rows go after retention.
_SPENT_PAYLOAD = ("json_object('kind', json_extract(payload, '$.kind'), "
                  "'request_id', json_extract(payload, '$.request_id'))")


@dataclass(frozen=True)
class OutboxRecord:
    """An outbox row as staff see it (delivery state included)."""

    message: OutboxMessage
    request_id: str | None
    status: str  # pending, sent, failed
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime


def _message(row: Any) -> OutboxMessage:
    return OutboxMessage(id=int(row[0]), channel=str(row[1]), recipient=str(row[2]), kind=str(row[3]),
                         payload=json.loads(row[4]), idempotency_key=str(row[5]), attempts=int(row[6]))


class OutboxRepository:
    def __init__(self, db: Database) -> None:
        self.db = db
        # Set on every enqueue so a worker sharing this repository starts at once instead of at its next
        # poll (a rolled-back enqueue only causes one empty pass).
        self.enqueued = asyncio.Event()

    async def enqueue(self, conn: aiosqlite.Connection, *, channel: str, recipient: str, kind: str,
                      payload: dict[str, Any], idempotency_key: str | None = None,
                      request_id: str | None = None, not_before: datetime | None = None) -> int:
        """Write a message inside the caller's transaction; a repeated idempotency key is a no-op."""
        key = idempotency_key or uuid.uuid4().hex
        now = utcnow()
        self.enqueued.set()
        # execute_fetchall: one trip to the database thread (a cursor's execute, fetch and close are three).
        rows = list(await conn.execute_fetchall(
                "INSERT OR IGNORE INTO outbox(channel, recipient, kind, payload, idempotency_key, request_id, "
                "next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (channel, recipient, kind, json.dumps(payload, ensure_ascii=False), key, request_id,
                 to_db(not_before or now), to_db(now))))
        if not rows:
            rows = list(await conn.execute_fetchall("SELECT id FROM outbox WHERE idempotency_key = ?", (key,)))
        assert rows
        return int(rows[0][0])

    async def due(self, now: datetime | None = None, limit: int = 100) -> list[OutboxMessage]:
        async with self.db.conn.execute(
                f"SELECT {_COLUMNS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? "
                "ORDER BY next_attempt_at, id LIMIT ?", (to_db(now or utcnow()), limit)) as cur:
            return [_message(r) for r in await cur.fetchall()]

    async def request_of(self, message_id: int) -> str | None:
        async with self.db.conn.execute("SELECT request_id FROM outbox WHERE id = ?", (message_id,)) as cur:
            row = await cur.fetchone()
        return str(row[0]) if row and row[0] else None

    async def claim(self, message: OutboxMessage, lease: timedelta) -> bool:
        """Count the attempt BEFORE sending and push the row out of ``due`` for ``lease``.

        attempts > 0 on a pending row therefore means "a send may have happened": after a crash the
        worker asks the sender ``was_sent()`` before sending again.
        """
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = NULL "
                "WHERE id = ? AND status = 'pending' AND attempts = ?",
                (to_db(utcnow() + lease), message.id, message.attempts))
            return cur.rowcount == 1

    async def claim_due(self, channels: list[str], lease: timedelta, limit: int = 100,
                        now: datetime | None = None) -> list[tuple[OutboxMessage, str | None]]:
        """``claim`` for a whole batch: due messages of these channels, oldest first, each with its request
        id, counted and leased in one transaction. The messages carry the attempts from *before* this
        claim (attempts > 0: an earlier attempt may have gone out)."""
        if not channels:
            return []
        marks = ",".join("?" * len(channels))
        due_at, leased_until = to_db(now or utcnow()), to_db(utcnow() + lease)

        def claim(connection: sqlite3.Connection) -> list[Any]:
            rows = connection.execute(
                f"SELECT {_COLUMNS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? "
                f"AND channel IN ({marks}) ORDER BY next_attempt_at, id LIMIT ?", (due_at, *channels, limit)).fetchall()
            if rows:
                ids = [int(r[0]) for r in rows]
                connection.execute(
                    "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = NULL "
                    f"WHERE id IN ({','.join('?' * len(ids))})", (leased_until, *ids))
            return rows

        rows = await self.db.transact(claim)  # polled often: one trip to the database thread
        return [(_message(r), str(r[7]) if r[7] else None) for r in rows]

    async def due_channels(self, now: datetime | None = None) -> set[str]:
        async with self.db.conn.execute(
                "SELECT DISTINCT channel FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?",
                (to_db(now or utcnow()),)) as cur:
            return {str(r[0]) for r in await cur.fetchall()}

    async def mark_sent_many(self, conn: aiosqlite.Connection, sent: list[tuple[int, str | None]]) -> None:
        now = to_db(utcnow())
        await conn.executemany(f"UPDATE outbox SET status = 'sent', sent_at = ?, external_id = ?, last_error = NULL, "
                               f"payload = {_SPENT_PAYLOAD} WHERE id = ?",
                               [(now, external_id, message_id) for message_id, external_id in sent])

    async def mark_sent_now(self, sent: list[tuple[int, str | None]]) -> None:
        """``mark_sent_many`` as a transaction of its own, in one trip to the database thread."""
        now = to_db(utcnow())
        rows = [(now, external_id, message_id) for message_id, external_id in sent]

        def mark(connection: sqlite3.Connection) -> None:
            connection.executemany(f"UPDATE outbox SET status = 'sent', sent_at = ?, external_id = ?, "
                                   f"last_error = NULL, payload = {_SPENT_PAYLOAD} WHERE id = ?", rows)

        await self.db.transact(mark)

    async def mark_sent(self, conn: aiosqlite.Connection, message_id: int, external_id: str | None) -> None:
        await conn.execute(f"UPDATE outbox SET status = 'sent', sent_at = ?, external_id = ?, last_error = NULL, "
                           f"payload = {_SPENT_PAYLOAD} WHERE id = ?", (to_db(utcnow()), external_id, message_id))

    async def mark_retry(self, conn: aiosqlite.Connection, message_id: int, error: str, at: datetime) -> None:
        await conn.execute("UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ?",
                           (to_db(at), error[:500], message_id))

    async def mark_failed(self, conn: aiosqlite.Connection, message_id: int, error: str) -> None:
        await conn.execute(f"UPDATE outbox SET status = 'failed', last_error = ?, payload = {_SPENT_PAYLOAD} "
                           "WHERE id = ?", (error[:500], message_id))

    async def release_claims(self) -> int:
        """At worker start: claimed-but-unfinished rows (a crash mid-send) become due now.

        A claim clears last_error and every outcome but success sets it, so "attempted, no error" means
        in flight; rows waiting for a scheduled retry keep their backoff.
        """
        async with self.db.transaction() as conn:
            cur = await conn.execute("UPDATE outbox SET next_attempt_at = ? WHERE status = 'pending' "
                                     "AND attempts > 0 AND last_error IS NULL", (to_db(utcnow()),))
            return cur.rowcount

    async def records(self, *, status: str | None = None, request_id: str | None = None,
                      limit: int = 100) -> list[OutboxRecord]:
        clauses, params = [], []
        if status:
            clauses.append("status = ?")
            params.append(status)
        if request_id:
            clauses.append("request_id = ?")
            params.append(request_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        async with self.db.conn.execute(
                f"SELECT {_COLUMNS}, status, last_error, created_at, sent_at, next_attempt_at FROM outbox "
                f"{where} ORDER BY id LIMIT ?", (*params, limit)) as cur:
            rows = await cur.fetchall()
        result = []
        for r in rows:
            created, next_at = from_db(r[10]), from_db(r[12])
            assert created is not None and next_at is not None
            result.append(OutboxRecord(message=_message(r), request_id=r[7], status=r[8], last_error=r[9],
                                       created_at=created, sent_at=from_db(r[11]), next_attempt_at=next_at))
        return result

    async def failed(self, limit: int = 100) -> list[OutboxRecord]:
        """Permanent failures, for staff."""
        return await self.records(status="failed", limit=limit)

    async def counts(self) -> dict[str, int]:
        async with self.db.conn.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status") as cur:
            return {r[0]: r[1] for r in await cur.fetchall()}
