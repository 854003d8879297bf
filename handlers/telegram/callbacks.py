"""Callback data factories. Every button the bot shows is one of these; anything else is forged."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.filters.callback_data import CallbackData

from bot.requests import states

MENU_ACTIONS = ("ask", "browse", "deletion", "correction", "access", "human", "mine", "language")
ANSWER_ACTIONS = ("helped", "unhelpful", "human")
FLOW_ACTIONS = ("confirm", "cancel", "resend", "skip", "more", "done", "email", "phone")
# A card's buttons: the staff actions of the core's table (bot/requests/states.py), each by a short code
# (button data holds 64 bytes; "info" is also what cards posted before the table carry).
STAFF_CODES: dict[states.Action, str] = {action: "info" if action is states.Action.NEED_INFO else action.value
                                         for action in states.STAFF_ACTIONS}
STAFF_ACTIONS = tuple(STAFF_CODES.values())
ACTION_OF_CODE: dict[str, states.Action] = {code: action for action, code in STAFF_CODES.items()}
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


FORGET_ACTIONS = ("erase", "keep")
FORGET_TOKEN_BYTES = 8  # 16 hex characters


class ForgetCb(CallbackData, prefix="fg"):
    """The answer to /forget's question, carrying that question's one-time token: a press on an older
    question, a repeated press or made-up data erases nothing."""

    action: str
    token: str


class StaffCb(CallbackData, prefix="st"):
    action: str
    request_id: str


class RejectCb(CallbackData, prefix="rj"):
    request_id: str
    preset: int


class OpenCb(CallbackData, prefix="so"):
    """Open a request's card from the /queue list."""

    request_id: str


# On the post where staff choose what a completed deletion destroyed: toggle a category ("c") or a system
# ("s") by its configured id, go to the systems ("next") or back, complete ("ok") or drop the choice.
DESTRUCTION_OPS = ("c", "s", "next", "back", "ok", "drop")
# [destruction] ids are at most this long (bot/config.py), so every such button fits Telegram's 64 bytes.
MAX_CHOICE_ID = 24


class DestructionCb(CallbackData, prefix="dc"):
    draft_id: int
    op: str
    item: str = ""


PROMPT_ACTIONS = ("send", "cancel")


class PromptCb(CallbackData, prefix="sp"):
    """Send or drop the reason/question a staff member typed in reply to a prompt (shown back first)."""

    prompt_id: int
    action: str


class LearnCb(CallbackData, prefix="lq"):
    """Staff name the section that answers a question the bot learns from (bot/learning.py): its place in
    the policy of ``version`` (the start of the policy's content hash), so the data stays short whatever
    the section ids; a press made after the policy changed is stale."""

    question_id: int
    section: int
    version: str


LEARN_ACTIONS = ("none", "other", "back")
# A policy has fewer sections than this; the characters of its version a learning button carries.
MAX_SECTIONS = 10_000
VERSION_CHARS = 8


class LearnActCb(CallbackData, prefix="la"):
    """On a learning post: "not in the policy", the list of all sections, back to the offered ones."""

    question_id: int
    action: str


def button_data(*, request_id: str = "PR-2026-0001", section_ids: Iterable[str] = ()) -> list[str]:
    """Every factory packed with every value it can take: the fixed ones above, and the given request id
    and section ids (which come from the config and the policy folder). ValueError when a value holds
    the separator. Used at start to prove no button can exceed Telegram's 64 bytes."""
    data = [MenuCb(action=a).pack() for a in MENU_ACTIONS]
    data += [AnswerCb(action=a).pack() for a in ANSWER_ACTIONS]
    data += [FlowCb(action=a).pack() for a in FLOW_ACTIONS]
    data += [LangCb(lang=lang).pack() for lang in LANGUAGES]
    data += [SectionCb(section=section).pack() for section in section_ids]
    data.append(InfoReplyCb(request_id=request_id).pack())
    data += [ForgetCb(action=a, token="f" * 2 * FORGET_TOKEN_BYTES).pack() for a in FORGET_ACTIONS]
    data += [StaffCb(action=a, request_id=request_id).pack() for a in STAFF_ACTIONS]
    data.append(OpenCb(request_id=request_id).pack())
    # draft ids count up from 1; items are [destruction] ids
    data += [DestructionCb(draft_id=2**63 - 1, op=op, item="x" * MAX_CHOICE_ID).pack() for op in DESTRUCTION_OPS]
    data += [RejectCb(request_id=request_id, preset=n).pack() for n in REJECT_PRESETS]
    # prompt ids count up from 1: a 64-bit one is the longest a prompt button can get
    data += [PromptCb(prompt_id=2**63 - 1, action=a).pack() for a in PROMPT_ACTIONS]
    # learning question ids count up from 1 too
    data.append(LearnCb(question_id=2**63 - 1, section=MAX_SECTIONS - 1, version="f" * VERSION_CHARS).pack())
    data += [LearnActCb(question_id=2**63 - 1, action=a).pack() for a in LEARN_ACTIONS]
    return data
