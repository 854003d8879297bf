"""Outbox delivery: sending, retries with backoff, permanent failures with fallback and a staff notice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bot.config import Config
from bot.outbox.base import OutboxMessage, PermanentDeliveryError, TemporaryDeliveryError
from bot.outbox.recording import RecordingSender
from bot.outbox.repository import OutboxRepository
from bot.outbox.worker import OutboxWorker
from bot.requests.models import Channel, Requester, RequestType, VerificationMethod
from bot.requests.service import RequestService
from bot.storage.db import Database
from bot.storage.timefmt import to_db, utcnow
from tests.core.conftest import outbox_rows


async def _make_due(db: Database) -> None:
    """Skip the backoff wait: every pending message becomes due now."""
    async with db.transaction() as conn:
        await conn.execute("UPDATE outbox SET next_attempt_at = ? WHERE status = 'pending'",
                           (to_db(utcnow() - timedelta(seconds=1)),))


async def test_delivers_each_message_once_and_records_it(db: Database, config: Config, service: RequestService,
                                                         senders: dict[str, RecordingSender],
                                                         create: Callable[..., Any]) -> None:
    request = (await create()).request
    await service.approve(request.id, "staff:a")
    worker = OutboxWorker(db, senders, config)
    assert await worker.deliver_due() == 4
    assert await worker.deliver_due() == 0
    assert [m.kind for m in senders["telegram"].sent] == ["request.created", "request.approved"]
    assert [m.kind for m in senders["staff"].sent] == ["staff.request_created", "staff.request_updated"]
    assert {r["status"] for r in await outbox_rows(db)} == {"sent"}
    events = [e for e in await service.audit_events(request.id) if e.event == "message_sent"]
    assert len(events) == 4 and all("recipient" not in e.details for e in events)


async def test_temporary_failure_backs_off_then_succeeds(db: Database, config: Config,
                                                         senders: dict[str, RecordingSender],
                                                         create: Callable[..., Any]) -> None:
    await create()
    senders["telegram"].fail_next(TemporaryDeliveryError("502"), times=2)
    worker = OutboxWorker(db, senders, config)
    start = utcnow()
    await worker.deliver_due()
    records = await OutboxRepository(db).records()
    telegram = next(r for r in records if r.message.channel == "telegram")
    assert telegram.status == "pending" and telegram.message.attempts == 1
    assert telegram.last_error and "502" in telegram.last_error
    # base 2 s, first retry after 2 s
    assert timedelta(seconds=1.5) <= telegram.next_attempt_at - start <= timedelta(seconds=3)
    assert await worker.deliver_due() == 0  # not due yet
    await _make_due(db)
    await worker.deliver_due()
    telegram = next(r for r in await OutboxRepository(db).records() if r.message.channel == "telegram")
    assert telegram.message.attempts == 2
    assert timedelta(seconds=3) <= telegram.next_attempt_at - utcnow() <= timedelta(seconds=4.5)  # 4 s
    await _make_due(db)
    await worker.deliver_due()
    assert [m.kind for m in senders["telegram"].sent] == ["request.created"]
    assert worker.backoff(1) == 2 and worker.backoff(5) == 32 and worker.backoff(30) == 3600


async def test_retry_after_overrides_backoff(db: Database, config: Config, senders: dict[str, RecordingSender],
                                             create: Callable[..., Any]) -> None:
    await create()
    senders["telegram"].fail_next(TemporaryDeliveryError("429", retry_after=30))
    start = utcnow()
    await OutboxWorker(db, senders, config).deliver_due()
    telegram = next(r for r in await OutboxRepository(db).records() if r.message.channel == "telegram")
    assert timedelta(seconds=29) <= telegram.next_attempt_at - start <= timedelta(seconds=32)


async def test_gives_up_after_max_attempts(db: Database, make_config: Callable[..., Config],
                                           senders: dict[str, RecordingSender], service: RequestService,
                                           create: Callable[..., Any]) -> None:
    config = make_config({"PRIVACY_BOT__OUTBOX__MAX_ATTEMPTS": "3"})
    request = (await create()).request
    senders["telegram"].fail_always(TemporaryDeliveryError("timeout"))
    worker = OutboxWorker(db, senders, config)
    for _ in range(3):
        await worker.deliver_due()
        await _make_due(db)
    records = await OutboxRepository(db).records(request_id=request.id)
    failed = [r for r in records if r.status == "failed"]
    assert len(failed) == 1 and failed[0].message.attempts == 3
    assert "gave up after 3 attempts" in (failed[0].last_error or "")
    assert "message_failed" in [e.event for e in await service.audit_events(request.id)]


async def test_permanent_failure_falls_back_to_verified_email_and_tells_staff(
        db: Database, config: Config, service: RequestService, senders: dict[str, RecordingSender],
        create: Callable[..., Any]) -> None:
    who = Requester(telegram_user_id=9, telegram_chat_id=9, email="ivan@example.ru")
    request = (await create(requester=who, verified=VerificationMethod.EMAIL_CODE)).request
    senders["telegram"].fail_always(PermanentDeliveryError("Forbidden: bot was blocked by the user"))
    worker = OutboxWorker(db, senders, config)
    await worker.deliver_due()
    await worker.deliver_due()
    assert senders["telegram"].sent == []
    assert [(m.recipient, m.kind) for m in senders["email"].sent] == [("ivan@example.ru", "request.created")]
    assert senders["email"].sent[0].payload["fallback_from"] == "telegram"
    notices = [m for m in senders["staff"].sent if m.kind == "staff.delivery_failed"]
    assert len(notices) == 1 and request.id in notices[0].payload["text"]
    assert "email" in notices[0].payload["text"]
    failed = await OutboxRepository(db).failed()
    assert [(r.message.channel, r.request_id) for r in failed] == [("telegram", request.id)]
    events = [e.event for e in await service.audit_events(request.id)]
    assert "message_failed" in events and "message_fallback" in events
    shown = {(d.message.channel, d.status) for d in await service.deliveries(request.id)}
    assert ("telegram", "failed") in shown and ("email", "sent") in shown


async def test_permanent_failure_without_other_channel(db: Database, config: Config,
                                                       senders: dict[str, RecordingSender],
                                                       create: Callable[..., Any]) -> None:
    await create(requester=Requester(telegram_user_id=9, telegram_chat_id=9))
    senders["telegram"].fail_always(PermanentDeliveryError("blocked"))
    worker = OutboxWorker(db, senders, config)
    await worker.deliver_due()
    await worker.deliver_due()
    assert senders["email"].sent == []
    notices = [m.payload["text"] for m in senders["staff"].sent if m.kind == "staff.delivery_failed"]
    assert len(notices) == 1 and "Другого подтверждённого канала" in notices[0]


async def _bounce_after(db: Database, config: Config, service: RequestService, senders: dict[str, RecordingSender],
                        channel: Channel, method: VerificationMethod) -> None:
    """An access request naming an address and a Telegram account, whose mail bounces for good."""
    await service.create(type=RequestType.ACCESS, channel=channel, lang="en",
                         requester=Requester(email="gone@example.ru", telegram_user_id=4, telegram_chat_id=4),
                         verified=method, actor="staff:1" if channel is Channel.MANUAL else "requester")
    senders["email"].fail_always(PermanentDeliveryError("550 no such mailbox"))
    worker = OutboxWorker(db, senders, config)
    await worker.deliver_due()
    await worker.deliver_due()


async def test_email_bounce_falls_back_to_telegram(db: Database, config: Config, service: RequestService,
                                                   senders: dict[str, RecordingSender]) -> None:
    # Staff entered it with both ways to reach the person (checked by staff): email first, then Telegram.
    await _bounce_after(db, config, service, senders, Channel.MANUAL, VerificationMethod.STAFF)
    assert [(m.recipient, m.kind) for m in senders["telegram"].sent] == [("4", "request.created")]


async def test_no_fallback_to_an_identity_nobody_proved(db: Database, config: Config, service: RequestService,
                                                        senders: dict[str, RecordingSender]) -> None:
    """A Telegram id on a request that came by email was proven by nothing: a bounce goes to staff only."""
    await _bounce_after(db, config, service, senders, Channel.EMAIL, VerificationMethod.EMAIL_REPLY)
    assert senders["telegram"].sent == []
    assert [m.kind for m in senders["staff"].sent if m.kind == "staff.delivery_failed"] == ["staff.delivery_failed"]


async def test_messages_wait_for_a_missing_sender(db: Database, config: Config, create: Callable[..., Any]) -> None:
    await create()
    only_staff = {"staff": RecordingSender("staff")}
    worker = OutboxWorker(db, only_staff, config)
    assert await worker.deliver_due() == 1
    rows = await outbox_rows(db)
    assert [(r["channel"], r["status"], r["attempts"]) for r in rows] == [("telegram", "pending", 0),
                                                                           ("staff", "sent", 1)]


async def test_run_stops_on_event(db: Database, config: Config, senders: dict[str, RecordingSender],
                                  create: Callable[..., Any]) -> None:
    await create()
    stop = asyncio.Event()
    task = asyncio.create_task(OutboxWorker(db, senders, config).run(stop))
    for _ in range(100):
        if senders["telegram"].sent and senders["staff"].sent:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert len(senders["telegram"].sent) == 1 and len(senders["staff"].sent) == 1


async def test_enqueue_is_idempotent_per_key(db: Database, outbox: OutboxRepository) -> None:
    async with db.transaction() as conn:
        first = await outbox.enqueue(conn, channel="staff", recipient="", kind="k", payload={"text": "a"},
                                     idempotency_key="same")
        second = await outbox.enqueue(conn, channel="staff", recipient="", kind="k", payload={"text": "b"},
                                      idempotency_key="same")
    assert first == second
    assert len(await outbox_rows(db)) == 1


async def test_restart_takes_over_in_flight_messages_but_keeps_backoff(
        db: Database, config: Config, outbox: OutboxRepository) -> None:
    async with db.transaction() as conn:
        in_flight = await outbox.enqueue(conn, channel="staff", recipient="", kind="k", payload={"text": "a"})
        waiting = await outbox.enqueue(conn, channel="staff", recipient="", kind="k", payload={"text": "b"})
    for message in await outbox.due():
        assert await outbox.claim(message, timedelta(minutes=5))  # both claimed, i.e. "being sent"
    later = utcnow() + timedelta(hours=1)
    async with db.transaction() as conn:
        await outbox.mark_retry(conn, waiting, "temporary: 502", later)  # this one failed and waits
    assert await outbox.due() == []
    assert await outbox.release_claims() == 1  # as the worker does after a crash
    assert [m.id for m in await outbox.due()] == [in_flight]
    sender = RecordingSender("staff")
    assert await OutboxWorker(db, {"staff": sender}, config).deliver_due() == 1
    assert [m.payload["text"] for m in sender.sent] == ["a"]


class _ConcurrentSender(RecordingSender):
    """Records what overlaps: each send takes a little time, as a network round trip does."""

    def __init__(self, channel: str, concurrency: int | None) -> None:
        super().__init__(channel)
        if concurrency is not None:
            self.concurrency = concurrency
        self.in_flight = 0
        self.most_in_flight = 0
        self.checked: list[int] = []
        self.delivered = asyncio.Event()

    async def send(self, message: OutboxMessage) -> str | None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.02)
            external_id = await super().send(message)
            self.delivered.set()
            return external_id
        finally:
            self.in_flight -= 1

    async def was_sent(self, message: OutboxMessage) -> bool:
        self.checked.append(message.id)
        return await super().was_sent(message)


async def _enqueue_per_recipient(db: Database, outbox: OutboxRepository, recipients: int, each: int) -> None:
    async with db.transaction() as conn:
        for n in range(each):
            for r in range(recipients):
                await outbox.enqueue(conn, channel="email", recipient=f"r{r}@example.ru", kind="k",
                                     payload={"text": f"{r}-{n}"})


async def test_batch_is_sent_concurrently_in_order_per_recipient(db: Database, config: Config,
                                                                 outbox: OutboxRepository) -> None:
    await _enqueue_per_recipient(db, outbox, recipients=5, each=4)
    sender = _ConcurrentSender("email", concurrency=3)
    assert await OutboxWorker(db, {"email": sender}, config).deliver_due() == 20
    assert sender.most_in_flight == 3  # the sender's limit, reached and never exceeded
    for r in range(5):
        texts = [m.payload["text"] for m in sender.sent if m.recipient == f"r{r}@example.ru"]
        assert texts == [f"{r}-{n}" for n in range(4)]  # queue order per recipient
    rows = await outbox_rows(db)
    assert len(rows) == 20 and {row["status"] for row in rows} == {"sent"}
    assert {row["attempts"] for row in rows} == {1}
    assert sender.checked == []  # first sends are never asked was_sent()


async def test_sender_without_concurrency_gets_one_message_at_a_time(db: Database, config: Config,
                                                                      outbox: OutboxRepository) -> None:
    await _enqueue_per_recipient(db, outbox, recipients=4, each=2)
    sender = _ConcurrentSender("email", concurrency=None)
    assert await OutboxWorker(db, {"email": sender}, config).deliver_due() == 8
    assert sender.most_in_flight == 1
    assert len(sender.sent) == 8


async def test_only_messages_in_flight_at_a_crash_are_checked(db: Database, config: Config,
                                                              outbox: OutboxRepository) -> None:
    await _enqueue_per_recipient(db, outbox, recipients=3, each=1)
    claimed = await outbox.claim_due(["email"], timedelta(minutes=5))  # a worker claimed them, then died
    assert [m.attempts for m, _ in claimed] == [0, 0, 0]
    await _enqueue_per_recipient(db, outbox, recipients=2, each=1)  # and new mail arrived since
    assert await outbox.release_claims() == 3
    sender = _ConcurrentSender("email", concurrency=4)
    sender.sent.append(claimed[0][0])  # the first one had gone out before the crash
    assert await OutboxWorker(db, {"email": sender}, config).deliver_due() == 5
    assert sorted(sender.checked) == sorted(m.id for m, _ in claimed)
    assert [m.id for m in sender.sent].count(claimed[0][0].id) == 1  # not sent twice
    assert {row["status"] for row in await outbox_rows(db)} == {"sent"}


async def test_run_wakes_on_enqueue_instead_of_waiting_for_the_poll(db: Database, make_config: Callable[..., Config],
                                                                    outbox: OutboxRepository) -> None:
    config = make_config({"PRIVACY_BOT__OUTBOX__POLL_SECONDS": "30"})
    sender = _ConcurrentSender("staff", concurrency=None)
    worker = OutboxWorker(db, {"staff": sender}, config, repository=outbox)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.sleep(0.1)  # the worker found nothing and waits for its 30 s poll
        async with db.transaction() as conn:
            await outbox.enqueue(conn, channel="staff", recipient="", kind="k", payload={"text": "now"})
        await asyncio.wait_for(sender.delivered.wait(), 3)
        assert [m.payload["text"] for m in sender.sent] == ["now"]
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
