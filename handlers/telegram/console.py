"""The console chat: the same dispatcher and handlers, with a terminal instead of Telegram.

``ConsoleSession`` replaces HTTP: what the bot sends to the console's chat is printed (inline buttons
numbered); everything else is answered as Telegram would. ``ConsoleChat`` turns typed lines into
Message updates and a typed button number into a CallbackQuery update. Works line by line from a pipe
too and ends at end of input.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import os
import pwd
import re
import sys
import threading
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from aiogram import Bot
from aiogram.client.default import Default, DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.fsm.storage.base import StorageKey
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
from handlers.telegram.isolation import TURN_WAIT_SECONDS
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
# A typed line read as a button number: up to three digits, or any number this console has printed as one.
# Longer numbers (a six-digit code, a phone) are text; a line starting with a backslash is always text.
_CHOICE = re.compile(r"[0-9]{1,3}")
_NUMBER = re.compile(r"[0-9]+")
TEXT_ESCAPE = "\\"
NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message")


@dataclass
class _Shown:
    chat: dict[str, Any]
    message_id: int
    text: str
    buttons: list[tuple[str, str]]
    html_mode: bool = False
    # The numbers printed beside the buttons: never reused, so a number always means the button it was
    # printed for (a keyboard printed later cannot change what an earlier number presses).
    numbers: list[int] = field(default_factory=list)

    def same_content(self, other: _Shown) -> bool:
        return (self.text, self.buttons, self.html_mode) == (other.text, other.buttons, other.html_mode)


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
        self._button_numbers = itertools.count(1)
        self.highest_number = 0
        # What was shown, for edits of earlier messages; a long session must not keep every message.
        self.messages: BoundedLRU[tuple[int, int], _Shown] = BoundedLRU(PER_PERSON_ENTRIES)
        # This chat's messages whose buttons are on screen (the latest last), and each printed number's
        # message and place. Bounded: a number whose message was dropped is refused as gone.
        self.keyboards: BoundedLRU[tuple[int, int], _Shown] = BoundedLRU(PER_PERSON_ENTRIES)
        self.numbered: BoundedLRU[int, tuple[int, int]] = BoundedLRU(PER_PERSON_ENTRIES * 8)

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
            if previous is not None and previous.same_content(
                    _Shown(previous.chat, message_id, text, _buttons(method.reply_markup), html_mode)):
                # As Telegram answers an edit that changes nothing: the same card is never printed twice.
                body = {"ok": False, "error_code": 400, "description": NOT_MODIFIED}
                self.check_response(bot, method, 400, self.json_dumps(body))
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
        keyboard = getattr(markup, "inline_keyboard", None) or []
        buttons = _buttons(markup)
        key = (chat_id, message_id)
        previous = self.messages.peek(key)
        shown = _Shown(chat, message_id, text, buttons, html_mode)
        self.messages[key] = shown
        if chat_id == self.chat_id:
            if previous is not None and previous.buttons == buttons:
                shown.numbers = previous.numbers  # the same buttons keep their numbers
            else:
                shown.numbers = [next(self._button_numbers) for _ in buttons]
                self.highest_number = max([self.highest_number, *shown.numbers])
                for number in shown.numbers:
                    self.numbered[number] = key
            if buttons:
                self.keyboards[key] = shown
            else:
                self.keyboards.pop(key)
            # As Telegram shows it: HTML without its tags and entities; plain text exactly as sent.
            plain = html.unescape(_TAG.sub("", text)) if html_mode else text
            prefix = "bot (edited)> " if edited else "bot> "
            self._print(prefix + plain.replace("\n", "\n     "))
            for number, (label, _) in zip(shown.numbers, buttons, strict=True):
                self._print(f"     [{number}] {label}")
        message: dict[str, Any] = {"message_id": message_id, "date": int(time.time()), "chat": chat,
                                   "from": BOT_USER, "text": text}
        if keyboard:
            message["reply_markup"] = markup.model_dump(exclude_none=True)
        return message

    def _print(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def pressable(self, number: int) -> tuple[_Shown, str] | None:
        """The message and callback data of the button printed with ``number``, while it is on screen."""
        key = self.numbered.peek(number)
        shown = self.keyboards.peek(key) if key is not None else None
        if shown is None or number not in shown.numbers:
            return None
        return shown, shown.buttons[shown.numbers.index(number)][1]

    def on_screen(self) -> str:
        """The buttons of the latest message that has any, as printed: "[3] Confirm, [4] Cancel"."""
        latest = list(self.keyboards)[-1:] if len(self.keyboards) else []
        if not latest:
            return ""
        shown = self.keyboards.peek(latest[0])
        assert shown is not None
        return ", ".join(f"[{n}] {label}" for n, (label, _) in zip(shown.numbers, shown.buttons, strict=True))


def _buttons(markup: Any) -> list[tuple[str, str]]:
    return [(button.text, button.callback_data) for row in getattr(markup, "inline_keyboard", None) or []
            for button in row if button.callback_data]


class ConsoleMailSender:
    """Email when no mail server is configured: the message is printed, so the code can be typed back.

    ``turn`` holds the person's chat while printing, so a code mail comes after the reply that announces it.
    """

    channel = "email"

    def __init__(self, out: TextIO, turn: Callable[[], AbstractAsyncContextManager[None]] | None = None) -> None:
        self.out = out
        self.turn = turn

    async def send(self, message: Any) -> str | None:
        async with self.turn() if self.turn else contextlib.nullcontext():
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
        """What this view shows: the person's console their chat and their mail, the staff console the staff
        chat. The rest waits in the outbox for the console that shows it, so a handoff made in the person's
        console is posted when a staff console runs, and a staff decision reaches the person's console."""
        if self.as_staff:
            return [StaffSender(self.bot, self.deps)]
        own_chat = StorageKey(bot_id=self.bot.id, chat_id=self.user_id, user_id=self.user_id)
        return [TelegramSender(self.bot, self.deps),
                ConsoleMailSender(self.out, turn=lambda: self.deps.events.lock(own_chat, within=TURN_WAIT_SECONDS))]

    def elsewhere(self) -> frozenset[str]:
        """The outbox channels the other view delivers."""
        return frozenset({"telegram", "email"} if self.as_staff else {"staff"})

    def _user(self) -> dict[str, Any]:
        return {"id": self.user_id, "is_bot": False, "first_name": _real_name(), "language_code": self.lang}

    async def feed_line(self, line: str) -> None:
        text = line.strip()
        if text.startswith(TEXT_ESCAPE):
            text = text[len(TEXT_ESCAPE):].strip()  # a number meant as text ("\\5")
        elif _NUMBER.fullmatch(text) and (_CHOICE.fullmatch(text) or int(text) <= self.session.highest_number):
            # A button number: pressed only while its button is on screen, never taken as text.
            pressed = self.session.pressable(int(text))
            if pressed is None:
                self._refuse_number(text)
                return
            shown, data = pressed
            update: dict[str, Any] = {"update_id": next(self._update_ids), "callback_query": {
                "id": f"console-{time.monotonic_ns()}", "from": self._user(), "chat_instance": "console",
                "data": data, "message": {"message_id": shown.message_id, "date": int(time.time()),
                                          "chat": shown.chat, "from": BOT_USER, "text": shown.text}}}
            await self.dp.feed_update(self.bot, Update.model_validate(update, context={"bot": self.bot}))
            return
        if not text:
            return
        update = {"update_id": next(self._update_ids), "message": {
            "message_id": next(self._message_ids), "date": int(time.time()), "chat": self.chat,
            "from": self._user(), "text": text}}
        await self.dp.feed_update(self.bot, Update.model_validate(update, context={"bot": self.bot}))

    def _refuse_number(self, number: str) -> None:
        """A number with no button on screen: said so, with what is on screen; nothing is pressed or sent."""
        t = Texts(self.services.translator, self.lang)
        buttons = self.session.on_screen()
        line = (t("tg-console-no-button", number=number, buttons=buttons, escape=TEXT_ESCAPE) if buttons
                else t("tg-console-no-buttons", number=number, escape=TEXT_ESCAPE))
        self.out.write(line + "\n")
        self.out.flush()

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
        own = {sender.channel for sender in self.senders()}
        while time.monotonic() < deadline:
            if not own & await self.services.outbox.due_channels():
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
