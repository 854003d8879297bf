"""Messages built from many pieces people typed: the staff-chat card of a request (everything staff need
to decide, with who acted and when) and the summary a person confirms.

Each piece is capped where it is shown and the whole is rendered smaller until it fits Telegram's limit
(``fit_message``), so the card keeps its layout and its buttons however long the details are; the stored
request is untouched, and a card that had to be shortened says where to read all of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.config import DestructionConfig
from bot.i18n import format_date, format_datetime
from bot.requests.destruction import KINDS, Destruction
from bot.requests.models import PrivacyRequest
from handlers.telegram.limits import (
    CAP_ACTOR,
    CAP_DETAILS,
    CAP_EMAIL,
    CAP_FIELD,
    CAP_NAME,
    CAP_PHONE,
    CAP_QUESTION,
    CAP_REASON,
    CAP_VALUE,
    MAX_SHOWN_CORRECTIONS,
    Pieces,
    fit_message,
)
from handlers.telegram.repository import DestructionDraft
from handlers.telegram.texts import Texts, esc, shown


def render_card(t: Texts, request: PrivacyRequest) -> str:
    return fit_message(lambda piece: _card(t, request, piece))


def _card(t: Texts, request: PrivacyRequest, piece: Pieces) -> str:
    who = request.requester
    requester_parts = []
    if who.telegram_name or who.telegram_user_id:
        # The id in <code>: one tap copies it (to look the person up, or for the command line).
        requester_parts.append(t("tg-card-telegram", name=piece(who.telegram_name or "", CAP_NAME),
                                 user_id=who.telegram_user_id or 0, has_id="yes" if who.telegram_user_id else "no"))
    if who.email:
        requester_parts.append(piece(who.email, CAP_EMAIL))
    if who.phone:
        requester_parts.append(piece(who.phone, CAP_PHONE))
    lines = [
        t("tg-card-title", id=request.id, type=t("request-type", type=request.type.value)),
        t("tg-card-channel", channel=request.channel.value,
          language=t("tg-card-language", code=request.lang)),
        t("tg-card-requester", requester=", ".join(requester_parts) or "—"),
        t("tg-card-verification", method=t("verification-method", method=request.verification_method.value),
          phone=1 if request.flags.get("phone_unverified") else 0),
    ]
    if request.flags.get("confirmation_auth_failed"):
        lines.append(t("tg-card-auth-warning", confirmation="yes"))
    elif request.flags.get("auth_failed") and not request.is_verified:
        lines.append(t("tg-card-auth-warning", confirmation="no"))
    if request.details:
        lines.append(t("tg-card-details", details=piece(request.details, CAP_DETAILS)))
    for item in request.corrections[:MAX_SHOWN_CORRECTIONS]:
        lines.append(t("tg-card-correction", field=piece(item.field, CAP_FIELD),
                       current=piece(item.current, CAP_VALUE), wanted=piece(item.wanted, CAP_VALUE)))
    if len(request.corrections) > MAX_SHOWN_CORRECTIONS:
        lines.append(t("tg-card-corrections-more", count=len(request.corrections) - MAX_SHOWN_CORRECTIONS))
        piece.cut = True
    lines.append(t("tg-card-due", due=format_date(t.lang, request.effective_due_date)))
    lines.append(t("tg-card-status", status=t("request-status", status=request.status.value)))
    if request.decided_by:
        decided_at = format_datetime(t.lang, request.decided_at) if request.decided_at else ""
        lines.append(t("tg-card-decided", by=piece(request.decided_by, CAP_ACTOR), at=decided_at))
    if request.decision_reason:
        lines.append(t("tg-card-reason", reason=piece(request.decision_reason, CAP_REASON)))
    if request.info_question:
        lines.append(t("tg-card-question", question=piece(request.info_question, CAP_QUESTION)))
    if request.duplicate_of:
        lines.append(t("tg-card-duplicate", id=request.duplicate_of))
    if piece.cut:
        lines.append(t("tg-card-shortened", id=request.id))
    return "\n".join(lines)


def render_summary(t: Texts, data: Mapping[str, Any]) -> str:
    """What the person is about to send (the flow's data), for them to confirm."""
    return fit_message(lambda piece: _summary(t, data, piece))


def _summary(t: Texts, data: Mapping[str, Any], piece: Pieces) -> str:
    lines = [t("tg-summary-title"), t("tg-summary-type", type=t("request-type", type=data["type"]))]
    if data.get("details"):
        lines.append(t("tg-summary-details", details=piece(data["details"], CAP_DETAILS)))
    for item in data.get("corrections", [])[:MAX_SHOWN_CORRECTIONS]:
        lines.append(t("tg-summary-correction", field=piece(item["field"], CAP_FIELD),
                       current=piece(item["current"], CAP_VALUE), wanted=piece(item["wanted"], CAP_VALUE)))
    if data.get("email"):
        lines.append(t("tg-summary-email", email=piece(data["email"], CAP_EMAIL)))
    if data.get("phone"):
        lines.append(t("tg-summary-phone", phone=piece(data["phone"], CAP_PHONE)))
    return "\n".join(lines)


def render_destruction_picker(t: Texts, draft: DestructionDraft, config: DestructionConfig) -> str:
    """The post on which staff choose what a deletion destroyed: the step, what is chosen so far."""
    step = draft.step
    lines = [t("tg-destruction-title", id=draft.request_id, step=1 if step == "categories" else 2),
             t(f"tg-destruction-step-{step}", method=esc(config.method.get(t.lang))), ""]
    lines += _chosen_lines(t, config, draft.categories, draft.systems)
    return fit_message(lambda piece: "\n".join(lines))


def render_destruction_done(t: Texts, request_id: str, by: str, destruction: Destruction) -> str:
    lines = [t("tg-destruction-done", id=request_id, by=shown(by, CAP_ACTOR))]
    lines += [t("tg-destruction-chosen", kind=kind, items=esc("; ".join(destruction.labels(kind, t.lang))))
              for kind in KINDS]
    return fit_message(lambda piece: "\n".join(lines))


def _chosen_lines(t: Texts, config: DestructionConfig, categories: tuple[str, ...],
                  systems: tuple[str, ...]) -> list[str]:
    lines = []
    for kind, chosen in zip(KINDS, (categories, systems), strict=True):
        labels = [c.get(t.lang) for c in config.choices(kind) if c.id in chosen]  # in the configured order
        lines.append(t("tg-destruction-chosen", kind=kind, items=esc("; ".join(labels)) or "—"))
    return lines
