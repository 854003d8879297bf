"""The private chat with a person: menu, policy answers, request flows, talking to a person."""

from __future__ import annotations

import hmac
import re
import secrets
import time
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot import intake
from bot.audit import REQUESTER
from bot.handoffs import HandoffService
from bot.i18n import format_date
from bot.intake import Next
from bot.learning import asked_question
from bot.policy.engine import PolicyEngine
from bot.requests.errors import RequestError, TooManyOpenRequests
from bot.requests.models import (
    Channel,
    CorrectionItem,
    PrivacyRequest,
    Requester,
    RequestStatus,
    RequestType,
    VerificationMethod,
)
from bot.verification import CODE_KIND, CheckStatus, ResendTooSoon, code_mail_payload
from handlers.telegram import keyboards
from handlers.telegram.callbacks import (
    ANSWER_ACTIONS,
    FLOW_ACTIONS,
    FORGET_ACTIONS,
    FORGET_TOKEN_BYTES,
    LANGUAGES,
    MENU_ACTIONS,
    AnswerCb,
    FlowCb,
    ForgetCb,
    InfoReplyCb,
    LangCb,
    MenuCb,
    SectionCb,
)
from handlers.telegram.cards import render_summary
from handlers.telegram.deps import TelegramDeps
from handlers.telegram.filters import Magic
from handlers.telegram.limits import (
    CAP_EMAIL,
    CAP_FIELD,
    CAP_ID_LIST,
    CAP_LONG_TEXT,
    CAP_NAME,
    CAP_TITLE,
    clip,
    fit_lines,
    fit_message,
)
from handlers.telegram.security import refuse_forged
from handlers.telegram.texts import Texts, esc, shown

_PHONE = re.compile(r"^\+?[\d\s\-()]{7,20}$")
_MAX_CORRECTIONS = 5
FORGET_ASK_SECONDS = 600  # /forget's question is answered within ten minutes, or asked again


class RequestFlow(StatesGroup):
    details = State()
    corr_field = State()
    corr_current = State()
    corr_wanted = State()
    corr_more = State()
    contact = State()
    code = State()
    confirm = State()


class Conversation(StatesGroup):
    handoff = State()  # the next message goes to staff
    info_answer = State()  # the next message answers staff's question on a request


def verification_subject(user_id: int) -> str:
    return f"tg:{user_id}"


def get_router() -> Router:
    router = Router(name="private")
    router.message.filter(Magic(F.chat.type == "private"))
    router.callback_query.filter(Magic(F.message.chat.type == "private"))
    # Handlers of a step in a flow, checked only when the person is in one; then everything else.
    # (Sub-routers run after the parent's own handlers, so commands like /cancel win in every step.)
    flows = Router(name="private-flows")
    flows.message.filter(StateFilter(RequestFlow, Conversation))
    flows.callback_query.filter(StateFilter(RequestFlow, Conversation))
    rest = Router(name="private-rest")

    # -- commands available in every state ---------------------------------------------------
    @router.message(CommandStart())
    async def start(message: Message, state: FSMContext, t: Texts) -> None:
        await state.clear()
        # A real name or none: Telegram requires a first name, but a channel may have none to give.
        name = (message.from_user.first_name if message.from_user else "").strip()
        await message.answer(t("tg-start", name=shown(name, CAP_NAME), has_name="yes" if name else "no"),
                             reply_markup=keyboards.main_menu(t))

    @router.message(Command("help"))
    async def help_(message: Message, t: Texts) -> None:
        await message.answer(t("tg-help"), reply_markup=keyboards.main_menu(t))

    @router.message(Command("cancel"))
    async def cancel(message: Message, state: FSMContext, t: Texts, deps: TelegramDeps) -> None:
        await _cancel(message, state, t, deps)

    @router.message(Command("language"))
    async def language(message: Message, t: Texts) -> None:
        await message.answer(t("tg-language-choose"), reply_markup=keyboards.languages())

    @router.callback_query(LangCb.filter(F.lang.in_(LANGUAGES)))
    async def language_set(query: CallbackQuery, callback_data: LangCb, deps: TelegramDeps) -> None:
        user = query.from_user
        await deps.repo.set_language(user.id, user.id, callback_data.lang)
        t = Texts(deps.translator, callback_data.lang)
        await query.answer()
        await _reply(query, t("tg-language-set"), reply_markup=keyboards.main_menu(t))

    @router.message(Command("privacy"))
    async def privacy(message: Message, t: Texts, deps: TelegramDeps) -> None:
        assert message.from_user is not None
        held = await deps.repo.held_about(message.from_user.id)
        requests = await deps.services.requests.for_telegram_user(message.from_user.id)
        retention = deps.config.retention
        await message.answer(t("tg-privacy", handoffs=held["handoff_messages"], requests=len(requests),
                               transcripts_days=retention.transcripts_days,
                               codes_days=retention.verification_codes_days,
                               closed_days=retention.closed_request_details_days,
                               learning_days=retention.learning_days))

    @router.message(Command("forget"))
    async def forget(message: Message, state: FSMContext, t: Texts) -> None:
        # Asked first; only the button of this question erases (a one-time token in the chat's state, so
        # a step the person is in survives a "keep").
        token = secrets.token_hex(FORGET_TOKEN_BYTES)
        await state.update_data(forget_token=token, forget_asked=time.time())
        await message.answer(t("tg-forget-ask"), reply_markup=_forget_keyboard(t, token))

    @router.callback_query(ForgetCb.filter(F.action.in_(FORGET_ACTIONS)))
    async def forget_answer(query: CallbackQuery, callback_data: ForgetCb, state: FSMContext, t: Texts,
                            deps: TelegramDeps) -> None:
        data = await state.get_data()
        token, asked = data.get("forget_token"), data.get("forget_asked")
        if not (isinstance(token, str) and isinstance(asked, int | float) and time.time() - asked <= FORGET_ASK_SECONDS
                and hmac.compare_digest(token.encode(), callback_data.token.encode())):
            # Stale (an older question, already answered, too old) or made up: nothing is erased. Not
            # logged: a security record would keep the id of someone who asked to be forgotten.
            await query.answer(t("tg-forget-stale"), show_alert=True)
            return
        # One answer per question; a step the person is in keeps its own data.
        await state.set_data({k: v for k, v in data.items() if k not in ("forget_token", "forget_asked")})
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)
        if callback_data.action == "keep":
            await _reply(query, t("tg-forget-kept-all"))
            return
        user_id = query.from_user.id
        await state.clear()
        await deps.repo.forget_user(user_id)
        await deps.storage.forget_user(user_id)
        deps.answers.forget(user_id)  # a private chat's id is the person's
        await deps.services.db.checkpoint()  # what was deleted leaves the write-ahead log too
        requests = await deps.services.requests.for_telegram_user(user_id)
        kept = [r.id for r in requests]
        if kept:
            await _reply(query, t("tg-forget-done-kept", ids=clip(", ".join(kept), CAP_ID_LIST),
                                  closed_days=deps.config.retention.closed_request_details_days))
        else:
            await _reply(query, t("tg-forget-done"))

    @router.message(Command("myrequests"))
    async def my_requests_cmd(message: Message, t: Texts, deps: TelegramDeps) -> None:
        assert message.from_user is not None
        await message.answer(await _my_requests_text(deps, t, message.from_user.id))

    # -- the menu ------------------------------------------------------------------------------
    @router.callback_query(MenuCb.filter(F.action.in_(MENU_ACTIONS)))
    async def menu(query: CallbackQuery, callback_data: MenuCb, state: FSMContext, t: Texts,
                   deps: TelegramDeps) -> None:
        await query.answer()
        action = callback_data.action
        if action == "ask":
            await _reply(query, t("tg-ask-prompt"))
        elif action == "browse":
            await _reply(query, t("tg-browse"), reply_markup=keyboards.sections(_section_titles(deps, t.lang)))
        elif action in ("deletion", "correction", "access"):
            await _start_flow(query, state, t, RequestType(action), deps, query.from_user.id)
        elif action == "human":
            await state.set_state(Conversation.handoff)
            await _reply(query, t("tg-handoff-prompt"), reply_markup=keyboards.flow(t, "cancel"))
        elif action == "mine":
            await _reply(query, await _my_requests_text(deps, t, query.from_user.id))
        elif action == "language":
            await _reply(query, t("tg-language-choose"), reply_markup=keyboards.languages())

    @router.callback_query(SectionCb.filter())
    async def section(query: CallbackQuery, callback_data: SectionCb, t: Texts, deps: TelegramDeps) -> None:
        engine = deps.services.engine  # one engine for the whole answer, even if a reload swaps it meanwhile
        found = next((s for s in engine.sections(t.lang) if s.id == callback_data.section), None)
        if found is None:
            if callback_data.section in deps.services.retired_section_ids:
                # A button shown before the policy changed: stale, not forged. The current list instead.
                await query.answer(t("tg-section-gone"), show_alert=True)
                await _reply(query, t("tg-browse"), reply_markup=keyboards.sections(_section_titles(deps, t.lang)))
                return
            await refuse_forged(query, deps, t, reason="unknown_section")
            return
        await query.answer()
        # Telegram refuses messages over 4096 characters; a policy section is far shorter, but be safe.
        text = fit_message(lambda piece: t("tg-section", title=piece(found.title, CAP_TITLE),
                                           text=piece(found.text, CAP_LONG_TEXT), url=esc(deps.config.policy.url),
                                           version=engine.policy_version, date=format_date(t.lang, engine.effective_date)))
        await _reply(query, text, reply_markup=keyboards.offer_person(t))

    @router.callback_query(AnswerCb.filter(F.action.in_(ANSWER_ACTIONS)))
    async def after_answer(query: CallbackQuery, callback_data: AnswerCb, state: FSMContext, t: Texts,
                           deps: TelegramDeps) -> None:
        if callback_data.action == "helped":
            await query.answer(t("tg-thanks-feedback"))
            return
        if callback_data.action == "unhelpful":
            await _not_helped(query, t, deps)
            return
        await query.answer()
        await state.set_state(Conversation.handoff)
        await _reply(query, t("tg-handoff-prompt"), reply_markup=keyboards.flow(t, "cancel"))

    # -- request flows ---------------------------------------------------------------------------
    @router.callback_query(FlowCb.filter(F.action == "cancel"))
    async def flow_cancel(query: CallbackQuery, state: FSMContext, t: Texts, deps: TelegramDeps) -> None:
        await query.answer()
        await _cancel(query, state, t, deps)

    @flows.message(StateFilter(RequestFlow.details), Magic(F.text))
    async def flow_details(message: Message, state: FSMContext, t: Texts, deps: TelegramDeps) -> None:
        if await _step_interrupted(message, state, t, deps, expects_free_text=True):
            return
        await state.update_data(details=message.text or "")
        await _ask_contact(message, state, t, deps)

    @flows.callback_query(StateFilter(RequestFlow.details), FlowCb.filter(F.action == "skip"))
    async def flow_details_skip(query: CallbackQuery, state: FSMContext, t: Texts, deps: TelegramDeps) -> None:
        await query.answer()
        await state.update_data(details="")
        await _ask_contact(query, state, t, deps)

    @flows.message(StateFilter(RequestFlow.corr_field), Magic(F.text))
    async def corr_field(message: Message, state: FSMContext, t: Texts, deps: TelegramDeps) -> None:
        if await _step_interrupted(message, state, t, deps, expects_free_text=True):
            return
        await state.update_data(field=(message.text or "")[:200])
        await state.set_state(RequestFlow.corr_current)
        await message.answer(t("tg-corr-current", field=shown(message.text, CAP_FIELD)),
                             reply_markup=keyboards.flow(t, "cancel"))

    @flows.message(StateFilter(RequestFlow.corr_current), Magic(F.text))
    async def corr_current(message: Message, state: FSMContext, t: Texts, deps: TelegramDeps) -> None:
        if await _step_interrupted(message, state, t, deps, expects_free_text=True):
            return
        await state.update_data(current=(message.text or "")[:500])
        await state.set_state(RequestFlow.corr_wanted)
        await message.answer(t("tg-corr-wanted"), reply_markup=keyboards.flow(t, "cancel"))

    @flows.message(StateFilter(RequestFlow.corr_wanted), Magic(F.text))
    async def corr_wanted(message: Message, state: FSMContext, t: Texts, deps: TelegramDeps) -> None:
        if await _step_interrupted(message, state, t, deps, expects_free_text=True):
            return
        data = await state.get_data()
        items = [*data.get("corrections", []),
                 CorrectionItem(field=data.get("field", ""), current=data.get("current", ""),
                                wanted=(message.text or "")[:500]).to_dict()]
        await state.update_data(corrections=items, field=None, current=None)
        if len(items) >= _MAX_CORRECTIONS:
            await _ask_contact(message, state, t, deps)
            return
        await state.set_state(RequestFlow.corr_more)
        await message.answer(t("tg-corr-more", count=len(items)), reply_markup=keyboards.flow(t, "more", "done"))

    @flows.callback_query(StateFilter(RequestFlow.corr_more), FlowCb.filter(F.action.in_(("more", "done"))))
    async def corr_more(query: CallbackQuery, callback_data: FlowCb, state: FSMContext, t: Texts,
                        deps: TelegramDeps) -> None:
        await query.answer()
        if callback_data.action == "more":
            await state.set_state(RequestFlow.corr_field)
            await _reply(query, t("tg-corr-field"), reply_markup=keyboards.flow(t, "cancel"))
        else:
            await _ask_contact(query, state, t, deps)

    @flows.message(StateFilter(RequestFlow.contact), Magic(F.text))
    async def flow_contact(message: Message, state: FSMContext, t: Texts, deps: TelegramDeps) -> None:
        assert message.from_user is not None
        text = (message.text or "").strip()
        if intake.EMAIL_ADDRESS.fullmatch(text):
            await _use_email(message, state, t, deps, message.from_user.id, text.lower())
        elif _PHONE.match(text) and sum(ch.isdigit() for ch in text) >= 7:
            await state.update_data(phone=text, email=None, verified=False)
            await _show_summary(message, state, t)
        elif not await _step_interrupted(message, state, t, deps, expects_free_text=False):
            await message.answer(t("tg-contact-invalid"), reply_markup=keyboards.flow(t, "cancel"))

    @flows.message(StateFilter(RequestFlow.code), Magic(F.text))
    async def flow_code(message: Message, state: FSMContext, t: Texts, deps: TelegramDeps) -> None:
        assert message.from_user is not None
        if await _step_interrupted(message, state, t, deps, expects_free_text=False):
            return
        data = await state.get_data()
        result = await deps.codes.check(verification_subject(message.from_user.id), message.text or "",
                                        str(data.get("email") or ""))
        if result.status is CheckStatus.OK:
            # Remembered with the address it proves: only that address is ever taken as proven.
            await state.update_data(verified=True, verified_email=result.email)
            await message.answer(t("tg-code-ok"))
            await _show_summary(message, state, t)
        elif result.status is CheckStatus.WRONG:
            await message.answer(t("tg-code-wrong", left=result.attempts_left),
                                 reply_markup=keyboards.flow(t, "resend", "cancel"))
        elif result.status is CheckStatus.EXPIRED:
            await message.answer(t("tg-code-expired"), reply_markup=keyboards.flow(t, "resend", "cancel"))
        elif result.status is CheckStatus.MISSING:
            # No code went to this address yet (the pause held it back): nothing typed can match.
            await message.answer(t("tg-code-missing"), reply_markup=keyboards.flow(t, "resend", "cancel"))
        else:
            await message.answer(t("tg-code-locked"), reply_markup=keyboards.flow(t, "resend", "cancel"))

    @flows.callback_query(StateFilter(RequestFlow.code), FlowCb.filter(F.action == "resend"))
    async def flow_resend(query: CallbackQuery, state: FSMContext, t: Texts, deps: TelegramDeps) -> None:
        data = await state.get_data()
        email = data.get("email")
        if not email:
            await refuse_forged(query, deps, t, reason="resend_without_email")
            return
        try:
            await _issue_code(deps, t, query.from_user.id, email)
        except ResendTooSoon as exc:
            await query.answer(t("tg-code-resend-wait", seconds=exc.wait_seconds), show_alert=True)
            return
        await query.answer(t("tg-code-resent"))

    @flows.callback_query(StateFilter(RequestFlow.confirm), FlowCb.filter(F.action == "confirm"))
    async def flow_confirm(query: CallbackQuery, state: FSMContext, t: Texts, deps: TelegramDeps) -> None:
        await query.answer()
        data = await state.get_data()
        user = query.from_user
        email, phone = data.get("email"), data.get("phone")
        verified = (VerificationMethod.EMAIL_CODE if email and data.get("verified") and data.get("verified_email") == email
                    else None)
        flags: dict[str, Any] = {}
        if data.get("third_party"):
            flags["third_party_mentioned"] = True  # staff check whose data it is
        if phone:
            verified = VerificationMethod.UNVERIFIED_PHONE
            flags["phone_unverified"] = True
        if verified is None:  # an email that was not proven: the flow never lets this happen
            await refuse_forged(query, deps, t, reason="confirm_without_verification")
            return
        requester = Requester(telegram_user_id=user.id, telegram_chat_id=user.id,
                              telegram_name=user.full_name[:100], email=email, phone=phone)
        try:
            result = await deps.services.requests.create(
                type=RequestType(data["type"]), channel=Channel.TELEGRAM, lang=t.lang, requester=requester,
                details=data.get("details", ""),
                corrections=tuple(CorrectionItem.from_dict(c) for c in data.get("corrections", [])),
                verified=verified, actor=REQUESTER, flags=flags or None)
        except TooManyOpenRequests as exc:
            await state.clear()
            await _reply(query, t("tg-too-many-open", ids=clip(", ".join(exc.open_ids), CAP_ID_LIST)))
            return
        except RequestError:
            await state.clear()
            await _reply(query, t("tg-request-failed"))
            return
        await state.clear()
        request = result.request
        # A verified request's id and due date reach the person through the core's own notification
        # (outbox), so here the summary is only marked as sent; a phone request gets them here.
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)
        if result.duplicate_of:
            return
        if phone:
            await _reply(query, t("tg-request-created-phone", id=request.id,
                                  due=format_date(t.lang, request.effective_due_date)))
            # A phone number the bot cannot check: staff get a card to verify it.
            await deps.services.requests.announce_unverified(request.id)
        else:
            await _reply(query, t("tg-request-confirmed"))

    # -- talking to a person -----------------------------------------------------------------
    @flows.message(StateFilter(Conversation.handoff), Magic(F.text))
    async def handoff(message: Message, state: FSMContext, t: Texts, deps: TelegramDeps) -> None:
        await state.clear()
        await forward_to_staff(message, deps, t)

    @router.callback_query(InfoReplyCb.filter())
    async def info_reply(query: CallbackQuery, callback_data: InfoReplyCb, state: FSMContext, t: Texts,
                         deps: TelegramDeps) -> None:
        request = await _own_request(deps, query.from_user.id, callback_data.request_id)
        if request is None or request.status is not RequestStatus.NEEDS_INFO:
            await refuse_forged(query, deps, t, reason="info_reply_not_allowed",
                                request_id=request.id if request else None)
            return
        await query.answer()
        await state.set_state(Conversation.info_answer)
        await state.update_data(request_id=request.id)
        await _reply(query, fit_message(lambda piece: t("tg-info-prompt", id=request.id, question=piece(
            request.info_question or "", CAP_LONG_TEXT))), reply_markup=keyboards.flow(t, "cancel"))

    @flows.message(StateFilter(Conversation.info_answer), Magic(F.text))
    async def info_answer(message: Message, state: FSMContext, t: Texts, deps: TelegramDeps) -> None:
        assert message.from_user is not None
        data = await state.get_data()
        await state.clear()
        try:
            await deps.services.requests.provide_info(data.get("request_id", ""), message.text or "",
                                                      actor=REQUESTER)
        except RequestError:
            await message.answer(t("tg-info-failed"))
            return
        await message.answer(t("tg-info-attached", id=data.get("request_id", "")))

    # -- free text -------------------------------------------------------------------------------
    @rest.message(StateFilter(None), Magic(F.text))
    async def free_text(message: Message, state: FSMContext, t: Texts, deps: TelegramDeps) -> None:
        engine = deps.services.engine  # one engine for the whole answer, even if a reload swaps it meanwhile
        outcome = intake.read(engine, intake.Inbound(text=message.text or "", lang_hint=t.lang,
                                                     names=tuple(_names(message))))
        # The reply is in the language of the message it answers (the chat's language for "👍").
        said = Texts(deps.translator, outcome.lang) if outcome.lang in LANGUAGES else t
        if outcome.next is Next.REQUEST:
            assert outcome.request_type is not None and message.from_user is not None
            await _start_flow(message, state, said, outcome.request_type, deps, message.from_user.id,
                              contact_email=outcome.contact_email, third_party=outcome.third_party)
        elif outcome.next is Next.HUMAN:
            await state.set_state(Conversation.handoff)
            await state.update_data(lang=said.lang)
            await message.answer(said("tg-handoff-prompt"), reply_markup=keyboards.flow(said, "cancel"))
        else:
            await _say(message, outcome, said, deps, engine)
            if outcome.learn is not None:
                # Staff are asked which section answers it (bot/learning.py), so the bot learns it.
                await deps.services.learning.submit_asked(outcome.learn, channel="telegram", reason="abstained")

    @rest.message(Magic(F.text))
    async def text_in_flow(message: Message, t: Texts) -> None:
        await message.answer(t("tg-use-buttons"), reply_markup=keyboards.flow(t, "cancel"))

    @rest.message()
    async def not_text(message: Message, t: Texts) -> None:
        await message.answer(t("tg-text-only"))

    # Flow buttons pressed outside their step (an old message): not forged, just stale.
    @rest.callback_query(FlowCb.filter(F.action.in_(FLOW_ACTIONS)))
    async def stale_flow_button(query: CallbackQuery, t: Texts) -> None:
        await query.answer(t("tg-stale-button"), show_alert=True)

    router.include_routers(flows, rest)
    return router


# -- helpers (no Telegram specifics beyond answering) --------------------------------------------
async def _reply(target: Message | CallbackQuery, text: str, **kwargs: Any) -> None:
    message = target.message if isinstance(target, CallbackQuery) else target
    if isinstance(message, Message):
        await message.answer(text, **kwargs)


async def _cancel(target: Message | CallbackQuery, state: FSMContext, t: Texts, deps: TelegramDeps) -> None:
    had_flow = await state.get_state() is not None
    await state.clear()
    user = target.from_user
    if user is not None:
        await deps.codes.discard(verification_subject(user.id))
    await _reply(target, t("tg-cancelled" if had_flow else "tg-nothing-to-cancel"),
                 reply_markup=keyboards.main_menu(t))


async def _say(message: Message, outcome: intake.Outcome, t: Texts, deps: TelegramDeps, engine: PolicyEngine) -> None:
    """An outcome that needs no flow: a quoted answer, a greeting, "the policy does not say", "not sure"."""
    understanding = outcome.understanding
    answer = understanding.answer
    if outcome.next is Next.ANSWER and answer is not None:
        sent = await message.answer(fit_message(lambda piece: t(
            "tg-answer", title=piece(answer.title, CAP_TITLE), quote=piece(answer.quote, CAP_LONG_TEXT),
            url=esc(answer.url), version=esc(understanding.policy_version),
            date=esc(format_date(t.lang, engine.effective_date)))),
            reply_markup=keyboards.after_answer(t))
        # Remembered (masked) for "did not help".
        deps.answers.remember(message.chat.id, sent.message_id,
                              asked_question(understanding, message.text or "", _names(message)))
    elif outcome.next is Next.GREETING:
        await message.answer(t("tg-greeting"), reply_markup=keyboards.main_menu(t))
    else:
        await message.answer(t("tg-not-in-policy" if outcome.next is Next.NOT_IN_POLICY else "tg-abstain"),
                             reply_markup=keyboards.offer_person(t))


async def _step_interrupted(message: Message, state: FSMContext, t: Texts, deps: TelegramDeps, *,
                            expects_free_text: bool) -> bool:
    """A plain question or greeting in the middle of a flow is answered, then the step is asked again."""
    engine = deps.services.engine
    outcome = intake.interrupts_step(engine, message.text or "", t.lang, expects_free_text=expects_free_text)
    if outcome is None:
        return False
    await _say(message, outcome, Texts(deps.translator, outcome.lang) if outcome.lang in LANGUAGES else t, deps,
               engine)
    await _ask_step_again(message, state, t)
    return True


async def _ask_step_again(message: Message, state: FSMContext, t: Texts) -> None:
    step = await state.get_state()
    data = await state.get_data()
    if step == RequestFlow.details.state:
        await message.answer(t(f"tg-flow-intro-{data.get('type', 'deletion')}"),
                             reply_markup=keyboards.flow(t, "skip", "cancel"))
    elif step == RequestFlow.corr_field.state:
        await message.answer(t("tg-corr-field"), reply_markup=keyboards.flow(t, "cancel"))
    elif step == RequestFlow.corr_current.state:
        await message.answer(t("tg-corr-current", field=shown(data.get("field") or "", CAP_FIELD)),
                             reply_markup=keyboards.flow(t, "cancel"))
    elif step == RequestFlow.corr_wanted.state:
        await message.answer(t("tg-corr-wanted"), reply_markup=keyboards.flow(t, "cancel"))
    elif step == RequestFlow.contact.state:
        await message.answer(t("tg-contact-prompt"), reply_markup=keyboards.flow(t, "cancel"))
    elif step == RequestFlow.code.state:
        await message.answer(t("tg-code-again", email=shown(str(data.get("email") or ""), CAP_EMAIL)),
                             reply_markup=keyboards.flow(t, "resend", "cancel"))


async def _start_flow(target: Message | CallbackQuery, state: FSMContext, t: Texts, kind: RequestType,
                      deps: TelegramDeps, user_id: int, *, contact_email: str | None = None,
                      third_party: bool = False) -> None:
    """Start a request flow in the language it was asked in, unless the same request is already open (then
    the person is told which, before being asked for anything)."""
    await state.clear()
    existing = await deps.services.requests.open_duplicate(
        kind, Requester(telegram_user_id=user_id, telegram_chat_id=user_id), Channel.TELEGRAM)
    if existing is not None:
        await _reply(target, t("tg-flow-duplicate", id=existing.id, type=t("request-type", type=existing.type.value),
                               status=t("request-status", status=existing.status.value),
                               due=format_date(t.lang, existing.effective_due_date)),
                     reply_markup=keyboards.main_menu(t))
        return
    await state.update_data(type=kind.value, corrections=[], lang=t.lang, suggested_email=contact_email,
                            third_party=third_party)
    if kind is RequestType.CORRECTION:
        await state.set_state(RequestFlow.corr_field)
        await _reply(target, t("tg-flow-intro-correction") + "\n\n" + t("tg-corr-field"),
                     reply_markup=keyboards.flow(t, "cancel"))
    else:
        await state.set_state(RequestFlow.details)
        await _reply(target, t(f"tg-flow-intro-{kind.value}"), reply_markup=keyboards.flow(t, "skip", "cancel"))


async def _ask_contact(target: Message | CallbackQuery, state: FSMContext, t: Texts, deps: TelegramDeps) -> None:
    await state.set_state(RequestFlow.contact)
    data = await state.get_data()
    suggested = data.get("suggested_email")
    user = target.from_user
    if suggested and user is not None:
        # The address the first message gave ("delete my data, email ivan@..."): used, not asked for again.
        await state.update_data(suggested_email=None)
        await _reply(target, t("tg-contact-from-message", email=shown(suggested, CAP_EMAIL)))
        await _use_email(target, state, t, deps, user.id, suggested)
        return
    await _reply(target, t("tg-contact-prompt"), reply_markup=keyboards.flow(t, "cancel"))


async def _use_email(target: Message | CallbackQuery, state: FSMContext, t: Texts, deps: TelegramDeps, user_id: int,
                     email: str) -> None:
    """The request's address: proven by a code, unless this person proved it by a code minutes ago."""
    if await deps.codes.recently_verified(verification_subject(user_id), email):
        await state.update_data(email=email, phone=None, verified=True, verified_email=email)
        await _reply(target, t("tg-contact-recent", email=shown(email, CAP_EMAIL)))
        await _show_summary(target, state, t)
        return
    await state.update_data(email=email, phone=None, verified=False, verified_email=None)
    await _send_code(target, deps, t, user_id, email)
    await state.set_state(RequestFlow.code)


async def _issue_code(deps: TelegramDeps, t: Texts, user_id: int, email: str) -> None:
    """The code is reserved and its mail enqueued in one transaction; the code itself is made when the
    outbox sends the mail (bot/verification.py CodeMail), so it is never stored in clear."""
    subject = verification_subject(user_id)
    async with deps.services.db.transaction() as conn:
        await deps.codes.reserve(conn, subject, email)
        minutes = deps.config.telegram.verification_code_ttl_seconds // 60
        await deps.services.outbox.enqueue(
            conn, channel="email", recipient=email, kind=CODE_KIND,
            payload=code_mail_payload(subject, t.lang, t("tg-code-email-subject"), minutes))


async def _send_code(target: Message | CallbackQuery, deps: TelegramDeps, t: Texts, user_id: int, email: str) -> None:
    try:
        await _issue_code(deps, t, user_id, email)
    except ResendTooSoon as exc:
        # Limits hold across flows (bot/verification.py): say when, and keep "resend" at hand.
        await _reply(target, t("tg-code-resend-wait", seconds=exc.wait_seconds),
                     reply_markup=keyboards.flow(t, "resend", "cancel"))
        return
    minutes = deps.config.telegram.verification_code_ttl_seconds // 60
    await _reply(target, t("tg-code-sent", email=shown(email, CAP_EMAIL), minutes=minutes),
                 reply_markup=keyboards.flow(t, "resend", "cancel"))


async def _show_summary(target: Message | CallbackQuery, state: FSMContext, t: Texts) -> None:
    data = await state.get_data()
    await state.set_state(RequestFlow.confirm)
    # Rendered to fit Telegram (cards.render_summary): a refused summary would hide the Confirm button.
    await _reply(target, render_summary(t, data), reply_markup=keyboards.flow(t, "confirm", "cancel"))


def _forget_keyboard(t: Texts, token: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=t(f"tg-btn-forget-{action}"), callback_data=ForgetCb(action=action, token=token).pack())
        for action in FORGET_ACTIONS]])


def _section_titles(deps: TelegramDeps, lang: str) -> list[tuple[str, str]]:
    return [(s.id, s.title) for s in deps.services.engine.sections(lang)]


async def _own_request(deps: TelegramDeps, user_id: int, request_id: str) -> PrivacyRequest | None:
    for request in await deps.services.requests.for_telegram_user(user_id):
        if request.id == request_id:
            return request
    return None


async def _my_requests_text(deps: TelegramDeps, t: Texts, user_id: int) -> str:
    requests = await deps.services.requests.for_telegram_user(user_id)
    if not requests:
        return t("tg-mine-none")
    lines = [t("tg-mine-item", id=request.id, type=t("request-type", type=request.type.value),
               status=t("request-status", status=request.status.value),
               due=format_date(t.lang, request.effective_due_date))
             for request in requests]
    return fit_lines(t("tg-mine-title"), lines, lambda left: t("tg-mine-more", count=left))


def _names(message: Message) -> list[str]:
    """What Telegram says the person is called: masked wherever their question names them."""
    user = message.from_user
    return [n for n in (user.first_name, user.last_name, user.username) if n] if user else []


async def _not_helped(query: CallbackQuery, t: Texts, deps: TelegramDeps) -> None:
    """"Did not help" under an answer: the question goes to staff to learn from (once: it is taken out)."""
    asked = (deps.answers.take(query.message.chat.id, query.message.message_id)
             if isinstance(query.message, Message) else None)
    if asked is None:
        await query.answer(t("tg-unhelpful-stale"), show_alert=True)
        return
    await deps.services.learning.submit_asked(asked, channel="telegram", reason="unhelpful")
    await query.answer()
    await _reply(query, t("tg-unhelpful-sent"), reply_markup=keyboards.offer_person(t))


async def forward_to_staff(message: Message, deps: TelegramDeps, t: Texts) -> None:
    """Hand the person's message to staff (a core handoff: the outbox posts it in the staff chat, and
    ``privacy-bot handoffs`` lists it), remembering which Telegram message a staff reply must answer."""
    assert message.from_user is not None
    user = message.from_user
    services = deps.services
    handoffs = HandoffService(services.db, services.config, outbox=services.outbox, translator=services.translator)
    async with services.db.transaction() as conn:
        handoff_id = await handoffs.add(conn, channel="telegram", sender=f"{user.full_name} (tg:{user.id})",
                                        subject="", text=message.text or "", lang=t.lang, reason="human",
                                        reference=f"tg:{message.chat.id}:{message.message_id}")
        await deps.repo.record_handoff(staff_chat_id=deps.staff_chat_id, staff_message_id=None, user_id=user.id,
                                       user_chat_id=message.chat.id, user_message_id=message.message_id,
                                       direction="user", text=message.text or "", handoff_id=handoff_id,
                                       conn=conn)
    await message.answer(t("tg-handoff-sent"))
