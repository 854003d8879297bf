"""The append-only audit table, and an older database upgraded in place."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config
from bot.requests.models import RequestStatus
from bot.requests.service import RequestService
from bot.storage.db import Database, discover_migrations
from bot.storage.requests_repo import QUEUE_SQL


async def test_audit_refuses_update_and_delete(service: RequestService, db: Database, config: Config,
                                               create: Callable[..., Any]) -> None:
    request = (await create()).request
    await service.approve(request.id, "staff:a")
    await db.close()
    # A separate plain connection: the triggers hold whoever writes.
    raw = sqlite3.connect(config.database_path)
    try:
        count = raw.execute("SELECT COUNT(*) FROM request_audit").fetchone()[0]
        assert count >= 3
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute("UPDATE request_audit SET actor = 'someone else'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute("DELETE FROM request_audit WHERE id = 1")
        raw.commit()
        assert raw.execute("SELECT COUNT(*) FROM request_audit").fetchone()[0] == count
        assert raw.execute("SELECT COUNT(*) FROM request_audit WHERE actor = 'someone else'").fetchone()[0] == 0
    finally:
        raw.close()
    await db.open()


async def test_every_event_is_in_the_trail(service: RequestService, create: Callable[..., Any]) -> None:
    request = (await create(verified=None)).request
    await service.verify(request.id, "email_code", "requester")  # type: ignore[arg-type]
    await service.need_info(request.id, "staff:anna", "Which site?")
    await service.provide_info(request.id, "example.ru", "requester")
    await service.approve(request.id, "staff:boris")
    await service.complete(request.id, "staff:boris", categories=["contacts", "account"], systems=["crm"])
    events = await service.audit_events(request.id)
    assert [(e.event, e.actor) for e in events] == [
        ("created", "requester"), ("status_changed", "requester"), ("verified", "requester"),
        ("status_changed", "staff:anna"), ("status_changed", "requester"), ("info_provided", "requester"),
        ("status_changed", "staff:boris"), ("status_changed", "staff:boris")]
    # The question stays with the request (redacted by retention); the trail keeps no free text.
    assert events[3].details == {"from": "pending_review", "to": "needs_info", "reason_length": 11}
    # what the deletion destroyed: the chosen ids (never a label or free text)
    assert events[7].details == {"from": "approved", "to": "completed", "categories": ["contacts", "account"],
                                 "systems": ["crm"]}
    assert all(e.at.tzinfo is not None for e in events)
    assert [e.at for e in events] == sorted(e.at for e in events)


OLD_ROWS = """
INSERT INTO request_counters(year, last) VALUES (2025, 2);
INSERT INTO requests(id, type, channel, lang, status, tg_user_id, tg_chat_id, tg_name, email, phone, phone_digits,
    verification_method, verified_at, details, corrections, received_at, due_date, decided_by, decided_at,
    completed_at, flags, updated_at)
VALUES
 ('PR-2025-0001', 'deletion', 'telegram', 'ru', 'completed', 10, 10, 'Old User', NULL, NULL, NULL, 'email_code',
  '2025-05-01T10:00:00.000000Z', 'everything', '[]', '2025-05-01T10:00:00.000000Z', '2025-05-31',
  'staff:a', '2025-05-02T10:00:00.000000Z', '2025-05-03T10:00:00.000000Z', '{}', '2025-05-03T10:00:00.000000Z'),
 ('PR-2025-0002', 'access', 'email', 'en', 'pending_review', NULL, NULL, NULL, 'old@example.ru', NULL, NULL,
  'email_reply', '2025-12-30T10:00:00.000000Z', '', '[]', '2025-12-30T10:00:00.000000Z', '2026-01-23',
  NULL, NULL, NULL, '{}', '2025-12-30T10:00:00.000000Z');
INSERT INTO request_audit(request_id, at, event, actor, details)
VALUES ('PR-2025-0001', '2025-05-01T10:00:00.000000Z', 'created', 'requester', '{}'),
       ('PR-2025-0002', '2025-12-30T10:00:00.000000Z', 'created', 'requester', '{}');
INSERT INTO outbox(channel, recipient, kind, payload, idempotency_key, request_id, next_attempt_at, created_at)
VALUES ('email', 'old@example.ru', 'request.created', '{"text": "hi"}', 'old-key', 'PR-2025-0002',
        '2025-12-30T10:00:00.000000Z', '2025-12-30T10:00:00.000000Z');
"""


async def test_database_made_by_schema_0001_upgrades_in_place(tmp_path: Path, config: Config) -> None:
    path = tmp_path / "old.sqlite3"
    only_first = [m for m in discover_migrations() if m.version == 1]
    old = await Database(path).open(migrations=only_first)
    await old.conn.executescript(OLD_ROWS)
    columns = {row[1] async for row in await old.conn.execute("PRAGMA table_info(requests)")}
    assert "closed_at" not in columns  # really the old schema
    await old.close()

    db = await Database(path).open()  # every migration, as the bot opens it
    try:
        applied = await db.applied_versions()
        assert {1, 2} <= applied
        service = RequestService(db, config)
        completed = await service.get("PR-2025-0001")
        waiting = await service.get("PR-2025-0002")
        assert completed.status is RequestStatus.COMPLETED and completed.details == "everything"
        assert completed.requester.telegram_name == "Old User"
        # the new column is backfilled for closed rows, so retention can see them
        assert completed.closed_at is not None and completed.closed_at.isoformat().startswith("2025-05-03")
        assert waiting.closed_at is None and waiting.requester.email == "old@example.ru"
        assert len(await service.audit_events("PR-2025-0001")) == 1
        # new columns and tables work on old rows
        await service.approve("PR-2025-0002", "staff:b")
        extended = await service.extend("PR-2025-0002", "staff:b", "archives")
        assert extended.extended_due_date is not None
        assert [r.id for r in await service.open_queue()] == ["PR-2025-0002"]
        assert await service.remind() == ["PR-2025-0002"]  # overdue: the new reminder column works
        async with db.conn.execute("SELECT COUNT(*) FROM outbox WHERE idempotency_key = 'old-key'") as cur:
            assert (await cur.fetchone())[0] == 1
        # numbering continues after the old rows
        async with db.conn.execute("SELECT last FROM request_counters WHERE year = 2025") as cur:
            assert (await cur.fetchone())[0] == 2
    finally:
        await db.close()
    # opening again applies nothing twice
    again = await Database(path).open()
    try:
        async with again.conn.execute("SELECT COUNT(*) FROM requests") as cur:
            assert (await cur.fetchone())[0] == 2
    finally:
        await again.close()


async def test_queue_query_uses_its_index(db: Database) -> None:
    async with db.conn.execute(f"EXPLAIN QUERY PLAN {QUEUE_SQL}", (50, 0)) as cur:
        plan = " ".join(str(tuple(row)) for row in await cur.fetchall())
    assert "requests_open_queue" in plan and "TEMP B-TREE" not in plan


async def test_database_file_settings(db: Database) -> None:
    async with db.conn.execute("PRAGMA journal_mode") as cur:
        assert (await cur.fetchone())[0] == "wal"
    async with db.conn.execute("PRAGMA foreign_keys") as cur:
        assert (await cur.fetchone())[0] == 1
