"""The running bot's background work: delivery, reminders and retention side by side, until stopped."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.app_secret import SECRET_META_KEY as SALT_META_KEY
from bot.config import Config
from bot.outbox.recording import RecordingSender
from bot.requests.models import Channel, Requester, RequestType, VerificationMethod
from bot.services import build_services
from bot.workers import run_workers


async def test_run_workers_delivers_reminds_and_applies_retention(config: Config) -> None:
    services = await build_services(config)
    try:
        assert services.engine.understand("Удалите мои данные").intent  # the real policy engine
        created = await services.requests.create(
            type=RequestType.ACCESS, channel=Channel.TELEGRAM, lang="ru",
            requester=Requester(telegram_user_id=3, telegram_chat_id=3),
            received_at=datetime(2026, 1, 12, 9, 0, tzinfo=UTC),  # long overdue by now
            verified=VerificationMethod.EMAIL_CODE, actor="requester")
        senders = {name: RecordingSender(name) for name in ("telegram", "email", "staff")}
        stop = asyncio.Event()
        task = asyncio.create_task(run_workers(services, senders, stop))
        for _ in range(200):
            if [m for m in senders["staff"].sent if m.kind == "staff.reminder"] and senders["telegram"].sent:
                break
            await asyncio.sleep(0.025)
        stop.set()
        await asyncio.wait_for(task, timeout=10)
        assert [m.kind for m in senders["telegram"].sent] == ["request.created"]
        reminders = [m for m in senders["staff"].sent if m.kind == "staff.reminder"]
        assert len(reminders) == 1 and created.request.id in reminders[0].payload["text"]
        assert reminders[0].payload["text"].startswith("Просрочен")
        async with services.db.conn.execute("SELECT value FROM meta WHERE key = ?", (SALT_META_KEY,)) as cur:
            assert await cur.fetchone() is not None  # retention ran (it made its salt)
    finally:
        await services.close()
