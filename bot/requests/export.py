"""Register export (CSV/JSON, one row per request) and the destruction act (Roskomnadzor order 179)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from bot.audit import AuditEvent
from bot.i18n import Translator
from bot.requests.models import PrivacyRequest, RequestStatus, RequestType

EXPORT_COLUMNS = ("id", "type", "channel", "received", "due", "extended_due", "status", "decided_by",
                  "decided_at", "reason", "completed")


def export_row(request: PrivacyRequest) -> dict[str, Any]:
    def iso(value: Any) -> str:
        return value.isoformat() if value is not None else ""

    return {
        "id": request.id, "type": request.type.value, "channel": request.channel.value,
        "received": iso(request.received_at),
        # the statutory date computed at intake (working days, decreed transfers), never a guess
        "due": request.due_date.isoformat(), "extended_due": iso(request.extended_due_date),
        "status": request.status.value, "decided_by": request.decided_by or "",
        "decided_at": iso(request.decided_at),
        "reason": request.decision_reason or request.extension_reason or "",
        "completed": iso(request.completed_at),
    }


def to_csv(requests: Sequence[PrivacyRequest]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for request in requests:
        writer.writerow(export_row(request))
    return buffer.getvalue()


def to_json(requests: Sequence[PrivacyRequest]) -> str:
    return json.dumps([export_row(r) for r in requests], ensure_ascii=False, indent=2)


def is_actable(request: PrivacyRequest) -> bool:
    return request.type is RequestType.DELETION and request.status is RequestStatus.COMPLETED


def destruction_act(request: PrivacyRequest, events: Sequence[AuditEvent], translator: Translator,
                    lang: str = "ru") -> str:
    """The act of destruction with the extract of the request's event log, ready to print."""
    unknown = translator(lang, "act-unknown")
    who = request.requester
    subject_parts = [p for p in (who.telegram_name, who.email, who.phone,
                                 f"Telegram id {who.telegram_user_id}" if who.telegram_user_id else None) if p]
    if not subject_parts and request.requester_pseudonym:
        subject_parts.append(f"pseudonym {request.requester_pseudonym[:16]}")
    completed_by = next((e.actor for e in reversed(events)
                         if e.event == "status_changed" and e.details.get("to") == "completed"), None)

    def fmt(moment: Any) -> str:
        return moment.strftime("%d.%m.%Y %H:%M UTC") if moment is not None else unknown

    lines = [
        translator(lang, "act-title", id=request.id), "",
        translator(lang, "act-body", operator=translator(lang, "act-operator"),
                   subject=", ".join(subject_parts) or unknown, id=request.id,
                   received=fmt(request.received_at),
                   channel_name=translator(lang, "request-channel", channel=request.channel.value),
                   details=request.details or unknown, completed=fmt(request.completed_at),
                   decided_by=request.decided_by or unknown, completed_by=completed_by or unknown),
        "", translator(lang, "act-events-title", id=request.id),
    ]
    for event in events:
        details = ", ".join(f"{k}={v}" for k, v in sorted(event.details.items()))
        lines.append(translator(lang, "act-event-line", at=event.at.strftime("%Y-%m-%d %H:%M:%S"),
                                event=event.event, actor=event.actor, details=details))
    lines += ["", translator(lang, "act-signatures")]
    return "\n".join(lines) + "\n"
