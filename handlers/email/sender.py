"""EmailSender: the outbox Sender for channel "email" (aiosmtplib).

Builds the MIME message from the outbox payload ({"text", "subject", "lang", "request_id", "reply_to",
"references"...}), with our signed Message-ID, threading headers and the auto-reply markers, and sends
it over one reused SMTP session. Exactly-once: the same SMTP transaction also delivers a copy to our own
mailbox (a second envelope recipient, the [email] address), and the Message-ID is a function of the
outbox idempotency key, so after a crash between the server's "accepted" and the outbox's "sent" mark,
``was_sent`` finds the copy by its Message-ID instead of sending again.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, formatdate

import aiosmtplib

from bot.config import Config
from bot.i18n import Translator, get_translator
from bot.outbox.base import OutboxMessage, PermanentDeliveryError, TemporaryDeliveryError
from handlers.email.message_ids import MessageIds
from handlers.email.store import EmailStore
from handlers.email.threading_headers import references_chain, reply_subject

log = logging.getLogger(__name__)

# Servers drop idle sessions (RFC 5321 suggests 5 minutes); start a fresh one well before.
SMTP_IDLE_SECONDS = 60.0

# Looks a Message-ID up in our own mailbox (the self-copy); provided by the channel (IMAP).
CopyLookup = Callable[[str], Awaitable[bool]]


def idempotency_key_of(message: OutboxMessage) -> str:
    return message.idempotency_key or f"outbox-{message.id}"


class EmailSender:
    channel = "email"

    def __init__(self, config: Config, *, store: EmailStore | None = None, copy_lookup: CopyLookup | None = None,
                 translator: Translator | None = None, tls_context: ssl.SSLContext | None = None,
                 self_copy: bool = True) -> None:
        self.config = config
        self.store = store
        self.copy_lookup = copy_lookup
        self.translator = translator or get_translator()
        self.tls_context = tls_context
        # The copy only helps when someone can look for it afterwards.
        self.self_copy = self_copy and store is not None and copy_lookup is not None
        self.ids = MessageIds(config)
        self._smtp: aiosmtplib.SMTP | None = None
        self._last_used = 0.0
        # One SMTP session, one transaction at a time on it.
        self._lock = asyncio.Lock()

    # -- building ----------------------------------------------------------------------------------

    async def _threading(self, message: OutboxMessage) -> tuple[str | None, str | None, str | None]:
        """(In-Reply-To, References, thread subject): the request's mail thread when there is one for this
        recipient, else what the payload gives."""
        payload = message.payload
        request_id = payload.get("request_id")
        if request_id and self.store is not None:
            thread = await self.store.thread(str(request_id))
            if thread is not None and thread.address.lower() == message.recipient.lower():
                ids = [thread.root_message_id, *await self.store.request_message_ids(str(request_id))]
                references = references_chain([*ids, thread.last_inbound_message_id])
                subject = reply_subject(thread.subject)
                if str(request_id) not in subject:
                    subject = f"{subject} [{request_id}]"
                return thread.last_inbound_message_id, references, subject
        in_reply_to = payload.get("reply_to") or payload.get("in_reply_to")
        given = payload.get("references")
        chain = references_chain([str(r) for r in given]) if isinstance(given, list) else str(given or "")
        if in_reply_to and not chain:
            chain = str(in_reply_to)
        return (str(in_reply_to) if in_reply_to else None, chain or None, None)

    async def build(self, message: OutboxMessage) -> EmailMessage:
        payload = message.payload
        lang = str(payload.get("lang") or "ru")
        in_reply_to, references, thread_subject = await self._threading(message)
        # In a request's thread the subject stays "Re: <their subject> [id]" so every client threads it.
        subject = thread_subject or str(payload.get("subject") or "") or self.translator(lang, "email-default-subject")
        mime = EmailMessage()
        mime["From"] = formataddr((self.config.email.display_name, self.config.email.address))
        mime["To"] = str(Address(addr_spec=message.recipient))
        mime["Subject"] = subject
        mime["Date"] = formatdate(localtime=False, usegmt=True)
        mime["Message-ID"] = self.ids.for_key(idempotency_key_of(message))
        if in_reply_to:
            mime["In-Reply-To"] = in_reply_to
        if references:
            mime["References"] = references
        # RFC 3834 and the Microsoft header: other robots must not answer us (no mail loops).
        mime["Auto-Submitted"] = "auto-replied"
        mime["X-Auto-Response-Suppress"] = "All"
        mime["Content-Language"] = lang
        mime.set_content(str(payload.get("text") or ""), charset="utf-8")
        return mime

    # -- sending -----------------------------------------------------------------------------------

    def _client(self) -> aiosmtplib.SMTP:
        cfg = self.config.email
        security = cfg.smtp_security
        return aiosmtplib.SMTP(
            hostname=cfg.smtp_host, port=cfg.smtp_port, timeout=cfg.smtp_timeout_seconds,
            use_tls=security == "ssl", start_tls=True if security == "starttls" else False,
            # Without it aiosmtplib asks the resolver for our FQDN on every connection.
            local_hostname=cfg.address.rpartition("@")[2] or "localhost",
            tls_context=self.tls_context if security != "none" else None,
        )

    async def send(self, message: OutboxMessage) -> str | None:
        key = idempotency_key_of(message)
        mime = await self.build(message)
        await self._transmit(mime, message.recipient)
        request_id = message.payload.get("request_id")
        if self.store is not None and request_id:
            # Mail about a request is recorded after the server accepted it: a reply to this Message-ID
            # then finds the request. (A crash before this line is what ``was_sent`` covers.)
            await self.store.record_sent(key, str(mime["Message-ID"]), message.recipient, str(request_id),
                                         str(mime["Subject"]))
        return str(mime["Message-ID"])

    async def _session(self) -> aiosmtplib.SMTP:
        """The open SMTP session, reused between messages (a new one after an idle pause or an error)."""
        loop_time = asyncio.get_running_loop().time()
        client = self._smtp
        if client is not None and (not client.is_connected or loop_time - self._last_used > SMTP_IDLE_SECONDS):
            await self._drop_session(polite=client.is_connected)
            client = None
        if client is None:
            client = self._client()
            await client.connect()
            if self.config.email.smtp_username:
                await client.login(self.config.email.smtp_username, self.config.secrets.smtp_password or "")
            self._smtp = client
        self._last_used = loop_time
        return client

    async def _drop_session(self, polite: bool = False) -> None:
        client, self._smtp = self._smtp, None
        if client is None:
            return
        try:
            if polite and client.is_connected:
                await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            pass
        finally:
            client.close()

    async def close(self) -> None:
        async with self._lock:
            await self._drop_session(polite=True)

    async def _start_mail(self) -> aiosmtplib.SMTP:
        """MAIL FROM on the reused session; one fresh session if the old one was closed by the server."""
        for attempt in (1, 2):
            client = await self._session()
            try:
                await client.mail(self.config.email.address)
                return client
            except (aiosmtplib.SMTPServerDisconnected, OSError):
                await self._drop_session()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _transmit(self, mime: EmailMessage, recipient: str) -> None:
        cfg = self.config.email
        async with self._lock:
            client: aiosmtplib.SMTP | None = None
            try:
                client = await self._start_mail()
                try:
                    await client.rcpt(recipient)
                except aiosmtplib.SMTPRecipientRefused as exc:
                    await client.rset()
                    if 500 <= exc.code < 600:
                        raise PermanentDeliveryError(f"recipient refused: {exc.code} {exc.message}") from None
                    raise TemporaryDeliveryError(f"recipient deferred: {exc.code} {exc.message}") from None
                if self.self_copy and recipient.lower() != cfg.address.lower():
                    try:
                        await client.rcpt(cfg.address)
                    except aiosmtplib.SMTPRecipientRefused as exc:
                        # Still send: only the crash check loses its evidence for this one message.
                        log.warning("self-copy recipient refused (%s); crash check unavailable", exc.code)
                await client.data(mime.as_bytes())
            except (PermanentDeliveryError, TemporaryDeliveryError):
                raise
            except aiosmtplib.SMTPResponseException as exc:
                await self._drop_session(polite=True)
                raise TemporaryDeliveryError(f"SMTP {exc.code}: {exc.message}") from None
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                await self._drop_session()
                raise TemporaryDeliveryError(f"SMTP unavailable: {type(exc).__name__}: {exc}") from None

    async def _copy_exists(self, message_id: str) -> bool:
        if self.copy_lookup is None or not self.self_copy:
            return False
        try:
            return await self.copy_lookup(message_id)
        except Exception as exc:  # no evidence either way: a resend is the lesser harm than a lost reply
            log.warning("self-copy lookup failed: %s", type(exc).__name__)
            return False

    async def was_sent(self, message: OutboxMessage) -> bool:
        """Asked by the outbox worker only for a message whose earlier attempt may have gone out."""
        key = idempotency_key_of(message)
        if self.store is not None and await self.store.outbound_state(key) == "sent":
            return True
        message_id = self.ids.for_key(key)
        if await self._copy_exists(message_id):
            log.info("email: message %s was accepted before a restart; not sent again", message.id)
            if self.store is not None:
                await self.store.record_sent(key, message_id, message.recipient,
                                             str(message.payload.get("request_id") or "") or None, "")
            return True
        return False
