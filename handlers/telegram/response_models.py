"""Keeps aiogram's parsed-reply models alive.

aiogram parses every Bot API reply with the pydantic model ``Response[T]``, looked up in pydantic's cache
of generic models, which holds them only weakly. Under load the running bot rebuilt such models about 75
times per 1,200 replies (about 15 ms each, a fifth of its time; bench/telegram_throughput.py). Holding
the models of the methods the bot calls keeps every lookup a cache hit for the life of the process.
"""

from __future__ import annotations

from typing import Any

from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    DeleteWebhook,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    GetUpdates,
    SendMessage,
    SetMyCommands,
    SetWebhook,
)
from aiogram.methods.base import Response, TelegramMethod

METHODS: tuple[type[TelegramMethod[Any]], ...] = (
    AnswerCallbackQuery, DeleteMessage, DeleteWebhook, EditMessageReplyMarkup, EditMessageText, GetMe,
    GetUpdates, SendMessage, SetMyCommands, SetWebhook,
)
_held: list[type] = []


def hold_response_models() -> None:
    """Build (once) and hold ``Response[T]`` for every method the bot uses."""
    if not _held:
        _held.extend(Response[method.__returning__] for method in METHODS)  # type: ignore[name-defined]
