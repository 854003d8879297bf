"""The staff chat's part in learning from staff (bot/learning.py): a post per question the bot could not
answer (or whose answer did not help), with a button per section it offered, "other section…" (all of
them) and "not in the policy". A press is one core call, ``LearningService.decide``; the post is then
edited to say what was learnt, by whom. Only staff act (the staff chat's middleware); a press naming no
question or no section is refused and audited as forged; a press on a decided question (a second press, a
colleague first, the command line) says who decided; one made after the policy changed is stale.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.learning import LearningQuestion, QuestionAlreadyDecided, QuestionNotFound
from handlers.telegram.callbacks import LEARN_ACTIONS, VERSION_CHARS, LearnActCb, LearnCb
from handlers.telegram.deps import TelegramDeps
from handlers.telegram.filters import Magic
from handlers.telegram.limits import CAP_ALERT_ACTOR, CAP_LONG_TEXT, CAP_TITLE, Pieces, clip, fit_message
from handlers.telegram.security import refuse_forged
from handlers.telegram.staff import StaffOnlyMiddleware, staff_name
from handlers.telegram.texts import Texts, esc, shown

BUTTON_TITLE_CHARS = 60


def get_router(deps: TelegramDeps) -> Router:
    router = Router(name="staff-learning")
    router.callback_query.filter(Magic(F.message.chat.id == deps.staff_chat_id))
    router.callback_query.middleware(StaffOnlyMiddleware(deps))
    router.callback_query.register(section_pressed, LearnCb.filter())
    router.callback_query.register(action_pressed, LearnActCb.filter(F.action.in_(LEARN_ACTIONS)))
    return router


async def section_pressed(query: CallbackQuery, callback_data: LearnCb, t: Texts, deps: TelegramDeps) -> None:
    question = await _question(query, callback_data.question_id, t, deps)
    if question is None:
        return
    sections = deps.services.learning.sections(question.lang)
    if not 0 <= callback_data.section < len(sections):
        await refuse_forged(query, deps, t, reason="unknown_section")
        return
    if callback_data.version != _version(deps):
        # Sections are named by their place in the policy the post was made with; it has changed since.
        await query.answer(t("tg-stale-button"), show_alert=True)
        await _edit(query, t, deps, question)
        return
    await _decide(query, t, deps, question, sections[callback_data.section].id)


async def action_pressed(query: CallbackQuery, callback_data: LearnActCb, t: Texts, deps: TelegramDeps) -> None:
    question = await _question(query, callback_data.question_id, t, deps)
    if question is None:
        return
    if callback_data.action == "none":
        await _decide(query, t, deps, question, None)
        return
    if not question.pending:
        await _tell_decided(query, t, question)
        await _edit(query, t, deps, question)
        return
    await query.answer()
    await _edit(query, t, deps, question, everything=callback_data.action == "other")


async def _question(query: CallbackQuery, question_id: int, t: Texts, deps: TelegramDeps) -> LearningQuestion | None:
    try:
        return await deps.services.learning.get(question_id)
    except QuestionNotFound:
        await refuse_forged(query, deps, t, reason="unknown_question")
        return None


async def _decide(query: CallbackQuery, t: Texts, deps: TelegramDeps, question: LearningQuestion,
                  section_id: str | None) -> None:
    try:
        decided = await deps.services.learning.decide(question.id, section_id, by=staff_name(query.from_user))
    except QuestionAlreadyDecided as exc:
        await _tell_decided(query, t, exc.question)
        await _edit(query, t, deps, exc.question)
        return
    await query.answer(t("tg-learn-done"))
    await _edit(query, t, deps, decided)


async def _tell_decided(query: CallbackQuery, t: Texts, question: LearningQuestion) -> None:
    # An alert is plain text: the name as typed, not HTML-escaped.
    await query.answer(t("tg-learn-stale", by=clip(question.decided_by or "—", CAP_ALERT_ACTOR),
                         at=_when(question)), show_alert=True)


async def _edit(query: CallbackQuery, t: Texts, deps: TelegramDeps, question: LearningQuestion, *,
                everything: bool = False) -> None:
    if not isinstance(query.message, Message):
        return
    try:
        await query.message.edit_text(render_post(t, deps, question),
                                       reply_markup=post_keyboard(t, deps, question, everything=everything))
    except TelegramAPIError:
        pass  # "message is not modified" when nothing changed


def _version(deps: TelegramDeps) -> str:
    return deps.services.engine.policy_version[:VERSION_CHARS]


def _when(question: LearningQuestion) -> str:
    return question.decided_at.strftime("%Y-%m-%d %H:%M UTC") if question.decided_at else ""


def _titles(t: Texts, deps: TelegramDeps) -> dict[str, str]:
    """Section titles in the staff chat's language (ids and order are the same in every language)."""
    return {s.id: s.title for s in deps.services.learning.sections(t.lang)}


def render_post(t: Texts, deps: TelegramDeps, question: LearningQuestion) -> str:
    titles = _titles(t, deps)
    offered = [titles.get(sid, sid) for sid in question.offered]

    def text(piece: Pieces) -> str:
        body = t("tg-learn-post", id=question.id, language=question.lang, channel=question.channel,
                 reason=question.reason, asked=question.asked, text=piece(question.text, CAP_LONG_TEXT),
                 offered=t("tg-learn-offered", sections=esc(", ".join(f"«{o}»" for o in offered)))
                 if offered else t("tg-learn-offered-none"))
        if question.pending:
            return f"{body}\n\n{t('tg-learn-ask')}"
        by = shown(question.decided_by or "—", CAP_TITLE)
        if question.section_id is None:
            return f"{body}\n\n{t('tg-learn-decided-none', by=by, at=_when(question))}"
        title = esc(titles.get(question.section_id, question.section_id))
        return f"{body}\n\n{t('tg-learn-decided', section=title, by=by, at=_when(question))}"

    return fit_message(text)


def post_keyboard(t: Texts, deps: TelegramDeps, question: LearningQuestion, *,
                  everything: bool = False) -> InlineKeyboardMarkup | None:
    """A button per offered section (or, with ``everything``, per section), then "other section…" (or
    back) and "not in the policy"; none once decided."""
    if not question.pending:
        return None
    sections = deps.services.learning.sections(question.lang)
    titles = _titles(t, deps)
    version = _version(deps)
    places = {s.id: n for n, s in enumerate(sections)}
    chosen = range(len(sections)) if everything else [places[sid] for sid in question.offered if sid in places]
    rows = [[InlineKeyboardButton(text=titles.get(sections[n].id, sections[n].id)[:BUTTON_TITLE_CHARS],
                                  callback_data=LearnCb(question_id=question.id, section=n, version=version).pack())]
            for n in chosen]
    switch = "back" if everything else "other"
    rows.append([InlineKeyboardButton(text=t(f"tg-learn-btn-{switch}"),
                                      callback_data=LearnActCb(question_id=question.id, action=switch).pack())])
    rows.append([InlineKeyboardButton(text=t("tg-learn-btn-none"),
                                      callback_data=LearnActCb(question_id=question.id, action="none").pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)
