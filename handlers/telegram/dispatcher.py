"""The dispatcher shared by Telegram and the console chat: routers, middlewares, persistent FSM."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot, Dispatcher
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter, TelegramServerError
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import ErrorEvent

from bot.i18n import LANGUAGES
from bot.policy.engine import PolicyEngine
from bot.storage.db import DatabaseUnusable
from handlers.telegram.deps import TelegramDeps
from handlers.telegram.limits import check_callback_capacity
from handlers.telegram.middlewares import ContextMiddleware, GuardMiddleware
from handlers.telegram.routers import get_routers
from handlers.telegram.texts import language_of

log = logging.getLogger(__name__)


def check_policy_buttons(deps: TelegramDeps, engine: PolicyEngine) -> None:
    """Every section id of ``engine`` fits in a button (CallbackCapacityError otherwise): at start, and
    before a reloaded policy replaces the running one (bot/policy_reload.py)."""
    check_callback_capacity(deps.translator, deps.config.policy.default_language,
                            request_id_prefix=deps.config.requests.id_prefix,
                            section_ids=[s.id for lang in LANGUAGES for s in engine.sections(lang)])


def build_dispatcher(deps: TelegramDeps) -> Dispatcher:
    # Refused here, at start, rather than as a button Telegram will not take (CallbackCapacityError).
    check_policy_buttons(deps, deps.services.engine)
    # Updates of one chat are handled one at a time, so a fast typist cannot race the flow state.
    # The same isolation orders the outbox's sends to a chat after the update in flight (senders.py).
    dp = Dispatcher(storage=deps.storage, events_isolation=deps.events, deps=deps)
    context = ContextMiddleware(deps)
    guard = GuardMiddleware(deps)
    for observer in (dp.message, dp.callback_query):
        observer.outer_middleware(context)
        observer.outer_middleware(guard)
    dp.include_routers(*get_routers(deps))

    @dp.errors()
    async def on_error(event: ErrorEvent) -> None:
        if isinstance(event.exception, DatabaseUnusable):
            # The bot is stopping and this update is not confirmed: it is handled again after a restart,
            # so no "something went wrong" now. Raised on, a webhook answers 500 and Telegram retries.
            raise event.exception
        # The person hears that something went wrong instead of silence; the log gets the error, not the text.
        log.error("telegram: an update failed (%s)", type(event.exception).__name__, exc_info=event.exception)
        update = event.update
        user = update.message.from_user if update.message else (
            update.callback_query.from_user if update.callback_query else None)
        lang = language_of(user.language_code if user else None, deps.config.policy.default_language)
        text = deps.translator(lang, "tg-error")
        with contextlib.suppress(Exception):
            if update.message is not None:
                await update.message.answer(text)
            elif update.callback_query is not None:
                await update.callback_query.answer(text, show_alert=True)

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


