"""The dispatcher shared by Telegram and the console chat: routers, middlewares, persistent FSM."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, Dispatcher
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter, TelegramServerError
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import Response, TelegramType

from handlers.telegram.deps import TelegramDeps
from handlers.telegram.middlewares import ContextMiddleware, GuardMiddleware
from handlers.telegram.routers import get_routers

log = logging.getLogger(__name__)


def build_dispatcher(deps: TelegramDeps) -> Dispatcher:
    # Updates of one chat are handled one at a time, so a fast typist cannot race the flow state.
    dp = Dispatcher(storage=deps.storage, events_isolation=SimpleEventIsolation(), deps=deps)
    context = ContextMiddleware(deps)
    guard = GuardMiddleware(deps)
    for observer in (dp.message, dp.callback_query):
        observer.outer_middleware(context)
        observer.outer_middleware(guard)
    dp.include_routers(*get_routers(deps))
    return dp


class RetryMiddleware(BaseRequestMiddleware):
    """Replies survive a short 429 or a 5xx: wait (retry_after, bounded) and try again a few times."""

    def __init__(self, attempts: int = 4, max_wait: float = 10.0, base_delay: float = 0.2) -> None:
        self.attempts = attempts
        self.max_wait = max_wait
        self.base_delay = base_delay

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        if isinstance(method, GetUpdates):  # the polling loop has its own backoff
            return await make_request(bot, method)  # type: ignore[arg-type]
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if attempt == self.attempts or exc.retry_after > self.max_wait:
                    raise
                log.warning("telegram: 429 on %s, retrying after %s s", type(method).__name__, exc.retry_after)
                await asyncio.sleep(exc.retry_after)
            except TelegramServerError:
                if attempt == self.attempts:
                    raise
                log.warning("telegram: server error on %s, retry %d", type(method).__name__, attempt)
                await asyncio.sleep(self.base_delay * 2 ** (attempt - 1))
        raise AssertionError("unreachable")


