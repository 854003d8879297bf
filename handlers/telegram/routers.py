"""All routers in order: staff chat (requests, then learning posts), private chat, then the catch-all that
refuses forged callbacks."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery

from handlers.telegram import learning, private, staff
from handlers.telegram.deps import TelegramDeps
from handlers.telegram.security import refuse_forged
from handlers.telegram.texts import Texts


def _fallback_router() -> Router:
    router = Router(name="fallback")

    @router.callback_query()
    async def forged(query: CallbackQuery, t: Texts, deps: TelegramDeps) -> None:
        # No handler accepted this callback data: the bot never produced it (or not for this chat).
        await refuse_forged(query, deps, t, reason="unknown_callback")

    return router


def get_routers(deps: TelegramDeps) -> list[Router]:
    return [staff.get_router(deps), learning.get_router(deps), private.get_router(), _fallback_router()]
