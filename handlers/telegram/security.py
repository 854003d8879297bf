"""Refusing forged or unauthorised button presses and commands, and auditing each refusal."""

from __future__ import annotations

import logging
from typing import Any

from aiogram.types import CallbackQuery, Message

from bot.requests.errors import RequestNotFound
from handlers.telegram.deps import TelegramDeps
from handlers.telegram.texts import Texts

log = logging.getLogger(__name__)


async def audit_refusal(deps: TelegramDeps, event: str, *, user_id: int | None, chat_id: int | None,
                        request_id: str | None = None, details: dict[str, Any] | None = None) -> None:
    """Who did it goes to the channel's security log (kept for [retention] security_events_days); a
    refusal about an existing request is also an event in its trail, naming no one (the trail is kept
    for good and must hold no personal data)."""
    info = {"user_id": user_id, "chat_id": chat_id, **(details or {})}
    # The request's own id as stored ("pr-2026-0001 " in forged data names PR-2026-0001), or none.
    request_id = await canonical_request_id(deps, request_id) if request_id else None
    event_id = await deps.repo.security_event(event, user_id=user_id, chat_id=chat_id,
                                              details={**info, "request_id": request_id})
    if request_id:
        async with deps.services.db.transaction() as conn:
            await deps.services.audit.append(conn, request_id, event, "telegram", {
                "security_event": event_id, "why": str((details or {}).get("reason", event))[:64]})
    log.warning("telegram: refused %s (security event %s)", event, event_id)


async def canonical_request_id(deps: TelegramDeps, request_id: str) -> str | None:
    try:
        return (await deps.services.requests.get(request_id)).id
    except RequestNotFound:
        return None


async def refuse_forged(query: CallbackQuery, deps: TelegramDeps, t: Texts, *, reason: str,
                        request_id: str | None = None) -> None:
    chat_id = query.message.chat.id if query.message is not None else None
    await audit_refusal(deps, "forged_callback", user_id=query.from_user.id, chat_id=chat_id,
                        request_id=request_id, details={"reason": reason, "data": (query.data or "")[:64]})
    await query.answer(t("tg-forged"), show_alert=True)


async def refuse_not_staff(event: Message | CallbackQuery, deps: TelegramDeps, t: Texts,
                           request_id: str | None = None) -> None:
    user_id = event.from_user.id if event.from_user else None
    if isinstance(event, CallbackQuery):
        chat_id = event.message.chat.id if event.message is not None else None
        await audit_refusal(deps, "not_staff_press", user_id=user_id, chat_id=chat_id, request_id=request_id,
                            details={"data": (event.data or "")[:64]})
        await event.answer(t("tg-not-staff"), show_alert=True)
    else:
        command = (event.text or "").split()[0][:32] if event.text else ""
        await audit_refusal(deps, "not_staff_command", user_id=user_id, chat_id=event.chat.id,
                            details={"command": command})
        await event.reply(t("tg-not-staff"))
