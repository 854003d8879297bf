"""Callback data factories. Every button the bot shows is one of these; anything else is forged."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

MENU_ACTIONS = ("ask", "browse", "deletion", "correction", "access", "human", "mine", "language")
ANSWER_ACTIONS = ("helped", "human")
FLOW_ACTIONS = ("confirm", "cancel", "resend", "skip", "more", "done", "email", "phone")
STAFF_ACTIONS = ("approve", "reject", "info", "complete", "verify", "cancel")
LANGUAGES = ("ru", "en")
# Preset rejection reasons, shown as buttons; index into the catalog's tg-reject-preset-N messages.
REJECT_PRESETS = (1, 2, 3)


class MenuCb(CallbackData, prefix="m"):
    action: str


class SectionCb(CallbackData, prefix="s"):
    section: str


class AnswerCb(CallbackData, prefix="a"):
    action: str


class FlowCb(CallbackData, prefix="f"):
    action: str


class LangCb(CallbackData, prefix="l"):
    lang: str


class InfoReplyCb(CallbackData, prefix="i"):
    """The person answers a "more information needed" question about one of their requests."""

    request_id: str


class StaffCb(CallbackData, prefix="st"):
    action: str
    request_id: str


class RejectCb(CallbackData, prefix="rj"):
    request_id: str
    preset: int


PROMPT_ACTIONS = ("send", "cancel")


class PromptCb(CallbackData, prefix="sp"):
    """Send or drop the reason/question a staff member typed in reply to a prompt (shown back first)."""

    prompt_id: int
    action: str
