"""Outbox senders for Telegram: a person's private chat ("telegram") and the staff chat ("staff")."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import InlineKeyboardMarkup

from bot.learning import STAFF_KIND, QuestionNotFound
from bot.outbox.base import OutboxMessage, PermanentDeliveryError, TemporaryDeliveryError
from bot.requests.errors import RequestNotFound
from handlers.telegram import keyboards, learning
from handlers.telegram.cards import render_card
from handlers.telegram.deps import TelegramDeps
from handlers.telegram.isolation import TURN_WAIT_SECONDS
from handlers.telegram.limits import MESSAGE_TEXT_UNITS, clip, utf16_units
from handlers.telegram.texts import Texts

log = logging.getLogger(__name__)

# Conversation.info_answer of handlers/telegram/private.py (its state name, to avoid a cyclic import)
INFO_ANSWER_STATE = "Conversation:info_answer"


async def _send(bot: Bot, chat_id: int, text: str, *, parse_mode: str | None,
                reply_markup: InlineKeyboardMarkup | None = None, reply_to: int | None = None) -> int:
    """Send one message; Bot API errors become the outbox's temporary/permanent errors."""
    try:
        sent = await bot.send_message(chat_id, text, parse_mode=parse_mode, reply_markup=reply_markup,
                                      reply_to_message_id=reply_to,
                                      allow_sending_without_reply=True if reply_to else None)
    except TelegramRetryAfter as exc:
        raise TemporaryDeliveryError(f"telegram 429: {exc.message}", retry_after=float(exc.retry_after)) from exc
    except (TelegramServerError, TelegramNetworkError) as exc:
        raise TemporaryDeliveryError(f"telegram unavailable: {type(exc).__name__}") from exc
    except TelegramForbiddenError as exc:
        raise PermanentDeliveryError(f"telegram forbidden: {exc.message}") from exc
    except TelegramBadRequest as exc:
        raise PermanentDeliveryError(f"telegram bad request: {exc.message}") from exc
    except TelegramAPIError as exc:
        raise TemporaryDeliveryError(f"telegram error: {type(exc).__name__}") from exc
    return sent.message_id


class TelegramSender:
    """Notifications to a person's private chat. Core texts are plain text: sent without parse mode."""

    channel = "telegram"

    def __init__(self, bot: Bot, deps: TelegramDeps) -> None:
        self.bot = bot
        self.deps = deps

    async def send(self, message: OutboxMessage) -> str | None:
        chat_id = int(message.recipient)
        payload = message.payload
        markup = None
        request_id = payload.get("request_id")
        if message.kind == "request.needs_info" and request_id:
            markup = keyboards.answer_info(Texts(self.deps.translator, str(payload.get("lang") or "ru")),
                                           str(request_id))
        reply_to = payload.get("reply_to") if isinstance(payload.get("reply_to"), int) else None
        # The core's texts are plain: a long reason or question typed at the command line is cut here,
        # at the end, rather than refused by Telegram.
        text = clip(str(payload.get("text", "")), MESSAGE_TEXT_UNITS)
        # After the update being handled in this chat: its direct replies come before what its core call
        # caused, and the person's next message waits for this one (isolation.py).
        async with self.deps.events.lock(self._key(chat_id), within=TURN_WAIT_SECONDS):
            try:
                message_id = await _send(self.bot, chat_id, text, parse_mode=None, reply_markup=markup,
                                         reply_to=reply_to)
            except PermanentDeliveryError as exc:
                if "forbidden" in str(exc):
                    # The person blocked the bot: remembered; the core falls back to their verified email.
                    await self.deps.repo.mark_blocked(chat_id)
                raise
            if message.kind == "request.needs_info" and request_id:
                await self._await_answer(chat_id, str(request_id))
        return str(message_id)

    def _key(self, chat_id: int) -> StorageKey:
        """The key the dispatcher's isolation and FSM use for a person's private chat."""
        return StorageKey(bot_id=self.bot.id, chat_id=chat_id, user_id=chat_id)

    async def _await_answer(self, chat_id: int, request_id: str) -> None:
        """The person's next message answers the question, unless they are in the middle of something."""
        key = self._key(chat_id)
        if await self.deps.storage.get_state(key) is None:
            await self.deps.storage.set_state(key, INFO_ANSWER_STATE)
            await self.deps.storage.set_data(key, {"request_id": request_id})

    async def was_sent(self, message: OutboxMessage) -> bool:
        return False  # the Bot API cannot be asked whether a message went out


class StaffSender:
    """The staff chat: request cards (sent, then edited in place), reminders and other notices."""

    channel = "staff"

    def __init__(self, bot: Bot, deps: TelegramDeps) -> None:
        self.bot = bot
        self.deps = deps

    async def send(self, message: OutboxMessage) -> str | None:
        chat_id = self.deps.staff_chat_id
        if not chat_id:
            raise PermanentDeliveryError("no staff chat configured ([telegram] staff_chat_id)")
        t = Texts(self.deps.translator, self.deps.config.policy.default_language)
        request_id = str(message.payload.get("request_id") or "")
        request = None
        if request_id:
            try:
                request = await self.deps.services.requests.get(request_id)
            except RequestNotFound:
                request = None
        if request is not None and message.kind in ("staff.request_created", "staff.request_updated"):
            card = await self.deps.repo.card_for(request.id)
            text, markup = render_card(t, request), keyboards.staff_card(t, request)
            if card is None:
                message_id = await _send(self.bot, chat_id, text, parse_mode="HTML", reply_markup=markup)
                await self.deps.repo.save_card(request.id, chat_id, message_id)
                return str(message_id)
            await self._edit(card.chat_id, card.message_id, text, markup)
            if message.kind == "staff.request_updated" and message.payload.get("text"):
                # What changed, as a short line under the card, so the chat shows the history.
                await _send(self.bot, chat_id, clip(str(message.payload["text"]), MESSAGE_TEXT_UNITS),
                            parse_mode=None, reply_to=card.message_id)
            return str(card.message_id)
        if message.kind == STAFF_KIND:
            return await self._learning_post(chat_id, t, message)
        text = str(message.payload.get("text", ""))
        handoff_id = message.payload.get("handoff_id")
        if message.kind == "staff.handoff" and message.payload.get("channel") == "telegram":
            hint = "\n\n" + t("tg-staff-handoff-hint")
            # The core's text is cut (plain text) so that the hint staff act on is never what is lost.
            text = clip(text, MESSAGE_TEXT_UNITS - utf16_units(hint)) + hint
        text = clip(text, MESSAGE_TEXT_UNITS)  # plain text from the core: cut at its end if ever too long
        card = await self.deps.repo.card_for(request_id) if request_id else None
        message_id = await _send(self.bot, chat_id, text, parse_mode=None, reply_to=card.message_id if card else None)
        if message.kind == "staff.handoff" and isinstance(handoff_id, int):
            await self.deps.repo.attach_staff_message(handoff_id, chat_id, message_id)
        return str(message_id)

    async def _learning_post(self, chat_id: int, t: Texts, message: OutboxMessage) -> str | None:
        """A question to learn from, with its buttons; nothing once it is decided or gone (retention, the
        command line was quicker)."""
        try:
            question = await self.deps.services.learning.get(int(message.payload.get("question_id") or 0))
        except QuestionNotFound:
            return None
        if not question.pending:
            return None
        message_id = await _send(self.bot, chat_id, learning.render_post(t, self.deps, question), parse_mode="HTML",
                                 reply_markup=learning.post_keyboard(t, self.deps, question))
        return str(message_id)

    async def _edit(self, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None) -> None:
        try:
            await self.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id, parse_mode="HTML",
                                             reply_markup=markup)
        except TelegramRetryAfter as exc:
            raise TemporaryDeliveryError("telegram 429", retry_after=float(exc.retry_after)) from exc
        except (TelegramServerError, TelegramNetworkError) as exc:
            raise TemporaryDeliveryError(f"telegram unavailable: {type(exc).__name__}") from exc
        except TelegramBadRequest as exc:
            if "not modified" not in exc.message:
                log.warning("telegram: cannot edit a staff card: %s", exc.message)

    async def was_sent(self, message: OutboxMessage) -> bool:
        return False
