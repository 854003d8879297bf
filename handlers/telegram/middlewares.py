"""Middlewares: the person's language and catalog, flood and length limits."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject, User

from bot.lru import PER_PERSON_ENTRIES, BoundedLRU
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
            state: FSMContext | None = data.get("state")
            if state is not None and await state.get_state() is not None:
                # A flow goes on in the language it was started in (the language of the message that started it).
                flow_lang = (await state.get_data()).get("lang")
                lang = flow_lang if flow_lang in ("ru", "en") else lang
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
        self.flood = FloodLimiter(deps.config.telegram.flood_messages_per_minute)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        t: Texts = data["t"]
        if user is None:
            return None
        if not self.deps.is_staff(user.id) and self.flood.hit(user.id):
            # Told once when they may write again, not once per dropped message (that would flood the chat).
            if self.flood.should_warn(user.id):
                notice = t("tg-flood", seconds=max(1, math.ceil(self.flood.retry_in(user.id))))
                if isinstance(event, Message):
                    await event.answer(notice)
                elif isinstance(event, CallbackQuery):
                    await event.answer(notice, show_alert=True)
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


class FloodLimiter:
    """Messages and presses per person in a sliding window, in bounded memory.

    Only people seen within the window matter: older entries are dropped as time passes, and at most
    ``max_people`` are tracked (the least recently active go first; they had been quiet the longest).
    """

    def __init__(self, limit: int, window_seconds: float = 60.0, max_people: int = PER_PERSON_ENTRIES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        # Ordered by each person's latest hit, so the stale ones are always at the old end.
        self.hits: BoundedLRU[int, list[float]] = BoundedLRU(max_people)
        # Until when each person told to slow down was told they must wait (ordered by when they were told).
        self.warned: BoundedLRU[int, float] = BoundedLRU(max_people)

    def hit(self, user_id: int) -> bool:
        """Count one message or press; True when the person is over the limit (the message is dropped).

        A dropped message is not counted: the time the person was told they may write again holds,
        whatever they send meanwhile.
        """
        now = self.clock()
        self._expire(now)
        # A short list, not a deque: most people send a message or two a minute, and a deque costs
        # over 600 bytes however few items it holds. At most ``limit`` hits are ever kept.
        hits = [at for at in self.hits.get(user_id) or () if now - at < self.window]
        over = len(hits) >= self.limit
        if not over:
            hits.append(now)
        self.hits[user_id] = hits
        return over

    def retry_in(self, user_id: int) -> float:
        """Seconds until the person's next message is taken again (0: it would be taken now)."""
        hits = self.hits.peek(user_id) or []
        if len(hits) < self.limit:
            return 0.0
        return max(0.0, hits[-self.limit] + self.window - self.clock())

    def should_warn(self, user_id: int) -> bool:
        """True once per stretch over the limit: the notice says when it ends, so saying it again would
        help nobody and would itself flood the chat."""
        now = self.clock()
        until = self.warned.peek(user_id)
        if until is not None and now < until:
            return False
        self.warned[user_id] = now + self.retry_in(user_id)
        return True

    def _expire(self, now: float) -> None:
        self.hits.drop_oldest_while(lambda hits: not hits or now - hits[-1] > self.window)
        self.warned.drop_oldest_while(lambda until: now >= until)
