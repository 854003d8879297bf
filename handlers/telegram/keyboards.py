"""Inline keyboards, built from the catalog in the chat's language."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.config import DestructionConfig
from bot.requests.destruction import Kind
from bot.requests.models import PrivacyRequest
from bot.requests.states import staff_actions
from handlers.telegram.callbacks import (
    REJECT_PRESETS,
    STAFF_CODES,
    AnswerCb,
    DestructionCb,
    FlowCb,
    InfoReplyCb,
    LangCb,
    MenuCb,
    OpenCb,
    PromptCb,
    RejectCb,
    SectionCb,
    StaffCb,
)
from handlers.telegram.limits import clip
from handlers.telegram.repository import DestructionDraft
from handlers.telegram.texts import Texts


def _rows(buttons: Iterable[InlineKeyboardButton], per_row: int = 1) -> InlineKeyboardMarkup:
    items = list(buttons)
    return InlineKeyboardMarkup(inline_keyboard=[items[i:i + per_row] for i in range(0, len(items), per_row)])


def _cached(build: Callable[..., InlineKeyboardMarkup]) -> Callable[..., InlineKeyboardMarkup]:
    """Fixed keyboards are built once per language: building the models is a visible share of an update."""
    cache: dict[tuple[Any, ...], InlineKeyboardMarkup] = {}

    @functools.wraps(build)
    def cached(t: Texts, *args: str) -> InlineKeyboardMarkup:
        key = (id(t.translator), t.lang, *args)
        if key not in cache:
            cache[key] = build(t, *args)
        return cache[key]

    return cached


@_cached
def main_menu(t: Texts) -> InlineKeyboardMarkup:
    actions = ("ask", "browse", "deletion", "correction", "access", "human", "mine")
    return _rows(InlineKeyboardButton(text=t(f"tg-menu-{a}"), callback_data=MenuCb(action=a).pack())
                 for a in actions)


def languages() -> InlineKeyboardMarkup:
    return _rows([InlineKeyboardButton(text="Русский", callback_data=LangCb(lang="ru").pack()),
                  InlineKeyboardButton(text="English", callback_data=LangCb(lang="en").pack())], per_row=2)


def sections(items: Iterable[tuple[str, str]]) -> InlineKeyboardMarkup:
    return _rows(InlineKeyboardButton(text=title[:60], callback_data=SectionCb(section=sid).pack())
                 for sid, title in items)


@_cached
def after_answer(t: Texts) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=t("tg-btn-helped"), callback_data=AnswerCb(action="helped").pack()),
         InlineKeyboardButton(text=t("tg-btn-unhelpful"), callback_data=AnswerCb(action="unhelpful").pack())],
        [InlineKeyboardButton(text=t("tg-btn-human"), callback_data=AnswerCb(action="human").pack())]])


@_cached
def offer_person(t: Texts) -> InlineKeyboardMarkup:
    return _rows([InlineKeyboardButton(text=t("tg-btn-human"), callback_data=AnswerCb(action="human").pack())])


@_cached
def flow(t: Texts, *actions: str) -> InlineKeyboardMarkup:
    return _rows((InlineKeyboardButton(text=t(f"tg-btn-{a}"), callback_data=FlowCb(action=a).pack())
                  for a in actions), per_row=2)


def answer_info(t: Texts, request_id: str) -> InlineKeyboardMarkup:
    return _rows([InlineKeyboardButton(text=t("tg-btn-answer-info"),
                                       callback_data=InfoReplyCb(request_id=request_id).pack())])


def staff_card(t: Texts, request: PrivacyRequest) -> InlineKeyboardMarkup | None:
    """A button for each staff action the core's table allows in the request's status; none once closed."""
    actions = staff_actions(request.status)
    if not actions:
        return None
    return _rows((InlineKeyboardButton(text=t(f"tg-staff-btn-{a.value}", status=request.status.value),
                                       callback_data=StaffCb(action=STAFF_CODES[a], request_id=request.id).pack())
                  for a in actions), per_row=2)


def queue(requests: Iterable[PrivacyRequest]) -> InlineKeyboardMarkup | None:
    """A button per listed request that opens its card."""
    buttons = [InlineKeyboardButton(text=r.id, callback_data=OpenCb(request_id=r.id).pack()) for r in requests]
    return _rows(buttons, per_row=3) if buttons else None


# A label of the [destruction] lists is up to 300 characters; a button shows its start.
CHOICE_BUTTON_CHARS = 60


def destruction_picker(t: Texts, draft: DestructionDraft, config: DestructionConfig) -> InlineKeyboardMarkup:
    """One toggle per configured category (first step) or system (second step), then the step's moves."""
    kind: Kind = "categories" if draft.step == "categories" else "systems"
    op = "c" if kind == "categories" else "s"
    chosen = draft.chosen(kind)
    rows = [[InlineKeyboardButton(
        text=("☑️ " if choice.id in chosen else "⬜ ") + clip(choice.get(t.lang), CHOICE_BUTTON_CHARS),
        callback_data=DestructionCb(draft_id=draft.id, op=op, item=choice.id).pack())]
        for choice in config.choices(kind)]
    moves = ("next", "drop") if kind == "categories" else ("back", "ok", "drop")
    rows.append([InlineKeyboardButton(text=t(f"tg-destruction-btn-{move}"),
                                      callback_data=DestructionCb(draft_id=draft.id, op=move).pack())
                 for move in moves])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def reject_presets(t: Texts, request_id: str) -> InlineKeyboardMarkup:
    return _rows(InlineKeyboardButton(text=t(f"tg-reject-preset-{n}"),
                                      callback_data=RejectCb(request_id=request_id, preset=n).pack())
                 for n in REJECT_PRESETS)


def prompt_confirm(t: Texts, prompt_id: int) -> InlineKeyboardMarkup:
    return _rows([InlineKeyboardButton(text=t("tg-staff-btn-send"),
                                       callback_data=PromptCb(prompt_id=prompt_id, action="send").pack()),
                  InlineKeyboardButton(text=t("tg-staff-btn-drop"),
                                       callback_data=PromptCb(prompt_id=prompt_id, action="cancel").pack())],
                 per_row=2)
