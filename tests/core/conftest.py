"""Fixtures of the request core: a real SQLite file per test, the service, recording senders."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.config import Config
from bot.outbox.recording import RecordingSender
from bot.outbox.repository import OutboxRepository
from bot.requests.models import Channel, Requester, RequestType, VerificationMethod
from bot.requests.service import CreateResult, RequestService
from bot.storage.db import Database


@pytest.fixture
async def db(config: Config) -> AsyncIterator[Database]:
    database = await Database(config.database_path).open()
    yield database
    await database.close()


@pytest.fixture
def service(db: Database, config: Config) -> RequestService:
    return RequestService(db, config)


@pytest.fixture
def outbox(db: Database) -> OutboxRepository:
    return OutboxRepository(db)


@pytest.fixture
def senders() -> dict[str, RecordingSender]:
    return {name: RecordingSender(name) for name in ("telegram", "email", "staff")}


RECEIVED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, no holidays near


@pytest.fixture
def create(service: RequestService) -> Callable[..., Any]:
    """Create a request with sensible defaults; keyword arguments override them."""
    counter = iter(range(1, 10_000))

    async def factory(**overrides: Any) -> CreateResult:
        n = next(counter)
        args: dict[str, Any] = {
            "type": RequestType.DELETION, "channel": Channel.TELEGRAM, "lang": "ru",
            "requester": Requester(telegram_user_id=1000 + n, telegram_chat_id=1000 + n, telegram_name=f"User {n}"),
            "details": "all my data", "received_at": RECEIVED, "verified": VerificationMethod.EMAIL_CODE,
            "actor": "requester",
        }
        args.update(overrides)
        return await service.create(**args)

    return factory


async def outbox_rows(db: Database) -> list[dict[str, Any]]:
    async with db.conn.execute("SELECT id, channel, recipient, kind, payload, status, request_id, attempts, "
                               "idempotency_key "
                               "FROM outbox ORDER BY id") as cur:
        rows = await cur.fetchall()
    return [{"id": r[0], "channel": r[1], "recipient": r[2], "kind": r[3], "payload": json.loads(r[4]),
             "status": r[5], "request_id": r[6], "attempts": r[7], "key": r[8]} for r in rows]
