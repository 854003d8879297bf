"""Delivers outbox messages through the registered senders, with retries and exponential backoff.

Crash safety: an attempt is recorded before the send (``claim``). A pending row with attempts > 0 may
already have gone out; before sending it again the worker asks the sender ``was_sent()``. Channels that
can check never duplicate; the others are at-least-once (ARCHITECTURE.md, "Outbox delivery guarantees").
One worker per database file is assumed: at start it takes over every unfinished claim.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

import aiosqlite

from bot.audit import SYSTEM, AuditLog
from bot.config import Config
from bot.i18n import Translator, get_translator
from bot.outbox.base import OutboxMessage, PermanentDeliveryError, Sender, TemporaryDeliveryError
from bot.outbox.repository import OutboxRepository
from bot.requests.routing import requester_route
from bot.storage import requests_repo
from bot.storage.db import Database, DatabaseUnusable
from bot.storage.timefmt import utcnow

log = logging.getLogger(__name__)

# Completes a message right before it is sent (a secret made only then, such as a verification code);
# None: the message is no longer wanted and is dropped.
Filler = Callable[[OutboxMessage], Awaitable[OutboxMessage | None]]


class OutboxWorker:
    def __init__(self, db: Database, senders: Mapping[str, Sender], config: Config, *,
                 repository: OutboxRepository | None = None, audit: AuditLog | None = None,
                 translator: Translator | None = None, lease_seconds: float = 300.0,
                 fillers: Mapping[str, Filler] | None = None, elsewhere: frozenset[str] = frozenset()) -> None:
        self.db = db
        self.senders = dict(senders)
        self.fillers = dict(fillers or {})
        self.config = config
        self.repo = repository or OutboxRepository(db)
        self.audit = audit or AuditLog()
        self.translator = translator or get_translator()
        self.lease = timedelta(seconds=lease_seconds)
        # Channels another process delivers (the console's other view): waiting is expected, not warned of.
        self._warned_channels: set[str] = set(elsewhere)

    def backoff(self, attempts: int) -> float:
        cfg = self.config.outbox
        return float(min(cfg.max_backoff_seconds, cfg.base_backoff_seconds * 2 ** max(0, attempts - 1)))

    async def run(self, stop: asyncio.Event) -> None:
        await self.repo.release_claims()
        enqueued = self.repo.enqueued
        while not stop.is_set():
            enqueued.clear()
            try:
                delivered = await self.deliver_due()
            except Exception:  # the worker must outlive one bad batch
                log.exception("outbox: delivery pass failed")
                delivered = 0
            if delivered == 0:
                await self._idle(stop, enqueued)

    async def _idle(self, stop: asyncio.Event, enqueued: asyncio.Event) -> None:
        """Until the next poll, a new message in this process's outbox, or stop."""
        waits = [asyncio.create_task(stop.wait()), asyncio.create_task(enqueued.wait())]
        try:
            await asyncio.wait(waits, timeout=self.config.outbox.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()

    async def deliver_due(self, limit: int = 100) -> int:
        """One pass over due messages; returns how many were handled (sent, retried or failed).

        The batch is claimed in one transaction, then sent concurrently: each sender takes up to its
        ``concurrency`` (default 1) messages at once, messages to one recipient go one after another in
        queue order, and "sent" marks that complete together are committed together.
        """
        claimed = await self.repo.claim_due(list(self.senders), self.lease, limit=limit)
        if not claimed:
            await self._warn_unsendable()
            return 0
        # One queue per recipient keeps their messages in order; recipients proceed independently.
        queues: dict[tuple[str, str], list[tuple[OutboxMessage, str | None]]] = {}
        for message, request_id in claimed:
            queues.setdefault((message.channel, message.recipient), []).append((message, request_id))
        slots = {name: asyncio.Semaphore(max(1, int(getattr(sender, "concurrency", 1))))
                 for name, sender in self.senders.items()}
        marks = _SentMarks(self)
        results = await asyncio.gather(*(self._deliver_queue(queue, slots[channel], marks)
                                         for (channel, _), queue in queues.items()), return_exceptions=True)
        for result in results:
            if isinstance(result, DatabaseUnusable):
                continue  # the bot stops on it and reports it once; the claimed rows wait for the restart
            if isinstance(result, BaseException):
                # Claimed rows left unfinished wait out their lease, then are asked was_sent() and retried.
                log.error("outbox: delivery to one recipient failed: %s", type(result).__name__)
        return len(claimed)

    async def _warn_unsendable(self) -> None:
        for channel in await self.repo.due_channels() - set(self.senders) - self._warned_channels:
            log.warning("outbox: no sender for channel %s; messages wait", channel)
            self._warned_channels.add(channel)

    async def _deliver_queue(self, queue: list[tuple[OutboxMessage, str | None]], slots: asyncio.Semaphore,
                             marks: _SentMarks) -> None:
        for message, request_id in queue:
            await self._deliver(message, request_id, self.senders[message.channel], marks, slots)

    async def _deliver(self, message: OutboxMessage, request_id: str | None, sender: Sender,
                       marks: _SentMarks, slots: asyncio.Semaphore) -> None:
        """Send one claimed message (``message.attempts`` is the count before this claim).

        A slot of the sender is held while the channel is used (the check and the send), not while the
        outcome waits for the database's write lock: another recipient's message goes out meanwhile."""
        attempts = message.attempts + 1
        if message.attempts > 0:
            # Only a message whose earlier attempt may have gone out (in flight at a crash, or a send that
            # failed after the server might have taken it) is checked; a first send never is.
            try:
                async with slots:
                    already = await sender.was_sent(message)
            except Exception as exc:  # no answer is not a yes: send again (at-least-once)
                log.warning("outbox: was_sent check failed for message %s: %s", message.id, type(exc).__name__)
                already = False
            if already:
                await marks.add(message, request_id, None, confirmed_after_restart=True)
                return
        filler = self.fillers.get(message.kind)
        if filler is not None:
            filled = await filler(message)
            if filled is None:
                async with self.db.transaction() as conn:
                    await self.repo.mark_failed(conn, message.id, "dropped: no longer wanted")
                return
            message = filled
        try:
            async with slots:
                external_id = await sender.send(message)
        except PermanentDeliveryError as exc:
            await self._finish_failed(message, f"permanent: {exc}", request_id)
        except TemporaryDeliveryError as exc:
            await self._retry_or_fail(message, attempts, f"temporary: {exc}", exc.retry_after, request_id)
        except DatabaseUnusable:
            raise  # not the recipient's fault: the claim stands and the message goes after the restart
        except Exception as exc:
            log.warning("outbox: sender %s raised %s for message %s", message.channel, type(exc).__name__, message.id)
            await self._retry_or_fail(message, attempts, f"error: {type(exc).__name__}: {exc}", None, request_id)
        else:
            # Returns once the mark is committed, so the next message to this recipient is sent only after.
            await marks.add(message, request_id, external_id)

    async def _retry_or_fail(self, message: OutboxMessage, attempts: int, error: str,
                             retry_after: float | None, request_id: str | None) -> None:
        if attempts >= self.config.outbox.max_attempts:
            await self._finish_failed(message, f"gave up after {attempts} attempts; {error}", request_id)
            return
        delay = retry_after if retry_after is not None else self.backoff(attempts)
        async with self.db.transaction() as conn:
            await self.repo.mark_retry(conn, message.id, error, utcnow() + timedelta(seconds=delay))
        log.info("outbox: message %s (%s) will be retried in %.1fs", message.id, message.kind, delay)

    async def _finish_sent(self, sent: list[tuple[OutboxMessage, str | None, str | None, bool]]) -> None:
        """Mark (message, request id, external id, confirmed after restart) sent: those of a request with
        their audit events in one transaction, the others (most: answers) in one trip of its own."""
        plain = [(message.id, external_id) for message, request_id, external_id, _ in sent if not request_id]
        if plain:
            await self.repo.mark_sent_now(plain)
        of_requests = [mark for mark in sent if mark[1]]
        if not of_requests:
            return
        async with self.db.transaction() as conn:
            await self.repo.mark_sent_many(conn, [(message.id, external_id) for message, _, external_id, _ in of_requests])
            for message, request_id, _, confirmed_after_restart in of_requests:
                if request_id:
                    details: dict[str, object] = {"outbox_id": message.id, "kind": message.kind,
                                                  "channel": message.channel}
                    if confirmed_after_restart:
                        details["confirmed_after_restart"] = True
                    await self.audit.append(conn, request_id, "message_sent", SYSTEM, details)

    async def _finish_failed(self, message: OutboxMessage, error: str, request_id: str | None) -> None:
        """Record the failure, tell staff, and fall back to the requester's other verified channel."""
        log.warning("outbox: message %s (%s via %s) failed for good", message.id, message.kind, message.channel)
        async with self.db.transaction() as conn:
            await self.repo.mark_failed(conn, message.id, error)
            if not request_id:
                return
            await self.audit.append(conn, request_id, "message_failed", SYSTEM,
                                    {"outbox_id": message.id, "kind": message.kind, "channel": message.channel,
                                     "error": error.split(":")[0]})
            if message.channel == "staff":
                return
            lang = self.config.policy.default_language
            fallback = await self._fallback_channel(conn, request_id, message.channel)
            if fallback is not None:
                channel, recipient = fallback
                await self.repo.enqueue(conn, channel=channel, recipient=recipient, kind=message.kind,
                                        payload={**message.payload, "fallback_from": message.channel},
                                        idempotency_key=f"{message.idempotency_key}:fallback-{channel}",
                                        request_id=request_id)
                await self.audit.append(conn, request_id, "message_fallback", SYSTEM,
                                        {"outbox_id": message.id, "from": message.channel, "to": channel})
            text = self.translator(lang, "staff-delivery-failed", id=request_id, kind=message.kind,
                                   channel=message.channel,
                                   fallback=fallback[0] if fallback else "none")
            await self.repo.enqueue(conn, channel="staff", recipient="", kind="staff.delivery_failed",
                                    payload={"request_id": request_id, "text": text, "outbox_id": message.id},
                                    idempotency_key=f"{message.idempotency_key}:failed-staff",
                                    request_id=request_id)

    async def _fallback_channel(self, conn: aiosqlite.Connection, request_id: str,
                                failed: str) -> tuple[str, str] | None:
        request = await requests_repo.get(conn, request_id)
        if request is None or request.redacted_at is not None:
            return None
        return requester_route(request, avoid=failed)


class _SentMarks:
    """Commits "sent" marks: whoever finds marks waiting commits all of them in one transaction.

    With one message in flight this is one transaction per message, as before; with several senders
    finishing together their marks share a commit. ``add`` returns once its mark is committed and raises
    when that commit failed (the row then stays claimed, as after a crash).
    """

    def __init__(self, worker: OutboxWorker) -> None:
        self.worker = worker
        self.waiting: list[tuple[tuple[OutboxMessage, str | None, str | None, bool], asyncio.Future[None]]] = []
        self.lock = asyncio.Lock()

    async def add(self, message: OutboxMessage, request_id: str | None, external_id: str | None, *,
                  confirmed_after_restart: bool = False) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.append(((message, request_id, external_id, confirmed_after_restart), done))
        async with self.lock:
            if self.waiting:
                batch, self.waiting = self.waiting, []
                try:
                    await self.worker._finish_sent([mark for mark, _ in batch])
                except Exception as exc:
                    for _, future in batch:
                        future.set_exception(exc)
                except BaseException:  # cancelled mid-commit: the others must not wait forever
                    for _, future in batch:
                        future.cancel()
                    raise
                else:
                    for _, future in batch:
                        future.set_result(None)
        await done
