"""EmailSender: the outbox Sender for channel "email" (aiosmtplib).

Builds the MIME message from the outbox payload ({"text", "subject", "lang", "request_id", "reply_to",
"references"...}), with our signed Message-ID, threading headers and the auto-reply markers, and sends
it over a small pool of reused SMTP sessions (``concurrency`` tells the outbox worker how many messages it
may hand over at once). Exactly-once: the same SMTP transaction also delivers a copy to our own mailbox
(a second envelope recipient, the [email] address), and the Message-ID is a function of the outbox
idempotency key, so after a crash between the server's "accepted" and the outbox's "sent" mark,
``was_sent`` finds the copy by its Message-ID instead of sending again.

Verification codes (kind ``verification.code``) get no self-copy: a code lying in the support mailbox is
a secret anyone with mailbox access could use, and a second code mail after a crash is harmless (that
kind is at-least-once).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.header import Header
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
# SMTP sessions used at once: enough to hide the round trips of one transaction (MAIL, RCPT x2, DATA)
# behind the others; small, because providers limit connections per account.
SMTP_CONNECTIONS = 4
# Kinds that never get a copy in our own mailbox (a secret must not lie around there); at-least-once.
NO_SELF_COPY_KINDS = frozenset({"verification.code"})

# Looks a Message-ID up in our own mailbox (the self-copy); provided by the channel (IMAP).
CopyLookup = Callable[[str], Awaitable[bool]]


def idempotency_key_of(message: OutboxMessage) -> str:
    return message.idempotency_key or f"outbox-{message.id}"


def _header_value(value: str) -> str:
    """A header value on one line: a CR or LF from a foreign Message-ID must not inject headers."""
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


# A subject longer than this is cut (with "…"): nobody reads more, and threading goes by In-Reply-To.
MAX_SUBJECT_CHARS = 250
# RFC 5322: lines SHOULD be at most 78 characters and MUST be at most 998.
FOLD_AT = 76
MAX_LINE = 998


def _encoded(value: str) -> str:
    """A header text folded with CRLF so that no line passes 78 characters: plain ASCII words when they fit,
    else RFC 2047 encoded words, which can be split anywhere (a 1,200-character word cannot be folded)."""
    if len(value) > MAX_SUBJECT_CHARS:
        value = value[:MAX_SUBJECT_CHARS - 1].rstrip() + "…"
    plain = value.isascii() and all(len(word) <= FOLD_AT - 10 for word in value.split())
    return Header(value, "us-ascii" if plain else "utf-8", maxlinelen=FOLD_AT,
                  header_name="Subject").encode(linesep="\r\n")


def _check_lines(head: str) -> None:
    """Defence in depth: a header line over RFC 5322's 998 octets makes servers refuse the whole mail."""
    longest = max((len(line) for line in head.split("\r\n")), default=0)
    if longest > MAX_LINE:
        raise PermanentDeliveryError(f"a header line of {longest} octets (limit {MAX_LINE})")


def _envelope_address(address: str) -> bytes:
    """<address> for MAIL FROM and RCPT TO. Ours is configured and the recipient checked as one plain address
    (EmailSender.build), so aiosmtplib's address parser (three per mail) is not needed."""
    return b"<" + address.encode("ascii") + b">"


async def _rcpt(client: aiosmtplib.SMTP, address: str) -> None:
    """RCPT TO, raising SMTPRecipientRefused as aiosmtplib's ``rcpt`` does."""
    response = await client.execute_command(b"RCPT", b"TO:" + _envelope_address(address))
    if response.code not in (250, 251):
        raise aiosmtplib.SMTPRecipientRefused(response.code, response.message, address)


@dataclass(frozen=True)
class BuiltMail:
    message_id: str
    subject: str
    raw: bytes  # CRLF line ends, ready for DATA


class _Session:
    def __init__(self, client: aiosmtplib.SMTP, last_used: float) -> None:
        self.client = client
        self.last_used = last_used


class EmailSender:
    channel = "email"

    def __init__(self, config: Config, secret: str, *, store: EmailStore | None = None,
                 copy_lookup: CopyLookup | None = None,
                 translator: Translator | None = None, tls_context: ssl.SSLContext | None = None,
                 self_copy: bool = True, connections: int = SMTP_CONNECTIONS) -> None:
        self.config = config
        self.store = store
        self.copy_lookup = copy_lookup
        self.translator = translator or get_translator()
        self.tls_context = tls_context
        # The copy only helps when someone can look for it afterwards.
        self.self_copy = self_copy and store is not None and copy_lookup is not None
        self.ids = MessageIds(config, secret)
        # Read by the outbox worker: how many messages it may hand us at once (one per session).
        self.concurrency = max(1, connections)
        self._slots = asyncio.Semaphore(self.concurrency)
        # Open sessions not in use; one SMTP transaction at a time on each.
        self._idle: list[_Session] = []
        self._from = formataddr((config.email.display_name, config.email.address), charset="utf-8")
        self._envelope_from = _envelope_address(config.email.address)

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

    async def build(self, message: OutboxMessage) -> BuiltMail:
        """text/plain UTF-8 mail (base64 body), serialised here: the email package's EmailMessage path
        cost ~3 ms a message and its compat32 generator ~1.4 ms, more than the SMTP transaction."""
        payload = message.payload
        lang = str(payload.get("lang") or "ru")
        in_reply_to, references, thread_subject = await self._threading(message)
        # In a request's thread the subject stays "Re: <their subject> [id]" so every client threads it.
        subject = thread_subject or str(payload.get("subject") or "") or self.translator(lang, "email-default-subject")
        subject = _header_value(subject)
        recipient = _header_value(message.recipient)
        if not recipient or any(c in recipient for c in " <>,;\"") or recipient.count("@") != 1:
            raise PermanentDeliveryError("not a single plain address")
        message_id = self.ids.for_key(idempotency_key_of(message))
        headers = [
            f"From: {self._from}",
            f"To: {recipient}",
            f"Subject: {_encoded(subject)}",
            f"Date: {formatdate(localtime=False, usegmt=True)}",
            f"Message-ID: {message_id}",
        ]
        if in_reply_to:
            headers.append(f"In-Reply-To: {_header_value(in_reply_to)}")
        if references:
            # One id per folded line keeps every line far below the 998-octet limit.
            headers.append("References: " + "\r\n ".join(_header_value(references).split()))
        headers += [
            # RFC 3834 and the Microsoft header: other robots must not answer us (no mail loops).
            "Auto-Submitted: auto-replied",
            "X-Auto-Response-Suppress: All",
            f"Content-Language: {_header_value(lang)}",
            "MIME-Version: 1.0",
            'Content-Type: text/plain; charset="utf-8"',
            "Content-Transfer-Encoding: base64",
        ]
        body = base64.encodebytes(str(payload.get("text") or "").encode("utf-8")).replace(b"\n", b"\r\n")
        head = "\r\n".join(headers)
        _check_lines(head)
        raw = head.encode("ascii") + b"\r\n\r\n" + body
        return BuiltMail(message_id=message_id, subject=subject, raw=raw)

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

    def wants_self_copy(self, message: OutboxMessage) -> bool:
        return self.self_copy and message.kind not in NO_SELF_COPY_KINDS

    async def send(self, message: OutboxMessage) -> str | None:
        key = idempotency_key_of(message)
        mail = await self.build(message)
        await self._transmit(mail.raw, message.recipient, self_copy=self.wants_self_copy(message))
        request_id = message.payload.get("request_id")
        if self.store is not None and request_id:
            # Mail about a request is recorded after the server accepted it: a reply to this Message-ID
            # then finds the request. (A crash before this line is what ``was_sent`` covers.)
            await self.store.record_sent(key, mail.message_id, message.recipient, str(request_id), mail.subject)
        return mail.message_id

    async def _session(self) -> _Session:
        """An idle open session (a fresh one when none is left, or the idle ones went stale)."""
        now = asyncio.get_running_loop().time()
        while self._idle:
            session = self._idle.pop()
            if session.client.is_connected and now - session.last_used <= SMTP_IDLE_SECONDS:
                return session
            await self._drop(session.client, polite=session.client.is_connected)
        client = self._client()
        await client.connect()
        try:
            if self.config.email.smtp_username:
                await client.login(self.config.email.smtp_username, self.config.secrets.smtp_password or "")
        except BaseException:
            client.close()
            raise
        return _Session(client, now)

    @staticmethod
    async def _drop(client: aiosmtplib.SMTP, polite: bool = False) -> None:
        try:
            if polite and client.is_connected:
                await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            pass
        finally:
            client.close()

    async def close(self) -> None:
        """QUIT every session; waits for transactions in progress to finish first."""
        for _ in range(self.concurrency):
            await self._slots.acquire()
        try:
            idle, self._idle = self._idle, []
            for session in idle:
                await self._drop(session.client, polite=True)
        finally:
            for _ in range(self.concurrency):
                self._slots.release()

    async def _start_mail(self) -> _Session:
        """MAIL FROM on a reused session; one fresh session if the old one was closed by the server."""
        for attempt in (1, 2):
            session = await self._session()
            try:
                if session.client.is_ehlo_or_helo_needed:
                    await session.client.mail(self.config.email.address)  # greets the server first
                else:
                    response = await session.client.execute_command(b"MAIL", b"FROM:" + self._envelope_from)
                    if response.code != 250:
                        raise aiosmtplib.SMTPSenderRefused(response.code, response.message, self.config.email.address)
                return session
            except (aiosmtplib.SMTPServerDisconnected, OSError):
                await self._drop(session.client)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _transmit(self, raw: bytes, recipient: str, *, self_copy: bool = True) -> None:
        cfg = self.config.email
        async with self._slots:
            session: _Session | None = None
            try:
                session = await self._start_mail()
                client = session.client
                try:
                    await _rcpt(client, recipient)
                except aiosmtplib.SMTPRecipientRefused as exc:
                    await client.rset()
                    if 500 <= exc.code < 600:
                        raise PermanentDeliveryError(f"recipient refused: {exc.code} {exc.message}") from None
                    raise TemporaryDeliveryError(f"recipient deferred: {exc.code} {exc.message}") from None
                if self_copy and self.self_copy and recipient.lower() != cfg.address.lower():
                    try:
                        await _rcpt(client, cfg.address)
                    except aiosmtplib.SMTPRecipientRefused as exc:
                        # Still send: only the crash check loses its evidence for this one message.
                        log.warning("self-copy recipient refused (%s); crash check unavailable", exc.code)
                await client.data(raw)
            except (PermanentDeliveryError, TemporaryDeliveryError):
                if session is not None:
                    self._release(session)
                raise
            except aiosmtplib.SMTPResponseException as exc:
                if session is not None:
                    await self._drop(session.client, polite=True)
                raise TemporaryDeliveryError(f"SMTP {exc.code}: {exc.message}") from None
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                if session is not None:
                    await self._drop(session.client)
                raise TemporaryDeliveryError(f"SMTP unavailable: {type(exc).__name__}: {exc}") from None
            except BaseException:
                # Cancelled mid-transaction: the session's state is unknown, so it is not reused.
                if session is not None:
                    session.client.close()
                raise
            else:
                self._release(session)

    def _release(self, session: _Session) -> None:
        session.last_used = asyncio.get_running_loop().time()
        self._idle.append(session)

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
        if not self.wants_self_copy(message):
            return False  # no copy was made to look for (verification codes): at-least-once
        message_id = self.ids.for_key(key)
        if await self._copy_exists(message_id):
            log.info("email: message %s was accepted before a restart; not sent again", message.id)
            if self.store is not None:
                await self.store.record_sent(key, message_id, message.recipient,
                                             str(message.payload.get("request_id") or "") or None, "")
            return True
        return False

