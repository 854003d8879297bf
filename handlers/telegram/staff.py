"""The staff chat: request cards and their buttons, the queue commands, replies to people."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram import BaseMiddleware, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, ForceReply, InlineKeyboardMarkup, Message, TelegramObject, User

from bot.audit import staff_actor
from bot.handoffs import HandoffAlreadyClosed, HandoffNotFound, HandoffService
from bot.i18n import format_date, format_datetime
from bot.requests import destruction
from bot.requests.destruction import Kind
from bot.requests.errors import (
    AlreadyDecided,
    DestructionRequired,
    IllegalTransition,
    RequestError,
    RequestNotFound,
    UnknownChoice,
)
from bot.requests.models import PrivacyRequest, RequestType, VerificationMethod
from bot.requests.states import Action, allows
from handlers.telegram import keyboards
from handlers.telegram.callbacks import (
    ACTION_OF_CODE,
    DESTRUCTION_OPS,
    PROMPT_ACTIONS,
    REJECT_PRESETS,
    STAFF_ACTIONS,
    DestructionCb,
    OpenCb,
    PromptCb,
    RejectCb,
    StaffCb,
)
from handlers.telegram.cards import render_card, render_destruction_done, render_destruction_picker
from handlers.telegram.deps import TelegramDeps
from handlers.telegram.filters import Magic
from handlers.telegram.limits import (
    CAP_ACTOR,
    CAP_ALERT_ACTOR,
    CAP_ERROR,
    CAP_LONG_TEXT,
    CAP_REQUEST_ID,
    MESSAGE_TEXT_UNITS,
    clip,
    fit_lines,
    fit_message_cut,
)
from handlers.telegram.repository import DestructionDraft, StaffPrompt
from handlers.telegram.security import refuse_forged, refuse_not_staff
from handlers.telegram.texts import Texts, shown

LIST_LIMIT = 40
# How long a "type the reason" prompt waits for its reply, and then for the press that sends it.
PROMPT_TTL = timedelta(minutes=15)
PROMPT_TEXT_LIMIT = 1000


def staff_name(user: User) -> str:
    return staff_actor(f"{user.full_name} (tg:{user.id})")


class StaffOnlyMiddleware(BaseMiddleware):
    """In the staff chat only staff act: others' commands and presses are refused and audited."""

    def __init__(self, deps: TelegramDeps) -> None:
        self.deps = deps

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is not None and self.deps.is_staff(user.id):
            return await handler(event, data)
        t: Texts = data["t"]
        if isinstance(event, CallbackQuery):
            request_id = None
            try:
                request_id = StaffCb.unpack(event.data or "").request_id
            except (TypeError, ValueError):
                pass
            await refuse_not_staff(event, self.deps, t, request_id=request_id)
        elif isinstance(event, Message) and (event.text or "").startswith("/"):
            await refuse_not_staff(event, self.deps, t)
        return None  # ordinary chatter of non-staff members is simply not the bot's business


def get_router(deps: TelegramDeps) -> Router:
    router = Router(name="staff")
    router.message.filter(Magic(F.chat.id == deps.staff_chat_id))
    router.callback_query.filter(Magic(F.message.chat.id == deps.staff_chat_id))
    router.message.middleware(StaffOnlyMiddleware(deps))
    router.callback_query.middleware(StaffOnlyMiddleware(deps))

    @router.message(Command("help", "start"))
    async def help_(message: Message, t: Texts) -> None:
        await message.answer(t("tg-staff-help"))

    @router.message(Command("cancel"))
    async def cancel(message: Message, t: Texts, deps: TelegramDeps) -> None:
        assert message.from_user is not None
        await deps.repo.cancel_prompts(message.chat.id, message.from_user.id)
        await message.answer(t("tg-cancelled"))

    @router.message(Command("queue"))
    async def queue(message: Message, t: Texts, deps: TelegramDeps) -> None:
        requests = await deps.services.requests.open_queue()
        text = _list_text(t, requests, "tg-staff-queue")
        # A button for each request the list shows: it opens the card.
        listed = [r for r in requests[:LIST_LIMIT] if f"{r.id}:" in text]
        await message.answer(text, reply_markup=keyboards.queue(listed))

    @router.callback_query(OpenCb.filter())
    async def open_card(query: CallbackQuery, callback_data: OpenCb, t: Texts, deps: TelegramDeps) -> None:
        try:
            request = await deps.services.requests.get(callback_data.request_id)
        except RequestNotFound:
            await refuse_forged(query, deps, t, reason="unknown_request")
            return
        if not request.is_open:
            # The list was older than the request's closing: say so, rather than post a card with nothing to do.
            await query.answer(t("tg-staff-open-closed", id=request.id,
                                 status=t("request-status", status=request.status.value)), show_alert=True)
            return
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer(render_card(t, request), reply_markup=keyboards.staff_card(t, request))

    @router.message(Command("overdue"))
    async def overdue(message: Message, t: Texts, deps: TelegramDeps) -> None:
        await message.answer(_list_text(t, await deps.services.requests.list(overdue=True), "tg-staff-overdue"))

    @router.message(Command("stats"))
    async def stats(message: Message, t: Texts, deps: TelegramDeps) -> None:
        result = await deps.services.requests.stats()
        lines = [t("tg-staff-stats", open=result.open, overdue=result.overdue)]
        lines += [f"{t('request-status', status=status)}: {count}"
                  for status, count in sorted(result.by_status.items())]
        await message.answer("\n".join(lines))

    @router.message(Command("request"))
    async def request_cmd(message: Message, command: CommandObject, t: Texts, deps: TelegramDeps) -> None:
        request_id = (command.args or "").strip().split()[0] if command.args else ""
        if not request_id:
            await message.answer(t("tg-staff-request-usage"))
            return
        try:
            request = await deps.services.requests.get(request_id)
        except RequestNotFound:
            await message.answer(t("tg-staff-not-found", id=shown(request_id, CAP_REQUEST_ID)))
            return
        await message.answer(render_card(t, request), reply_markup=keyboards.staff_card(t, request))

    @router.callback_query(StaffCb.filter(F.action.in_(STAFF_ACTIONS)))
    async def card_button(query: CallbackQuery, callback_data: StaffCb, t: Texts,
                          deps: TelegramDeps) -> None:
        try:
            request = await deps.services.requests.get(callback_data.request_id)
        except RequestNotFound:
            await refuse_forged(query, deps, t, reason="unknown_request")
            return
        action = ACTION_OF_CODE[callback_data.action]
        if not allows(request.status, action):  # the core's table: the card showed what it allowed
            await _tell_stale(query, t, request)
            await _refresh_card(query, t, request)
            return
        by = staff_name(query.from_user)
        if action in (Action.REJECT, Action.NEED_INFO):
            await query.answer()
            await _open_prompt(query, t, deps, request, "reject" if action is Action.REJECT else "info")
            return
        if action is Action.COMPLETE and request.type is RequestType.DELETION:
            # The act needs what was destroyed: chosen on a post of its own, then confirmed.
            await query.answer()
            await _open_destruction_picker(query, t, deps, request)
            return
        try:
            if action is Action.APPROVE:
                updated = await deps.services.requests.approve(request.id, by=by)
            elif action is Action.COMPLETE:
                updated = await deps.services.requests.complete(request.id, by=by)
            elif action is Action.CANCEL:
                updated = await deps.services.requests.cancel(request.id, by=by)
            else:
                updated = await deps.services.requests.verify(request.id, VerificationMethod.STAFF, actor=by)
        except AlreadyDecided as exc:
            # An alert is plain text: the name as typed, not HTML-escaped.
            await query.answer(t("tg-staff-already-decided", status=exc.status,
                                 by=clip(exc.decided_by or "?", CAP_ALERT_ACTOR),
                                 at=format_datetime(t.lang, exc.decided_at) if exc.decided_at else ""),
                               show_alert=True)
            await _refresh_card(query, t, await deps.services.requests.get(request.id))
            return
        except IllegalTransition:
            fresh = await deps.services.requests.get(request.id)
            await _tell_stale(query, t, fresh)
            await _refresh_card(query, t, fresh)
            return
        await query.answer(t("tg-staff-done"))
        await _refresh_card(query, t, updated)

    @router.callback_query(RejectCb.filter(F.preset.in_(REJECT_PRESETS)))
    async def reject_preset(query: CallbackQuery, callback_data: RejectCb, t: Texts, deps: TelegramDeps) -> None:
        try:
            await deps.services.requests.get(callback_data.request_id)
        except RequestNotFound:
            await refuse_forged(query, deps, t, reason="unknown_request")
            return
        reason = t(f"tg-reject-preset-{callback_data.preset}")
        await query.answer()
        await _decide(query, t, deps, callback_data.request_id, "reject", reason)

    @router.callback_query(PromptCb.filter(F.action.in_(PROMPT_ACTIONS)))
    async def prompt_button(query: CallbackQuery, callback_data: PromptCb, t: Texts, deps: TelegramDeps) -> None:
        prompt = await deps.repo.prompt(callback_data.prompt_id)
        if prompt is None or prompt.chat_id != deps.staff_chat_id:
            await refuse_forged(query, deps, t, reason="unknown_prompt")
            return
        if prompt.staff_user_id != query.from_user.id:
            await query.answer(t("tg-staff-prompt-not-yours"), show_alert=True)
            return
        if callback_data.action == "cancel":
            await deps.repo.set_prompt(prompt.id, expected=("open", "typed"), state="cancelled")
            await query.answer(t("tg-staff-prompt-dropped"))
            await _drop_buttons(query)
            return
        if prompt.state != "typed" or not prompt.text:
            await query.answer(t("tg-staff-prompt-stale"), show_alert=True)
            return
        if prompt.expired(_now()):
            await query.answer(t("tg-staff-prompt-expired"), show_alert=True)
            return
        if not await deps.repo.set_prompt(prompt.id, expected=("typed",), state="used"):
            await query.answer(t("tg-staff-prompt-stale"), show_alert=True)  # a double press
            return
        await query.answer()
        await _drop_buttons(query)
        await _decide(query, t, deps, prompt.request_id, prompt.action, prompt.text)

    @router.callback_query(DestructionCb.filter(F.op.in_(DESTRUCTION_OPS)))
    async def destruction_button(query: CallbackQuery, callback_data: DestructionCb, t: Texts,
                                 deps: TelegramDeps) -> None:
        await _destruction_press(query, callback_data, t, deps)

    @router.message(Magic(F.reply_to_message), Magic(F.text & ~F.text.startswith("/")))
    async def reply_in_staff_chat(message: Message, t: Texts, deps: TelegramDeps) -> None:
        """A reply is routed only by what the replied-to post is linked to in the database: a prompt of
        ours, or a person's "talk to a person" message. Nothing written in a post (a name, a subject) ever
        decides where a staff member's words go."""
        assert message.reply_to_message is not None and message.bot is not None
        replied = message.reply_to_message
        if replied.from_user is None or replied.from_user.id != message.bot.id:
            return  # staff talking among themselves
        prompt = await deps.repo.prompt_for_post(message.chat.id, replied.message_id)
        if prompt is not None:
            await _prompt_answered(message, t, deps, prompt)
            return
        handoff = await deps.repo.handoff_for(message.chat.id, replied.message_id)
        if handoff is None:
            await message.reply(t("tg-staff-reply-not-linked"))
            return
        await _reply_to_person(message, t, deps, handoff.user_id, handoff.user_chat_id, handoff.user_message_id,
                               handoff.handoff_id)

    return router


async def _decide(event: Message | CallbackQuery, t: Texts, deps: TelegramDeps, request_id: str, action: str,
                  text: str) -> None:
    user = event.from_user
    assert user is not None
    by = staff_name(user)
    try:
        if action == "reject":
            updated = await deps.services.requests.reject(request_id, by=by, reason=text)
        else:
            updated = await deps.services.requests.need_info(request_id, by=by, question=text)
    except AlreadyDecided as exc:
        await _answer_in_chat(event, t("tg-staff-already-decided", status=exc.status,
                                       by=shown(exc.decided_by or "?", CAP_ACTOR),
                                       at=format_datetime(t.lang, exc.decided_at) if exc.decided_at else ""))
        return
    except RequestError as exc:
        await _answer_in_chat(event, t("tg-staff-action-failed", error=shown(exc, CAP_ERROR)))
        return
    await _answer_in_chat(event, t("tg-staff-done-id", id=updated.id,
                                   status=t("request-status", status=updated.status.value)))
    await _edit_card(event, t, deps, updated)


def _now() -> datetime:
    return datetime.now(UTC)


async def _open_prompt(query: CallbackQuery, t: Texts, deps: TelegramDeps, request: PrivacyRequest,
                       action: str) -> None:
    """Ask for the reason (reject) or the question (need info) as a reply to this very post."""
    if not isinstance(query.message, Message):
        return
    minutes = int(PROMPT_TTL.total_seconds() // 60)
    text = t("tg-staff-reject-prompt" if action == "reject" else "tg-staff-info-prompt", id=request.id,
             minutes=minutes)
    # ForceReply (selective) opens the reply box for the member who pressed; the presets stay for reject.
    markup = keyboards.reject_presets(t, request.id) if action == "reject" else ForceReply(selective=True)
    post = await query.message.answer(text, reply_markup=markup)
    await deps.repo.open_prompt(chat_id=post.chat.id, prompt_message_id=post.message_id,
                                staff_user_id=query.from_user.id, request_id=request.id, action=action,
                                expires_at=_now() + PROMPT_TTL)


async def _prompt_answered(message: Message, t: Texts, deps: TelegramDeps, prompt: StaffPrompt) -> None:
    """The typed reason/question, shown back with Send/Drop: nothing reaches the requester unconfirmed."""
    assert message.from_user is not None
    if prompt.staff_user_id != message.from_user.id:
        await message.reply(t("tg-staff-prompt-not-yours"))
        return
    if prompt.state not in ("open", "typed"):
        await message.reply(t("tg-staff-prompt-stale"))
        return
    if prompt.expired(_now()):
        await message.reply(t("tg-staff-prompt-expired"))
        return
    text = (message.text or "").strip()[:PROMPT_TEXT_LIMIT]
    if not await deps.repo.set_prompt(prompt.id, expected=("open", "typed"), state="typed", text=text):
        await message.reply(t("tg-staff-prompt-stale"))
        return
    await message.reply(t("tg-staff-prompt-confirm-reject" if prompt.action == "reject" else
                          "tg-staff-prompt-confirm-info", id=prompt.request_id, text=shown(text, CAP_LONG_TEXT)),
                        reply_markup=keyboards.prompt_confirm(t, prompt.id))


async def _reply_to_person(message: Message, t: Texts, deps: TelegramDeps, user_id: int, chat_id: int,
                           reply_to: int, handoff_id: int | None) -> None:
    assert message.bot is not None and message.from_user is not None
    lang = await deps.repo.user_language(user_id) or deps.config.policy.default_language
    person_t = Texts(deps.translator, lang)
    reply, shortened = fit_message_cut(lambda piece: person_t(
        "tg-staff-reply-to-person", text=piece(message.text or "", CAP_LONG_TEXT)))
    try:
        await message.bot.send_message(chat_id, reply, reply_to_message_id=reply_to, allow_sending_without_reply=True)
    except TelegramForbiddenError:
        await deps.repo.mark_blocked(chat_id)
        await message.reply(t("tg-staff-reply-blocked"))
        return
    except TelegramAPIError:
        await message.reply(t("tg-staff-reply-failed"))
        return
    await deps.repo.record_handoff(staff_chat_id=message.chat.id, staff_message_id=message.message_id,
                                   user_id=user_id, user_chat_id=chat_id, user_message_id=reply_to,
                                   direction="staff", text=message.text or "", staff_user_id=message.from_user.id,
                                   handoff_id=handoff_id)
    if handoff_id is not None:
        # Answered: the handoff leaves the open list (and falls under retention like any closed one).
        services = deps.services
        handoffs = HandoffService(services.db, services.config, outbox=services.outbox,
                                  translator=services.translator)
        try:
            await handoffs.close(handoff_id, by=staff_name(message.from_user))
        except (HandoffNotFound, HandoffAlreadyClosed):
            pass
    if shortened:
        await message.reply(t("tg-staff-reply-sent-shortened", limit=MESSAGE_TEXT_UNITS))
    else:
        await message.reply(t("tg-staff-reply-sent"))


async def _drop_buttons(query: CallbackQuery) -> None:
    if isinstance(query.message, Message):
        try:
            await query.message.edit_reply_markup(reply_markup=None)
        except TelegramAPIError:
            pass


async def _answer_in_chat(event: Message | CallbackQuery, text: str, **kwargs: Any) -> None:
    message = event.message if isinstance(event, CallbackQuery) else event
    if isinstance(message, Message):
        await message.answer(text, **kwargs)


async def _tell_stale(query: CallbackQuery, t: Texts, request: PrivacyRequest) -> None:
    # An alert is plain text: the name as typed, not HTML-escaped.
    await query.answer(t("tg-staff-stale", status=t("request-status", status=request.status.value),
                         by=clip(request.decided_by or "—", CAP_ALERT_ACTOR),
                         at=format_datetime(t.lang, request.decided_at) if request.decided_at else ""),
                       show_alert=True)


async def _refresh_card(query: CallbackQuery, t: Texts, request: PrivacyRequest) -> None:
    """Edit the pressed card in place so it shows the current state and the right buttons."""
    if isinstance(query.message, Message):
        try:
            await query.message.edit_text(render_card(t, request), reply_markup=keyboards.staff_card(t, request))
        except TelegramAPIError:
            pass  # "message is not modified" when nothing changed


async def _edit_card(event: Message | CallbackQuery, t: Texts, deps: TelegramDeps, request: PrivacyRequest) -> None:
    card = await deps.repo.card_for(request.id)
    bot = event.bot
    if card is None or bot is None:
        return
    try:
        await bot.edit_message_text(render_card(t, request), chat_id=card.chat_id, message_id=card.message_id,
                                    reply_markup=keyboards.staff_card(t, request))
    except TelegramAPIError:
        pass


def _list_text(t: Texts, requests: list[PrivacyRequest], title_id: str) -> str:
    if not requests:
        return t(f"{title_id}-empty")
    lines = [t("tg-staff-list-item", id=request.id, type=t("request-type", type=request.type.value),
               status=t("request-status", status=request.status.value),
               due=format_date(t.lang, request.effective_due_date))
             for request in requests[:LIST_LIMIT]]
    # As many as one Telegram message holds (4096 characters), then how many more there are.
    return fit_lines(t(title_id, count=len(requests)), lines, lambda left: t("tg-staff-list-more", count=left),
                     not_listed=len(requests) - len(lines))


async def _open_destruction_picker(query: CallbackQuery, t: Texts, deps: TelegramDeps,
                                   request: PrivacyRequest) -> None:
    """The post on which the member who pressed "complete" chooses what the deletion destroyed."""
    if not isinstance(query.message, Message):
        return
    draft_id = await deps.repo.open_destruction_draft(
        chat_id=query.message.chat.id, staff_user_id=query.from_user.id, request_id=request.id,
        card_message_id=query.message.message_id, expires_at=_now() + PROMPT_TTL)
    draft = await deps.repo.destruction_draft(draft_id)
    assert draft is not None
    config = deps.config.destruction
    post = await query.message.answer(render_destruction_picker(t, draft, config),
                                      reply_markup=keyboards.destruction_picker(t, draft, config))
    await deps.repo.set_destruction_post(draft_id, post.message_id)


async def _destruction_press(query: CallbackQuery, data: DestructionCb, t: Texts, deps: TelegramDeps) -> None:
    """A press on the "what was destroyed" post: only on that post, by the member who opened it, while it is
    open and fresh; ids only from the configured lists. "ok" completes the request through the core."""
    draft = await deps.repo.destruction_draft(data.draft_id)
    pressed_on = query.message.message_id if query.message is not None else None
    if draft is None or draft.chat_id != deps.staff_chat_id or draft.message_id != pressed_on:
        await refuse_forged(query, deps, t, reason="unknown_draft")
        return
    if draft.staff_user_id != query.from_user.id:
        await query.answer(t("tg-destruction-not-yours"), show_alert=True)
        return
    if draft.state != "open":
        await query.answer(t("tg-destruction-stale"), show_alert=True)
        await _drop_buttons(query)
        return
    if draft.expired(_now()):
        await deps.repo.close_destruction_draft(draft.id, "cancelled")
        await query.answer(t("tg-destruction-expired"), show_alert=True)
        await _drop_buttons(query)
        return
    config = deps.config.destruction
    changed: DestructionDraft | None = draft
    if data.op in ("c", "s"):
        kind: Kind = "categories" if data.op == "c" else "systems"
        if data.item not in destruction.known_ids(config, kind):
            await refuse_forged(query, deps, t, reason="unknown_choice", request_id=draft.request_id)
            return
        if kind != draft.step:  # a list the post no longer shows: show the one it is at
            await query.answer(t("tg-destruction-stale-step"), show_alert=True)
            await _edit_post(query, render_destruction_picker(t, draft, config),
                             keyboards.destruction_picker(t, draft, config))
            return
        changed = await deps.repo.change_destruction_draft(draft.id, toggle=(kind, data.item))
    elif data.op == "next":
        if not draft.categories:
            await query.answer(t("tg-destruction-need-categories"), show_alert=True)
            return
        changed = await deps.repo.change_destruction_draft(draft.id, step="systems")
    elif data.op == "back":
        changed = await deps.repo.change_destruction_draft(draft.id, step="categories")
    elif data.op == "drop":
        await deps.repo.close_destruction_draft(draft.id, "cancelled")
        await query.answer(t("tg-staff-prompt-dropped"))
        await _edit_post(query, t("tg-destruction-dropped", id=draft.request_id))
        return
    else:
        await _destruction_confirmed(query, t, deps, draft)
        return
    if changed is None:  # closed meanwhile (a double press)
        await query.answer(t("tg-destruction-stale"), show_alert=True)
        return
    await query.answer()
    await _edit_post(query, render_destruction_picker(t, changed, config),
                     keyboards.destruction_picker(t, changed, config))


async def _destruction_confirmed(query: CallbackQuery, t: Texts, deps: TelegramDeps, draft: DestructionDraft) -> None:
    if draft.step != "systems":
        await query.answer(t("tg-destruction-stale-step"), show_alert=True)
        return
    if not draft.systems:
        await query.answer(t("tg-destruction-need-systems"), show_alert=True)
        return
    if not await deps.repo.close_destruction_draft(draft.id, "used"):
        await query.answer(t("tg-destruction-stale"), show_alert=True)  # a double press
        return
    by = staff_name(query.from_user)
    requests = deps.services.requests
    try:
        updated = await requests.complete(draft.request_id, by=by, categories=draft.categories,
                                          systems=draft.systems)
    except AlreadyDecided as exc:
        await query.answer(t("tg-staff-already-decided", status=exc.status,
                             by=clip(exc.decided_by or "?", CAP_ALERT_ACTOR),
                             at=format_datetime(t.lang, exc.decided_at) if exc.decided_at else ""),
                           show_alert=True)
        await _drop_buttons(query)
        return
    except IllegalTransition:
        await _tell_stale(query, t, await requests.get(draft.request_id))
        await _drop_buttons(query)
        return
    except (UnknownChoice, DestructionRequired):
        # The configured lists changed since the post was made (a restart with a new config.toml).
        await query.answer(t("tg-destruction-lists-changed"), show_alert=True)
        await _drop_buttons(query)
        return
    await query.answer(t("tg-staff-done"))
    destroyed = await requests.destruction_of(updated.id)
    assert destroyed is not None
    await _edit_post(query, render_destruction_done(t, updated.id, by.removeprefix("staff:"), destroyed))
    bot = query.bot
    if bot is not None and draft.card_message_id is not None:
        try:  # the card whose button was pressed (it may be a copy opened with /request or /queue)
            await bot.edit_message_text(render_card(t, updated), chat_id=draft.chat_id,
                                        message_id=draft.card_message_id,
                                        reply_markup=keyboards.staff_card(t, updated))
        except TelegramAPIError:
            pass
    await _edit_card(query, t, deps, updated)


async def _edit_post(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    if isinstance(query.message, Message):
        try:
            await query.message.edit_text(text, reply_markup=markup)
        except TelegramAPIError:
            pass  # "message is not modified"
