"""Delivers outbox messages through the registered senders, with retries and exponential backoff.

Crash safety: an attempt is recorded before the send (``claim``). A pending row with attempts > 0 may
already have gone out; before sending it again the worker asks the sender ``was_sent()``. Channels that
can check never duplicate; the others are at-least-once (ARCHITECTURE.md, "Outbox delivery guarantees").
One worker per database file is assumed: at start it takes over every unfinished claim.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import timedelta

import aiosqlite

from bot.audit import SYSTEM, AuditLog
from bot.config import Config
from bot.i18n import Translator, get_translator
from bot.outbox.base import OutboxMessage, PermanentDeliveryError, Sender, TemporaryDeliveryError
from bot.outbox.repository import OutboxRepository
from bot.requests.models import VerificationMethod
from bot.storage import requests_repo
from bot.storage.db import Database
from bot.storage.timefmt import utcnow

log = logging.getLogger(__name__)

EMAIL_VERIFIED = frozenset({VerificationMethod.EMAIL_CODE, VerificationMethod.EMAIL_REPLY, VerificationMethod.STAFF})


class OutboxWorker:
    def __init__(self, db: Database, senders: Mapping[str, Sender], config: Config, *,
                 repository: OutboxRepository | None = None, audit: AuditLog | None = None,
                 translator: Translator | None = None, lease_seconds: float = 300.0) -> None:
        self.db = db
        self.senders = dict(senders)
        self.config = config
        self.repo = repository or OutboxRepository(db)
        self.audit = audit or AuditLog()
        self.translator = translator or get_translator()
        self.lease = timedelta(seconds=lease_seconds)
        self._warned_channels: set[str] = set()

    def backoff(self, attempts: int) -> float:
        cfg = self.config.outbox
        return float(min(cfg.max_backoff_seconds, cfg.base_backoff_seconds * 2 ** max(0, attempts - 1)))

    async def run(self, stop: asyncio.Event) -> None:
        await self.repo.release_claims()
        while not stop.is_set():
            try:
                delivered = await self.deliver_due()
            except Exception:  # the worker must outlive one bad batch
                log.exception("outbox: delivery pass failed")
                delivered = 0
            if delivered == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.config.outbox.poll_seconds)

    async def deliver_due(self, limit: int = 100) -> int:
        """One pass over due messages; returns how many were handled (sent, retried or failed)."""
        handled = 0
        for message in await self.repo.due(limit=limit):
            sender = self.senders.get(message.channel)
            if sender is None:
                if message.channel not in self._warned_channels:
                    log.warning("outbox: no sender for channel %s; messages wait", message.channel)
                    self._warned_channels.add(message.channel)
                continue
            if await self._deliver(message, sender):
                handled += 1
        return handled

    async def _deliver(self, message: OutboxMessage, sender: Sender) -> bool:
        if not await self.repo.claim(message, self.lease):
            return False  # someone else took it
        attempts = message.attempts + 1
        if message.attempts > 0:
            try:
                already = await sender.was_sent(message)
            except Exception as exc:  # no answer is not a yes: send again (at-least-once)
                log.warning("outbox: was_sent check failed for message %s: %s", message.id, type(exc).__name__)
                already = False
            if already:
                await self._finish_sent(message, None, confirmed_after_restart=True)
                return True
        try:
            external_id = await sender.send(message)
        except PermanentDeliveryError as exc:
            await self._finish_failed(message, f"permanent: {exc}")
        except TemporaryDeliveryError as exc:
            await self._retry_or_fail(message, attempts, f"temporary: {exc}", exc.retry_after)
        except Exception as exc:
            log.warning("outbox: sender %s raised %s for message %s", message.channel, type(exc).__name__, message.id)
            await self._retry_or_fail(message, attempts, f"error: {type(exc).__name__}: {exc}", None)
        else:
            await self._finish_sent(message, external_id)
        return True

    async def _retry_or_fail(self, message: OutboxMessage, attempts: int, error: str,
                             retry_after: float | None) -> None:
        if attempts >= self.config.outbox.max_attempts:
            await self._finish_failed(message, f"gave up after {attempts} attempts; {error}")
            return
        delay = retry_after if retry_after is not None else self.backoff(attempts)
        async with self.db.transaction() as conn:
            await self.repo.mark_retry(conn, message.id, error, utcnow() + timedelta(seconds=delay))
        log.info("outbox: message %s (%s) will be retried in %.1fs", message.id, message.kind, delay)

    async def _finish_sent(self, message: OutboxMessage, external_id: str | None,
                           confirmed_after_restart: bool = False) -> None:
        request_id = await self.repo.request_of(message.id)
        async with self.db.transaction() as conn:
            await self.repo.mark_sent(conn, message.id, external_id)
            if request_id:
                details = {"outbox_id": message.id, "kind": message.kind, "channel": message.channel}
                if confirmed_after_restart:
                    details["confirmed_after_restart"] = True
                await self.audit.append(conn, request_id, "message_sent", SYSTEM, details)

    async def _finish_failed(self, message: OutboxMessage, error: str) -> None:
        """Record the failure, tell staff, and fall back to the requester's other verified channel."""
        request_id = await self.repo.request_of(message.id)
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
        who = request.requester
        if failed == "telegram" and who.email and request.verification_method in EMAIL_VERIFIED:
            return "email", who.email
        if failed == "email" and who.telegram_chat_id:
            return "telegram", str(who.telegram_chat_id)
        return None
