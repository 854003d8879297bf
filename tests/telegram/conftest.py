"""The fast path for handler tests: the real dispatcher and core on a temp SQLite, a session that records.

Only Telegram's servers are replaced: ``RecordingSession`` records every Bot API request and answers as
Telegram would, refusing what Telegram refuses (``tests/servers/telegram_rules.py``: too long, bad HTML,
callback data over 64 bytes); tests can make the next call of a method fail with a Telegram error. The
bot has the production default parse mode (HTML).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
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
from aiogram.types import InlineKeyboardMarkup, Update

from bot.app_secret import app_secret
from bot.audit import AuditLog
from bot.config import Config
from bot.i18n import get_translator
from bot.outbox.recording import RecordingSender
from bot.outbox.repository import OutboxRepository
from bot.outbox.worker import OutboxWorker
from bot.policy.engine import PolicyEngine
from bot.requests.service import RequestService
from bot.services import Services
from bot.storage.db import Database
from bot.verification import CODE_KIND, CodeMail
from handlers.telegram.deps import TelegramDeps
from handlers.telegram.dispatcher import build_dispatcher
from handlers.telegram.senders import StaffSender, TelegramSender
from tests.servers.botapi import TEST_TOKEN
from tests.servers.telegram_rules import TelegramRefusal, check_call

STAFF_CHAT = -100777
STAFF = 42
OUTSIDER = 43
USER = 1001
BOT_USER = {"id": 424242, "is_bot": True, "first_name": "Privacy", "username": "privacy_test_bot"}


class RecordingSession(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[TelegramMethod[Any]] = []
        self.results: list[Any] = []  # aligned with requests; None for a failed call
        self._ids = itertools.count(500)
        self._failures: dict[str, list[tuple[int, str]]] = {}
        self.refusals: list[tuple[TelegramMethod[Any], str]] = []  # calls Telegram would have refused

    def fail_next(self, method_name: str, status: int, description: str) -> None:
        self._failures.setdefault(method_name, []).append((status, description))

    async def close(self) -> None:
        """No connection to close."""

    def stream_content(self, url: str, headers: dict[str, Any] | None = None, timeout: int = 30,
                       chunk_size: int = 65536, raise_for_status: bool = True) -> AsyncGenerator[bytes, None]:
        raise NotImplementedError("no files in these tests")

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType],
                           timeout: int | None = None) -> TelegramType:  # noqa: ASYNC109 (aiogram's signature)
        self.requests.append(method)
        name = type(method).__name__
        failures = self._failures.get(name)
        if failures:
            status, description = failures.pop(0)
            body = {"ok": False, "error_code": status, "description": description}
            self.results.append(None)
            self.check_response(bot, method, status, self.json_dumps(body))
        try:
            check_call(name, _params_as_sent(bot, method))
        except TelegramRefusal as refusal:
            self.refusals.append((method, refusal.description))
            self.results.append(None)
            body = {"ok": False, "error_code": refusal.status, "description": refusal.description}
            self.check_response(bot, method, refusal.status, self.json_dumps(body))
        result: Any = True
        if isinstance(method, GetMe):
            result = BOT_USER
        elif isinstance(method, SendMessage | EditMessageText | EditMessageReplyMarkup):
            chat_id = int(method.chat_id or 0)
            message_id = next(self._ids) if isinstance(method, SendMessage) else int(method.message_id or 0)
            chat = ({"id": chat_id, "type": "private", "first_name": "U"} if chat_id > 0
                    else {"id": chat_id, "type": "supergroup", "title": "Staff"})
            result = {"message_id": message_id, "date": int(time.time()), "chat": chat, "from": BOT_USER,
                      "text": getattr(method, "text", None) or "…"}
            if isinstance(method.reply_markup, InlineKeyboardMarkup):  # Telegram echoes only inline keyboards
                result["reply_markup"] = method.reply_markup.model_dump(exclude_none=True)
        self.results.append(result)
        response = self.check_response(bot, method, 200, self.json_dumps({"ok": True, "result": result}))
        return response.result  # type: ignore[return-value]

    def message_id_of(self, method: TelegramMethod[Any]) -> int:
        return int(self.results[self.requests.index(method)]["message_id"])

    def sent(self, chat_id: int | None = None) -> list[SendMessage | EditMessageText]:
        return [m for m in self.requests if isinstance(m, SendMessage | EditMessageText)
                and (chat_id is None or int(m.chat_id or 0) == chat_id)]

    def alerts(self) -> list[AnswerCallbackQuery]:
        return [m for m in self.requests if isinstance(m, AnswerCallbackQuery) and m.text]


def _params_as_sent(bot: Bot, method: TelegramMethod[Any]) -> dict[str, Any]:
    """The parameters Telegram would receive: the default parse mode resolved, markup as JSON."""
    params: dict[str, Any] = {}
    for name in ("text", "parse_mode", "reply_markup"):
        value = getattr(method, name, None)
        if isinstance(value, Default):
            value = bot.default[value.name]
        if hasattr(value, "model_dump"):
            value = value.model_dump(exclude_none=True)
        if value is not None:
            params[name] = value
    return params


class Harness:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.deps = TelegramDeps.build(services)
        self.session = RecordingSession()
        self.bot = Bot(TEST_TOKEN, session=self.session, default=DefaultBotProperties(parse_mode="HTML"))
        self.dp = build_dispatcher(self.deps)
        self.email = RecordingSender("email")
        self.senders = {"telegram": TelegramSender(self.bot, self.deps), "staff": StaffSender(self.bot, self.deps),
                        "email": self.email}
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)

    async def _feed(self, update: dict[str, Any]) -> None:
        await self.dp.feed_update(self.bot, Update.model_validate(
            {"update_id": next(self._update_ids), **update}, context={"bot": self.bot}))

    async def send(self, user_id: int, text: str, *, chat_id: int | None = None, lang: str = "ru",
                   reply_to_message_id: int | None = None, reply_to_text: str = "…") -> int:
        chat = ({"id": user_id, "type": "private", "first_name": "U"} if chat_id is None
                else {"id": chat_id, "type": "supergroup", "title": "Staff"})
        message_id = next(self._message_ids)
        message: dict[str, Any] = {"message_id": message_id, "date": int(time.time()), "chat": chat,
                                   "from": {"id": user_id, "is_bot": False, "first_name": "U<b>",
                                            "language_code": lang}, "text": text}
        if reply_to_message_id is not None:
            message["reply_to_message"] = {"message_id": reply_to_message_id, "date": int(time.time()),
                                           "chat": chat, "from": BOT_USER, "text": reply_to_text}
        await self._feed({"message": message})
        return message_id

    async def press(self, user_id: int, data: str, *, chat_id: int | None = None, message_id: int = 1,
                    lang: str = "ru", first_name: str = "U") -> None:
        chat = ({"id": user_id, "type": "private", "first_name": "U"} if chat_id is None
                else {"id": chat_id, "type": "supergroup", "title": "Staff"})
        await self._feed({"callback_query": {
            "id": f"cq{time.monotonic_ns()}", "from": {"id": user_id, "is_bot": False, "first_name": first_name,
                                                      "language_code": lang},
            "chat_instance": "x", "data": data,
            "message": {"message_id": message_id, "date": int(time.time()), "chat": chat, "from": BOT_USER,
                        "text": "…"}}})

    def last_text(self, chat_id: int) -> str:
        sent = self.session.sent(chat_id)
        assert sent, f"nothing was sent to {chat_id}"
        return str(sent[-1].text)

    def last_buttons(self, chat_id: int) -> dict[str, str]:
        for method in reversed(self.session.sent(chat_id)):
            markup = method.reply_markup
            if markup is not None and getattr(markup, "inline_keyboard", None):
                return {b.text: str(b.callback_data) for row in markup.inline_keyboard for b in row}
        raise AssertionError("no keyboard was sent")

    def post_with(self, chat_id: int, button_part: str) -> tuple[int, dict[str, str]]:
        """The message id and the buttons (text -> data) of the latest post or edit in ``chat_id`` showing a
        button whose text contains ``button_part``."""
        for method in reversed(self.session.sent(chat_id)):
            markup = method.reply_markup
            if isinstance(markup, InlineKeyboardMarkup):
                buttons = {b.text: str(b.callback_data) for row in markup.inline_keyboard for b in row}
                if any(button_part in text for text in buttons):
                    return self.session.message_id_of(method), buttons
        raise AssertionError(f"no post in {chat_id} has a button with {button_part!r}")

    async def click(self, user_id: int, button_part: str, *, chat_id: int = STAFF_CHAT, **kwargs: Any) -> None:
        """Press, on the post that shows it, the button whose text contains ``button_part``."""
        message_id, buttons = self.post_with(chat_id, button_part)
        data = next(d for text, d in buttons.items() if button_part in text)
        await self.press(user_id, data, chat_id=chat_id, message_id=message_id, **kwargs)

    async def deliver(self) -> int:
        worker = OutboxWorker(self.services.db, self.senders, self.services.config,
                              repository=self.services.outbox, audit=self.services.audit,
                              translator=self.services.translator,
                              fillers={CODE_KIND: CodeMail(self.deps.codes, self.services.translator)})
        total = 0
        while True:
            handled = await worker.deliver_due()
            total += handled
            if not handled:
                return total


@pytest.fixture(scope="session")
def policy_engine() -> PolicyEngine:
    from bot.config import load_config
    config = load_config()
    return PolicyEngine.load(config.policy_directory, config.policy.url, config.policy.min_confidence,
                             config.policy.default_language, get_translator())


@pytest.fixture
def telegram_config(make_config: Callable[..., Config]) -> Config:
    return make_config({"PRIVACY_BOT__TELEGRAM__STAFF_CHAT_ID": str(STAFF_CHAT),
                        "PRIVACY_BOT__TELEGRAM__STAFF_USER_IDS": f"[{STAFF}]",
                        "PRIVACY_BOT__TELEGRAM__FLOOD_MESSAGES_PER_MINUTE": "30",
                        "PRIVACY_BOT__TELEGRAM__VERIFICATION_RESEND_AFTER_SECONDS": "0"},
                       telegram_token=TEST_TOKEN)


@pytest.fixture
async def harness(telegram_config: Config, policy_engine: PolicyEngine, tmp_path: Path) -> AsyncIterator[Harness]:
    db = await Database(telegram_config.database_path).open()
    translator = get_translator()
    outbox = OutboxRepository(db)
    audit = AuditLog()
    services = Services(config=telegram_config, db=db, engine=policy_engine,
                        requests=RequestService(db, telegram_config, outbox=outbox, audit=audit,
                                                translator=translator),
                        outbox=outbox, translator=translator, audit=audit,
                        secret=await app_secret(db, telegram_config))
    harness = Harness(services)
    try:
        yield harness
    finally:
        await services.close()
    # Nothing the bot sent may be what Telegram refuses (a test that provokes it on purpose clears the list).
    assert not harness.session.refusals, harness.session.refusals
