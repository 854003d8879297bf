"""The console chat: the same dispatcher and handlers, with a terminal instead of Telegram.

``ConsoleSession`` replaces HTTP: what the bot sends to the console's chat is printed (inline buttons
numbered); everything else is answered as Telegram would. ``ConsoleChat`` turns typed lines into
Message updates and a typed button number into a CallbackQuery update. Works line by line from a pipe
too and ends at end of input.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import os
import pwd
import re
import sys
import threading
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from aiogram import Bot
from aiogram.client.default import Default, DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    SendMessage,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import Update

from bot.lru import PER_PERSON_ENTRIES, BoundedLRU
from handlers.telegram.deps import TelegramDeps
from handlers.telegram.dispatcher import build_dispatcher
from handlers.telegram.limits import LimitsMiddleware
from handlers.telegram.senders import StaffSender, TelegramSender
from handlers.telegram.texts import Texts

if TYPE_CHECKING:
    from bot.outbox.base import Sender
    from bot.services import Services

CONSOLE_TOKEN = "100000:CONSOLEconsoleCONSOLEconsole"
CONSOLE_USER_ID = 1000001
CONSOLE_STAFF_ID = 1000002
CONSOLE_STAFF_CHAT = -1000000000001
BOT_USER = {"id": 100000, "is_bot": True, "first_name": "Privacy", "username": "privacy_console_bot"}
_TAG = re.compile(r"<[^>]+>")


@dataclass
class _Shown:
    chat: dict[str, Any]
    message_id: int
    text: str
    buttons: list[tuple[str, str]]
    html_mode: bool = False


def _is_html(bot: Bot, parse_mode: Any) -> bool:
    if isinstance(parse_mode, Default):
        parse_mode = bot.default[parse_mode.name]
    return str(parse_mode or "").lower() == "html"


class ConsoleSession(BaseSession):
    def __init__(self, chat_id: int, out: TextIO) -> None:
        super().__init__()
        self.chat_id = chat_id
        self.out = out
        self._ids = itertools.count(1)
        self.last_keyboard: _Shown | None = None
        # What was shown, for edits of earlier messages; a long session must not keep every message.
        self.messages: BoundedLRU[tuple[int, int], _Shown] = BoundedLRU(PER_PERSON_ENTRIES)

    async def close(self) -> None:
        """Nothing to close: no connection."""

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType],
                           timeout: int | None = None) -> TelegramType:  # noqa: ASYNC109 (aiogram's signature)
        result: Any = True
        if isinstance(method, GetMe):
            result = BOT_USER
        elif isinstance(method, SendMessage):
            result = self._show(int(method.chat_id), next(self._ids), method.text, method.reply_markup, edited=False,
                                html_mode=_is_html(bot, method.parse_mode))
        elif isinstance(method, EditMessageText | EditMessageReplyMarkup):
            chat_id, message_id = int(method.chat_id or 0), int(method.message_id or 0)
            previous = self.messages.get((chat_id, message_id))
            if isinstance(method, EditMessageText):
                text, html_mode = method.text or "", _is_html(bot, method.parse_mode)
            else:
                text, html_mode = (previous.text, previous.html_mode) if previous else ("", False)
            result = self._show(chat_id, message_id, text, method.reply_markup, edited=True, html_mode=html_mode)
        elif isinstance(method, AnswerCallbackQuery):
            if method.text:
                self._print(f"  [!] {method.text}")
        response = self.check_response(bot, method, 200, self.json_dumps({"ok": True, "result": result}))
        return response.result  # type: ignore[return-value]

    def stream_content(self, url: str, headers: dict[str, Any] | None = None, timeout: int = 30,
                       chunk_size: int = 65536, raise_for_status: bool = True) -> AsyncGenerator[bytes, None]:
        raise NotImplementedError("the console chat has no files")

    def _show(self, chat_id: int, message_id: int, text: str, markup: Any, *, edited: bool,
              html_mode: bool) -> dict[str, Any]:
        chat = ({"id": chat_id, "type": "private", "first_name": "You"} if chat_id > 0
                else {"id": chat_id, "type": "supergroup", "title": "Staff"})
        buttons: list[tuple[str, str]] = []
        keyboard = getattr(markup, "inline_keyboard", None) or []
        for row in keyboard:
            for button in row:
                if button.callback_data:
                    buttons.append((button.text, button.callback_data))
        shown = _Shown(chat, message_id, text, buttons, html_mode)
        self.messages[(chat_id, message_id)] = shown
        if chat_id == self.chat_id:
            # As Telegram shows it: HTML without its tags and entities; plain text exactly as sent.
            plain = html.unescape(_TAG.sub("", text)) if html_mode else text
            prefix = "bot (edited)> " if edited else "bot> "
            self._print(prefix + plain.replace("\n", "\n     "))
            for number, (label, _) in enumerate(buttons, start=1):
                self._print(f"     [{number}] {label}")
            if buttons:
                self.last_keyboard = shown
        message: dict[str, Any] = {"message_id": message_id, "date": int(time.time()), "chat": chat,
                                   "from": BOT_USER, "text": text}
        if keyboard:
            message["reply_markup"] = markup.model_dump(exclude_none=True)
        return message

    def _print(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()


class ConsoleMailSender:
    """Email when no mail server is configured: the message is printed, so the code can be typed back."""

    channel = "email"

    def __init__(self, out: TextIO) -> None:
        self.out = out

    async def send(self, message: Any) -> str | None:
        self.out.write(f"[email -> {message.recipient}] {message.payload.get('subject', '')}\n"
                       f"{message.payload.get('text', '')}\n")
        self.out.flush()
        return None

    async def was_sent(self, message: Any) -> bool:
        return False


class ConsoleChat:
    def __init__(self, services: Services, *, as_staff: bool = False, stdin: TextIO | None = None,
                 out: TextIO | None = None) -> None:
        self.services = services
        self.as_staff = as_staff
        self.stdin = stdin or sys.stdin
        self.out = out or sys.stdout
        config = services.config
        self.deps = TelegramDeps.build(services)
        if not self.deps.staff_chat_id:
            self.deps.staff_chat_id = CONSOLE_STAFF_CHAT
        if as_staff:
            self.user_id = config.telegram.staff_user_ids[0] if config.telegram.staff_user_ids else CONSOLE_STAFF_ID
            self.deps.staff_user_ids = self.deps.staff_user_ids | {self.user_id}
            self.chat: dict[str, Any] = {"id": self.deps.staff_chat_id, "type": "supergroup", "title": "Staff"}
        else:
            self.user_id = CONSOLE_USER_ID
            self.chat = {"id": self.user_id, "type": "private", "first_name": "You"}
        self.lang = config.policy.default_language
        self.session = ConsoleSession(int(self.chat["id"]), self.out)
        self.session.middleware(LimitsMiddleware())  # the console shows what Telegram would
        # HTML by default, as the Telegram bot (channel.make_bot); senders of plain text say so.
        self.bot = Bot(CONSOLE_TOKEN, session=self.session, default=DefaultBotProperties(parse_mode="HTML"))
        self.dp = build_dispatcher(self.deps)
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        # Wait for this process's outbox worker after each line (False when another process delivers).
        self.settle = True

    def senders(self) -> list[Sender]:
        return [TelegramSender(self.bot, self.deps), StaffSender(self.bot, self.deps)]

    def _user(self) -> dict[str, Any]:
        return {"id": self.user_id, "is_bot": False, "first_name": _real_name(), "language_code": self.lang}

    async def feed_line(self, line: str) -> None:
        text = line.strip()
        if not text:
            return
        shown = self.session.last_keyboard
        if shown is not None and text.isdigit() and 1 <= int(text) <= len(shown.buttons):
            _, data = shown.buttons[int(text) - 1]
            update: dict[str, Any] = {"update_id": next(self._update_ids), "callback_query": {
                "id": f"console-{time.monotonic_ns()}", "from": self._user(), "chat_instance": "console",
                "data": data, "message": {"message_id": shown.message_id, "date": int(time.time()),
                                          "chat": shown.chat, "from": BOT_USER, "text": shown.text}}}
        else:
            update = {"update_id": next(self._update_ids), "message": {
                "message_id": next(self._message_ids), "date": int(time.time()), "chat": self.chat,
                "from": self._user(), "text": text}}
        await self.dp.feed_update(self.bot, Update.model_validate(update, context={"bot": self.bot}))

    def _start_reader(self) -> asyncio.Queue[str]:
        """Lines from stdin through a daemon thread: a blocked read must not keep the process alive after
        Ctrl-C or SIGTERM (the loop's default executor would wait for it)."""
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str] = asyncio.Queue()

        def read() -> None:
            while True:
                line = self.stdin.readline()
                loop.call_soon_threadsafe(lines.put_nowait, line)
                if line == "":
                    return

        threading.Thread(target=read, name="console-stdin", daemon=True).start()
        return lines

    async def run(self, stop: asyncio.Event) -> None:
        t = Texts(self.services.translator, self.lang)
        self.out.write(t("tg-console-staff-intro" if self.as_staff else "tg-console-intro") + "\n")
        self.out.flush()
        lines = self._start_reader()
        await self.feed_line("/help" if self.as_staff else "/start")
        while not stop.is_set():
            next_line = asyncio.ensure_future(lines.get())
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({next_line, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not next_line.done():
                next_line.cancel()
                break  # Ctrl-C or SIGTERM
            line = next_line.result()
            if line == "":
                break  # end of input
            if line.strip() in ("/quit", "/exit"):
                break
            await self.feed_line(line)
            # Let the outbox deliver what this line caused (notifications, code email) before the next one.
            await self._settle()
        await self._settle(within=5.0)
        stop.set()

    async def _settle(self, within: float = 2.0) -> None:
        if not self.settle:
            return
        deadline = time.monotonic() + within
        poll = self.services.config.outbox.poll_seconds
        await asyncio.sleep(min(0.05, poll))
        while time.monotonic() < deadline:
            if not await self.services.outbox.due(limit=1):
                return
            await asyncio.sleep(0.05)


def _real_name() -> str:
    """The account's real name (its GECOS field), or none: the greeting then names nobody, rather than "You"."""
    try:
        account = pwd.getpwuid(os.getuid())
    except (KeyError, OSError):
        return ""
    name = account.pw_gecos.split(",")[0].strip()[:64]
    return "" if name.lower() == account.pw_name.lower() else name  # "root" is an account, not a name
