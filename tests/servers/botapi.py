"""A Bot API server of our own on loopback (aiohttp), for end-to-end tests and the bench.

It speaks enough of https://core.telegram.org/bots/api for the bot: getMe, getUpdates (long poll),
sendMessage, editMessageText, editMessageReplyMarkup, answerCallbackQuery, deleteWebhook, setWebhook,
setMyCommands, deleteMessage. Every call is recorded. Tests push updates as a user would produce them
(``send_text``, ``press``), wait for the bot's calls (``wait_for``), and inject faults (``fail_next``: a
429 with retry_after, a 5xx) or blocked users (``blocked_chats``: 403 "bot was blocked by the user").
Like Telegram it refuses what breaks its limits (``telegram_rules``: text over 4096 UTF-16 units after
entity parsing, HTML it cannot parse, callback data over 64 bytes, a callback answer over 200
characters); refused calls are recorded with ``result`` None and listed by ``refusals()``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.servers.telegram_rules import TelegramRefusal, check_call

BOT_ID = 424242
BOT_USERNAME = "privacy_test_bot"
TEST_TOKEN = f"{BOT_ID}:AAFakeTokenForLoopbackTestsOnly_0123456789"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str
    at: float = field(default_factory=time.monotonic)
    # the result sent back (a Message for sendMessage), None when the call was failed on purpose
    result: Any = None
    # why the server refused the call as Telegram would ("Bad Request: message is too long"), else ""
    refused: str = ""

    @property
    def chat_id(self) -> int | None:
        raw = self.params.get("chat_id")
        return int(raw) if raw is not None else None

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Inline buttons of the call's reply_markup, row after row."""
        markup = self.params.get("reply_markup") or {}
        return [button for row in markup.get("inline_keyboard", []) for button in row]

    def button(self, text_part: str) -> dict[str, Any]:
        for button in self.buttons:
            if text_part.lower() in str(button.get("text", "")).lower():
                return button
        raise LookupError(f"no button with {text_part!r} in {[b.get('text') for b in self.buttons]}")


@dataclass
class _Fault:
    method: str
    status: int
    description: str
    retry_after: int | None
    remaining: int
    chat_id: int | None = None


class BotApiServer:
    """Run with ``async with BotApiServer() as server:``; ``server.base_url`` goes to ``api_base``."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.calls: list[Call] = []
        self.blocked_chats: set[int] = set()
        self._faults: list[_Fault] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._update_event = asyncio.Event()
        self._call_event = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.webhook_url = ""
        # called with every successful call as it is recorded (the bench times replies with it)
        self.on_call: Callable[[Call], None] | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> BotApiServer:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        self._closing = True  # ends pending long polls now instead of at their timeout
        self._update_event.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- what a user does --------------------------------------------------------------------
    def push_update(self, update: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **update})
        self._update_event.set()
        return update_id

    def new_message_id(self) -> int:
        return next(self._message_ids)

    @staticmethod
    def user(user_id: int, first_name: str = "Test", language_code: str | None = "ru",
             username: str | None = None) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        if username:
            user["username"] = username
        return user

    def send_text(self, user_id: int, text: str, *, chat_id: int | None = None, language_code: str | None = "ru",
                  first_name: str = "Test", reply_to_message_id: int | None = None,
                  reply_to_text: str = "") -> int:
        """A user types ``text`` (in their private chat, or in ``chat_id`` when given). Returns the message id."""
        chat = ({"id": user_id, "type": "private", "first_name": first_name} if chat_id is None
                else {"id": chat_id, "type": "supergroup", "title": "Staff"})
        message_id = self.new_message_id()
        message: dict[str, Any] = {
            "message_id": message_id, "date": int(time.time()), "chat": chat,
            "from": self.user(user_id, first_name, language_code), "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if reply_to_message_id is not None:
            message["reply_to_message"] = {
                "message_id": reply_to_message_id, "date": int(time.time()), "chat": chat,
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Privacy", "username": BOT_USERNAME},
                "text": reply_to_text or "…",
            }
        self.push_update({"message": message})
        return message_id

    def press(self, user_id: int, message_call: Call, callback_data: str, *,
              language_code: str | None = "ru", first_name: str = "Test") -> int:
        """A user presses a button with ``callback_data`` under the message the bot sent in ``message_call``."""
        sent = message_call.result
        if not isinstance(sent, dict):
            raise ValueError("the call did not produce a message")
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, "callback_query": {
            "id": f"cq{update_id}", "from": self.user(user_id, first_name, language_code),
            "chat_instance": f"ci{sent['chat']['id']}", "data": callback_data, "message": sent,
        }})
        self._update_event.set()
        return update_id

    # -- what the bot did --------------------------------------------------------------------
    def refusals(self, after: int = 0) -> list[Call]:
        """Calls refused because they broke Telegram's rules (not the faults injected with ``fail_next``)."""
        return [c for c in self.calls[after:] if c.refused]

    def calls_of(self, method: str, chat_id: int | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method and (chat_id is None or c.chat_id == chat_id)]

    async def wait_for(self, predicate: Callable[[Call], bool], *, after: int = 0,
                       within: float = 10.0) -> Call:
        """The first call at index >= ``after`` matching ``predicate``; raises TimeoutError with the log."""
        deadline = time.monotonic() + within
        while True:
            for call in self.calls[after:]:
                if call.result is not None and predicate(call):
                    return call
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                recent = [(c.method, c.chat_id, c.text[:80]) for c in self.calls[after:]][-15:]
                raise TimeoutError(f"no matching Bot API call within {within}s; calls: {recent}")
            self._call_event.clear()
            try:
                await asyncio.wait_for(self._call_event.wait(), timeout=min(remaining, 0.5))
            except TimeoutError:
                pass

    async def wait_for_message(self, chat_id: int, contains: str = "", *, after: int = 0,
                               within: float = 10.0) -> Call:
        return await self.wait_for(
            lambda c: c.method in ("sendMessage", "editMessageText") and c.chat_id == chat_id
            and contains.lower() in c.text.lower(), after=after, within=within)

    def mark(self) -> int:
        """An index for ``after=``: only calls made from now on."""
        return len(self.calls)

    def fail_next(self, method: str, status: int, description: str = "", *, retry_after: int | None = None,
                  times: int = 1, chat_id: int | None = None) -> None:
        """The next ``times`` calls of ``method`` (to ``chat_id`` when given) fail with ``status``.

        A 429 carries ``retry_after``.
        """
        if not description:
            description = {429: f"Too Many Requests: retry after {retry_after}",
                           500: "Internal Server Error", 502: "Bad Gateway"}.get(status, "Error")
        self._faults.append(_Fault(method, status, description, retry_after, times, chat_id))

    # -- the HTTP side -----------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"]
        if ":" not in token:
            return self._error(401, "Unauthorized")
        params = await self._params(request)
        call = Call(method=method, params=params, token=token)
        fault = self._take_fault(method, params.get("chat_id"))
        if fault is not None:
            self.calls.append(call)  # recorded with result None: a failed attempt
            self._call_event.set()
            return self._error(fault.status, fault.description, fault.retry_after)
        try:
            check_call(method, params)
        except TelegramRefusal as refusal:
            call.refused = refusal.description
            self.calls.append(call)
            self._call_event.set()
            return self._error(refusal.status, refusal.description)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            self.calls.append(call)
            self._call_event.set()
            return self._error(404, "Not Found: method not found")
        try:
            result = await handler(params)
        except _ApiError as exc:
            self.calls.append(call)
            self._call_event.set()
            return self._error(exc.status, exc.description)
        if method != "getUpdates":
            call.result = result
            self.calls.append(call)
            self._call_event.set()
            if self.on_call is not None:
                self.on_call(call)
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            data: dict[str, Any] = await request.json()
        else:
            form = await request.post()
            data = {k: v for k, v in form.items() if isinstance(v, str)}
        for key in ("reply_markup", "allowed_updates", "commands", "reply_parameters", "link_preview_options"):
            if isinstance(data.get(key), str):
                try:
                    data[key] = json.loads(data[key])
                except json.JSONDecodeError:
                    pass
        return data

    def _take_fault(self, method: str, chat_id: Any) -> _Fault | None:
        for fault in self._faults:
            if fault.chat_id is not None and str(fault.chat_id) != str(chat_id):
                continue
            if fault.method == method and fault.remaining > 0:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    @staticmethod
    def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return web.json_response(body, status=status)

    # -- methods -----------------------------------------------------------------------------
    async def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Privacy", "username": BOT_USERNAME,
                "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    async def _m_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        if offset:  # confirming earlier updates, as Telegram does
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + min(timeout, 30.0)
        while not self._updates:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._closing:
                return []
            self._update_event.clear()
            try:
                await asyncio.wait_for(self._update_event.wait(), timeout=remaining)
            except TimeoutError:
                return []
        return self._updates[:limit]

    def _message(self, params: dict[str, Any], message_id: int | None = None) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        if chat_id in self.blocked_chats:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        chat = ({"id": chat_id, "type": "private", "first_name": "User"} if chat_id > 0
                else {"id": chat_id, "type": "supergroup", "title": "Staff"})
        message: dict[str, Any] = {
            "message_id": message_id if message_id is not None else self.new_message_id(),
            "date": int(time.time()), "chat": chat,
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Privacy", "username": BOT_USERNAME},
            "text": str(params.get("text", "")),
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message

    async def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        if not str(params.get("text", "")).strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        return self._message(params)

    async def _m_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._message(params, int(params["message_id"]))

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._message(params, int(params["message_id"]))

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        return True

    async def _m_deleteMessage(self, params: dict[str, Any]) -> bool:
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = ""
        return True

    async def _m_setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = str(params.get("url", ""))
        return True

    async def _m_setMyCommands(self, params: dict[str, Any]) -> bool:
        return True

    async def _m_sendChatAction(self, params: dict[str, Any]) -> bool:
        return True


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
