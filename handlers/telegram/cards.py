"""The staff-chat card of a request: everything staff need to decide, with who acted and when."""

from __future__ import annotations

from bot.requests.models import PrivacyRequest
from handlers.telegram.texts import Texts, esc


def render_card(t: Texts, request: PrivacyRequest) -> str:
    who = request.requester
    requester_parts = []
    if who.telegram_name or who.telegram_user_id:
        requester_parts.append(t("tg-card-telegram", name=esc(who.telegram_name or ""),
                                 user_id=who.telegram_user_id or 0))
    if who.email:
        requester_parts.append(esc(who.email))
    if who.phone:
        requester_parts.append(esc(who.phone))
    lines = [
        t("tg-card-title", id=request.id, type=t("request-type", type=request.type.value)),
        t("tg-card-channel", channel=request.channel.value, language=request.lang),
        t("tg-card-requester", requester=", ".join(requester_parts) or "—"),
        t("tg-card-verification", method=request.verification_method.value,
          phone=1 if request.flags.get("phone_unverified") else 0),
    ]
    if request.flags.get("confirmation_auth_failed"):
        lines.append(t("tg-card-auth-warning", confirmation="yes"))
    elif request.flags.get("auth_failed") and not request.is_verified:
        lines.append(t("tg-card-auth-warning", confirmation="no"))
    if request.details:
        lines.append(t("tg-card-details", details=esc(request.details[:1500])))
    for item in request.corrections:
        lines.append(t("tg-card-correction", field=esc(item.field), current=esc(item.current),
                       wanted=esc(item.wanted)))
    lines.append(t("tg-card-due", due=request.effective_due_date.isoformat()))
    lines.append(t("tg-card-status", status=t("request-status", status=request.status.value)))
    if request.decided_by:
        decided_at = request.decided_at.strftime("%Y-%m-%d %H:%M UTC") if request.decided_at else ""
        lines.append(t("tg-card-decided", by=esc(request.decided_by), at=decided_at))
    if request.decision_reason:
        lines.append(t("tg-card-reason", reason=esc(request.decision_reason)))
    if request.info_question:
        lines.append(t("tg-card-question", question=esc(request.info_question)))
    if request.duplicate_of:
        lines.append(t("tg-card-duplicate", id=request.duplicate_of))
    return "\n".join(lines)
