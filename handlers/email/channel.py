"""EmailChannel: what bot/app.py starts when [email] enabled = true.

``senders()`` gives the outbox its "email" sender; ``run(stop)`` runs the IMAP receiver and the channel's
housekeeping (confirmation reminders and expiry) until ``stop`` is set. Stored mail bodies are removed by
the core's retention job ([retention] message_bodies_days).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from datetime import timedelta

from bot.awaiting import Step, Timing, next_step
from bot.handoffs import HandoffService
from bot.outbox.base import Sender
from bot.requests.errors import RequestError
from bot.requests.models import RequestStatus
from bot.services import Services
from handlers.email.imap import ImapSession
from handlers.email.processor import ACTOR, MailProcessor, reminder_key
from handlers.email.receiver import Receiver
from handlers.email.sender import EmailSender
from handlers.email.store import EmailStore, utc_now

log = logging.getLogger(__name__)

HOUSEKEEPING_SECONDS = 300.0


class EmailChannel:
    def __init__(self, services: Services, *, imap_ssl_context: ssl.SSLContext | None = None,
                 smtp_tls_context: ssl.SSLContext | None = None,
                 housekeeping_seconds: float = HOUSEKEEPING_SECONDS) -> None:
        self.services = services
        self.config = services.config
        self.store = EmailStore(services.db)
        self.handoffs = HandoffService(services.db, services.config, outbox=services.outbox,
                                       translator=services.translator)
        self.processor = MailProcessor(services, self.store, self.handoffs)
        self.imap_ssl_context = imap_ssl_context
        self.receiver = Receiver(self.config, self.store, self.processor.process, is_own=self.processor.ids.is_ours,
                                 ssl_context=imap_ssl_context, process_many=self.processor.process_many)
        self.sender = EmailSender(self.config, services.secret, store=self.store, copy_lookup=self.copy_in_mailbox,
                                  translator=services.translator, tls_context=smtp_tls_context)
        self.housekeeping_seconds = housekeeping_seconds

    def senders(self) -> list[Sender]:
        return [self.sender]

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await asyncio.gather(self.receiver.run(stop), self._housekeeping(stop))
        finally:
            await self.sender.close()  # QUIT the reused SMTP session

    # -- the self-copy check used by the sender after a crash --------------------------------------------

    async def copy_in_mailbox(self, message_id: str) -> bool:
        """Is our copy of this Message-ID in the mailbox? (The store first: the receiver may have it.)"""
        if await self.store.has_inbound(message_id):
            return True
        session = ImapSession(self.config, ssl_context=self.imap_ssl_context)
        try:
            await session.connect()
            return await session.has_message_id(message_id)
        finally:
            await session.close()

    # -- housekeeping ------------------------------------------------------------------------------------

    async def _housekeeping(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.check_confirmations()
            except Exception:  # housekeeping must not take the channel down; next pass retries
                log.exception("email: housekeeping pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.housekeeping_seconds)

    async def check_confirmations(self) -> dict[str, list[str]]:
        """One reminder, then expiry, for email requests never confirmed by reply."""
        cfg = self.config.email
        timing = Timing(timedelta(hours=cfg.confirmation_reminder_hours), timedelta(hours=cfg.confirmation_expire_hours))
        now = utc_now()
        done: dict[str, list[str]] = {"reminded": [], "expired": []}
        for thread in await self.store.awaiting_confirmation():
            try:
                request = await self.services.requests.get(thread.request_id)
            except RequestError:
                async with self.services.db.transaction() as conn:
                    await self.store.set_thread_state(conn, thread.request_id, confirmation="closed")
                continue
            if request.status is not RequestStatus.AWAITING_VERIFICATION:
                state = "confirmed" if request.verified_at is not None else "closed"
                async with self.services.db.transaction() as conn:
                    await self.store.set_thread_state(conn, thread.request_id, confirmation=state)
                continue
            step = next_step(thread.created_at, thread.reminded_at is not None, now, timing)
            if step is Step.EXPIRE:
                await self.services.requests.expire(request.id, actor=ACTOR)
                async with self.services.db.transaction() as conn:
                    await self.store.set_thread_state(conn, thread.request_id, confirmation="expired")
                done["expired"].append(request.id)
            elif step is Step.REMIND:
                t = self.services.translator
                lang = thread.lang
                what = t(lang, "email-request-type", type=request.type.value)
                token = self.processor.ids.confirmation_token(request.id)
                text = (f"{t(lang, 'email-reminder', id=request.id, what=what, token=token)}\n\n"
                        f"{t(lang, 'email-signature')}")
                async with self.services.db.transaction() as conn:
                    await self.services.outbox.enqueue(
                        conn, channel="email", recipient=thread.address, kind="email.confirm_reminder",
                        payload={"text": text, "subject": t(lang, "email-reminder-subject", id=request.id),
                                 "lang": lang, "kind": "email.confirm_reminder", "request_id": request.id},
                        idempotency_key=reminder_key(request.id), request_id=request.id)
                    await self.store.set_thread_state(conn, thread.request_id, reminded=True)
                done["reminded"].append(request.id)
        return done
