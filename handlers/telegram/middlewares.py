"""Middlewares: the person's language and catalog, flood and length limits."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject, User

from handlers.telegram.deps import TelegramDeps
from handlers.telegram.texts import Texts, language_of

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class ContextMiddleware(BaseMiddleware):
    """Puts ``lang`` and ``t`` (the catalog in that language) into the handler data."""

    def __init__(self, deps: TelegramDeps) -> None:
        self.deps = deps

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        default: str = self.deps.config.policy.default_language
        lang = default
        if user is not None:
            stored = await self.deps.repo.cached_language(user.id)
            lang = stored or language_of(user.language_code, default)
            if chat is not None and chat.type == "private":
                await self.deps.repo.seen_in_private_chat(user.id)
        data["lang"] = lang
        data["t"] = Texts(self.deps.translator, lang)
        data["deps"] = self.deps
        return await handler(event, data)


class GuardMiddleware(BaseMiddleware):
    """Per-user flood limit (sliding minute) and the longest accepted message."""

    def __init__(self, deps: TelegramDeps) -> None:
        self.deps = deps
        self._hits: defaultdict[int, deque[float]] = defaultdict(deque)
        self._warned: dict[int, float] = {}

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        t: Texts = data["t"]
        if user is None:
            return None
        if not self.deps.is_staff(user.id) and self._flooding(user.id):
            now = time.monotonic()
            # One "slow down" per minute at most, or the warning itself floods the chat.
            if now - self._warned.get(user.id, 0.0) > 60:
                self._warned[user.id] = now
                if isinstance(event, Message):
                    await event.answer(t("tg-flood"))
                elif isinstance(event, CallbackQuery):
                    await event.answer(t("tg-flood"), show_alert=True)
            elif isinstance(event, CallbackQuery):
                await event.answer()
            return None
        if isinstance(event, Message):
            text = event.text or event.caption or ""
            limit = self.deps.config.telegram.max_message_length
            if len(text) > limit:
                await event.answer(t("tg-too-long", limit=limit))
                return None
        return await handler(event, data)

    def _flooding(self, user_id: int) -> bool:
        now = time.monotonic()
        hits = self._hits[user_id]
        while hits and now - hits[0] > 60:
            hits.popleft()
        hits.append(now)
        return len(hits) > self.deps.config.telegram.flood_messages_per_minute
