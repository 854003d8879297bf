"""The bot as an outsider meets it: ``privacy-bot run`` as a real process, with Telegram (our loopback Bot API
server) and email (a private Dovecot for IMAP, aiosmtpd for SMTP delivering our self-copies back into the
mailbox) both connected, and a real SQLite file the tests read afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aioimaplib

from tests.servers.botapi import BotApiServer, Call
from tests.servers.botprocess import BotProcess
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import ReceivedMail, SmtpServer

SUPPORT = "support@jetbit.ru"
STAFF_CHAT = -1004242424242
STAFF = 777
OTHER_STAFF = 778
STEP = 15.0


@dataclass
class LiveBot:
    api: BotApiServer
    smtp: SmtpServer
    dovecot: DovecotServer
    database: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    process: BotProcess | None = None

    @property
    def log_path(self) -> Path:
        return self.database.with_suffix(".log")

    def env(self) -> dict[str, str]:
        """The bot's whole environment (for the CLI too): Telegram as tests/servers/botprocess.py sets it
        up, plus the mailbox, two staff and our staff chat."""
        return BotProcess(self.api, self.smtp, self.database, self._own_env()).env

    def _own_env(self) -> dict[str, str]:
        return {
            "PRIVACY_BOT__TELEGRAM__STAFF_CHAT_ID": str(STAFF_CHAT),
            "PRIVACY_BOT__TELEGRAM__STAFF_USER_IDS": f"[{STAFF}, {OTHER_STAFF}]",
            "PRIVACY_BOT__EMAIL__ENABLED": "true",
            "PRIVACY_BOT__EMAIL__IMAP_PORT": str(self.dovecot.port),
            "PRIVACY_BOT__EMAIL__IMAP_SECURITY": "none",
            "PRIVACY_BOT__EMAIL__IMAP_USERNAME": self.dovecot.user,
            "PRIVACY_BOT_IMAP_PASSWORD": self.dovecot.password,
            "PRIVACY_BOT__EMAIL__IMAP_COMMAND_TIMEOUT_SECONDS": "5",
            "PRIVACY_BOT__EMAIL__SMTP_TIMEOUT_SECONDS": "5",
            **self.extra_env,
        }

    async def start(self) -> None:
        self.process = BotProcess(self.api, self.smtp, self.database, self._own_env())
        await self.process.start()
        # The mailbox is watched from here on.
        await self.wait_db("SELECT COUNT(*) FROM email_mailbox_state", lambda rows: rows[0][0] >= 1)

    async def stop(self) -> tuple[int, str]:
        assert self.process is not None
        return await self.process.stop()

    # -- email ---------------------------------------------------------------------------------------

    async def mail(self, raw: bytes | str) -> None:
        """Drop a mail into the support mailbox (as the receiving server would)."""
        data = raw.encode() if isinstance(raw, str) else raw
        client = aioimaplib.IMAP4(host="127.0.0.1", port=self.dovecot.port, timeout=5)
        await client.wait_hello_from_server()
        await client.login(self.dovecot.user, self.dovecot.password)
        response = await client.append(data, mailbox="INBOX")
        assert response.result == "OK", response
        await client.logout()

    def mail_to(self, address: str) -> list[ReceivedMail]:
        return [m for m in self.smtp.messages if address.lower() in (r.lower() for r in m.rcpt_tos)]

    def to_people(self) -> list[ReceivedMail]:
        return [m for m in self.smtp.messages if any(r.lower() != SUPPORT for r in m.rcpt_tos)]

    async def wait_mail_to(self, address: str, count: int = 1, within: float = STEP) -> list[ReceivedMail]:
        deadline = time.monotonic() + within
        while len(self.mail_to(address)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} mail(s) to {address}, got {len(self.mail_to(address))}")
            await asyncio.sleep(0.1)
        return self.mail_to(address)

    async def wait_mail_where(self, address: str, predicate: Callable[[ReceivedMail], bool],
                              within: float = STEP) -> ReceivedMail:
        """The first mail to ``address`` matching ``predicate`` (mail arrives in no particular order)."""
        deadline = time.monotonic() + within
        while True:
            for mail in self.mail_to(address):
                if predicate(mail):
                    return mail
            if time.monotonic() > deadline:
                subjects = [m.header("Subject") for m in self.mail_to(address)]
                raise AssertionError(f"no matching mail to {address}: {subjects}")
            await asyncio.sleep(0.1)

    async def processed(self, message_id: str, within: float = STEP) -> str:
        """The outcome the bot recorded for an inbound mail (waits until it is processed)."""
        rows = await self.wait_db("SELECT outcome FROM email_inbound WHERE message_id = ? AND state = 'processed'",
                                  lambda rows: bool(rows), params=(message_id,), within=within)
        return str(rows[0][0])

    # -- the database the bot writes -------------------------------------------------------------

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with contextlib.closing(sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=10)) as conn:
            return [tuple(row) for row in conn.execute(sql, params).fetchall()]

    async def wait_db(self, sql: str, predicate: Callable[[list[tuple[Any, ...]]], bool], *,
                      params: tuple[Any, ...] = (), within: float = STEP) -> list[tuple[Any, ...]]:
        deadline = time.monotonic() + within
        while True:
            try:
                rows = self.query(sql, params)
            except sqlite3.OperationalError:  # not created yet
                rows = []
            if rows and predicate(rows):
                return rows
            if time.monotonic() > deadline:
                raise AssertionError(f"database never satisfied: {sql} {params} -> {rows}")
            await asyncio.sleep(0.1)

    # -- Telegram ------------------------------------------------------------------------------------

    async def said(self, chat_id: int, contains: str = "", after: int = 0, within: float = STEP) -> Call:
        return await self.api.wait_for_message(chat_id, contains, after=after, within=within)

    def press(self, user: int, call: Call, button_text: str, **kwargs: Any) -> None:
        self.api.press(user, call, call.button(button_text)["callback_data"], **kwargs)

    def staff_posts(self, after: int = 0) -> list[Call]:
        return [c for c in self.api.calls[after:] if c.method in ("sendMessage", "editMessageText")
                and c.chat_id == STAFF_CHAT and c.result is not None]


@contextlib.asynccontextmanager
async def live_bot(tmp_path: Path, dovecot: DovecotServer, **extra_env: str) -> AsyncIterator[LiveBot]:
    """A running bot; on leaving, it must stop cleanly (exit 0, no traceback in its log) and the Bot API
    server must have refused nothing it sent."""
    dovecot.reset_mailbox()
    with SmtpServer(local_maildirs={SUPPORT: dovecot.maildir}) as smtp:
        async with BotApiServer() as api:
            bot = LiveBot(api, smtp, dovecot, tmp_path / "bot.sqlite3", dict(extra_env))
            await bot.start()
            try:
                yield bot
            finally:
                code, log = await bot.stop()
                print(log[-6000:], file=sys.stderr)  # shown when a test fails
            assert code == 0, log[-3000:]
            assert "Traceback" not in log, log[-3000:]
            assert not api.refusals(), [(c.method, c.refused) for c in api.refusals()]


def message_id() -> str:
    return f"<{uuid.uuid4().hex}@sender.example>"


def eml(*, sender: str, subject: str, body: str, mid: str | None = None, headers: str = "",
        content_type: str = "text/plain; charset=utf-8") -> tuple[str, bytes]:
    """A plain mail as a person's client would write it; returns (Message-ID, bytes). ``sender`` is the raw
    From header value, written as given (an attacker writes what they like there)."""
    mid = mid or message_id()
    head = (f"From: {sender}\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\nDate: Mon, 30 Nov 2026 10:00:00 +0300\r\n"
            f"Message-ID: {mid}\r\n{headers}MIME-Version: 1.0\r\nContent-Type: {content_type}\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n")
    return mid, head.encode("utf-8") + body.replace("\n", "\r\n").encode("utf-8")


def body_of(mail: ReceivedMail) -> str:
    part = mail.message().get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def request_id_in(text: str) -> str:
    found = re.search(r"PR-\d{4}-\d{4,}", text)
    assert found, text
    return found.group(0)


async def phone_request(bot: LiveBot, user: int, phone: str, *, first_name: str = "Test",
                        text: str = "Удалите мои данные") -> tuple[str, Call]:
    """A person asks for deletion in Telegram and gives a phone (no code can prove it): the request is
    registered at once and staff get a card to verify it. Returns (request id, the bot's message with it)."""
    mark = bot.api.mark()
    bot.api.send_text(user, text, first_name=first_name)
    intro = await bot.said(user, "удалили", after=mark)
    mark = bot.api.mark()
    bot.press(user, intro, "Пропустить", first_name=first_name)
    await bot.said(user, "номеру телефона", after=mark)
    mark = bot.api.mark()
    bot.api.send_text(user, phone, first_name=first_name)
    summary = await bot.said(user, "Проверьте ваш запрос", after=mark)
    mark = bot.api.mark()
    bot.press(user, summary, "Подтвердить", first_name=first_name)
    created = await bot.said(user, "зарегистрирован", after=mark)
    return request_id_in(created.text), created


async def staff_card(bot: LiveBot, request_id: str, button: str = "", after: int = 0) -> Call:
    """The request's card in the staff chat (the first shown from ``after`` on with ``button``)."""
    return await bot.api.wait_for(lambda c: c.method in ("sendMessage", "editMessageText")
                                  and c.chat_id == STAFF_CHAT and f"<code>{request_id}</code></b>: " in c.text
                                  and any(button in str(b.get("text", "")) for b in c.buttons), after=after)


async def complete_deletion(bot: LiveBot, request_id: str, categories: tuple[str, ...] = ("контактные данные",),
                            systems: tuple[str, ...] = ("CRM",), *, staff: int = STAFF) -> None:
    """Staff press "Выполнено" on an approved deletion's card and choose what was destroyed on the post
    that asks (ticking ``categories`` then ``systems``, by a part of their labels), then confirm."""
    card = await staff_card(bot, request_id, "Выполнено")
    mark = bot.api.mark()
    bot.press(staff, card, "Выполнено")
    post = await bot.said(STAFF_CHAT, f"Запрос {request_id}: что уничтожено", after=mark)
    for button in (*categories, "Далее", *systems, "Подтвердить"):
        mark = bot.api.mark()
        bot.press(staff, post, button)
        await bot.api.wait_for(lambda c: c.method == "answerCallbackQuery", after=mark)
        post = await bot.api.wait_for(lambda c: c.method == "editMessageText" and c.chat_id == STAFF_CHAT
                                      and request_id in c.text, after=mark)
    await bot.wait_db("SELECT status FROM requests WHERE id = ?", lambda r: r[0][0] == "completed",
                      params=(request_id,))


async def talk_to_person(bot: LiveBot, user: int, text: str, *, first_name: str = "Test") -> tuple[int, Call]:
    """A person asks for a person and writes ``text``; returns (their message id, the staff-chat post)."""
    mark = bot.api.mark()
    bot.api.send_text(user, "/start", first_name=first_name)
    menu = await bot.said(user, "Здравствуйте", after=mark)
    mark = bot.api.mark()
    bot.press(user, menu, "Связаться с сотрудником", first_name=first_name)
    await bot.said(user, "передам его сотрудникам", after=mark)
    mark = bot.api.mark()
    original = bot.api.send_text(user, text, first_name=first_name)
    post = await bot.said(STAFF_CHAT, text, after=mark)
    # The link between the post and the person is stored right after the post is sent.
    await bot.wait_db("SELECT COUNT(*) FROM telegram_handoffs WHERE staff_message_id = ?", lambda r: r[0][0] == 1,
                      params=(int(post.result["message_id"]),))
    return original, post


def staff_reply(bot: LiveBot, to: Call, text: str, *, staff: int = STAFF) -> None:
    bot.api.send_text(staff, text, chat_id=STAFF_CHAT, reply_to_message_id=int(to.result["message_id"]),
                      reply_to_text=to.text)


def personal_data_in(database: Path, needles: list[str]) -> list[tuple[str, str, str, str]]:
    """(table, column, needle, value) for every value of every table holding one of ``needles`` (digits
    of six or more also match inside a number written with spaces or dashes; fewer, only as a number of
    their own)."""
    found = []
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)) as conn:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
            for row in conn.execute(f"SELECT * FROM {table}"):
                for column, value in zip(columns, row, strict=True):
                    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                    digits = re.sub(r"\D", "", text)
                    for needle in needles:
                        if needle.isdigit() and len(needle) < 6:
                            # A short number is found as a number of its own: "4509" of a phone, not the
                            # microseconds of a timestamp that happen to contain it.
                            hit = re.search(rf"(?<!\d){needle}(?!\d)", text) is not None
                        else:
                            hit = needle in text or (needle.isdigit() and needle in digits)
                        if hit:
                            found.append((table, column, needle, text[:120]))
    return found


async def reply_to(bot: LiveBot, sender: str, ours: ReceivedMail, body: str, headers: str = "") -> str:
    """``sender`` answers a mail of ours as a mail program would (In-Reply-To its Message-ID); returns the
    outcome the bot recorded."""
    mid, raw = eml(sender=sender, subject=f"Re: {ours.header('Subject')}",
                   headers=f"In-Reply-To: {ours.header('Message-ID')}\r\n{headers}", body=body)
    await bot.mail(raw)
    return await bot.processed(mid)

