"""Register export (CSV/JSON, one row per request) and the destruction act (Roskomnadzor order 179)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.audit import AuditEvent
from bot.i18n import Translator
from bot.requests.destruction import Destruction, Kind
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


def destruction_act(request: PrivacyRequest, events: Sequence[AuditEvent], destruction: Destruction | None,
                    translator: Translator, lang: str, *, operator: str, timezone: str) -> str:
    """The act of destruction (Roskomnadzor order 179 of 2022, item 3): the operator, the data subject,
    the categories of personal data destroyed, the information systems, the method, the reason, who
    decided and who carried it out, the date (in ``timezone``, Moscow time by default), and the extract of
    the request's event log; plain text, ready to print. A deletion completed before categories and
    systems were asked for says they were not recorded."""
    unknown = translator(lang, "act-unknown")
    zone = ZoneInfo(timezone)
    zone_name = translator(lang, "act-zone", zone=timezone, moscow="yes" if timezone == "Europe/Moscow" else "no")
    who = request.requester
    subject_parts = [p for p in (who.telegram_name, who.email, who.phone,
                                 f"Telegram id {who.telegram_user_id}" if who.telegram_user_id else None) if p]
    if not subject_parts and request.requester_pseudonym:
        subject_parts.append(f"pseudonym {request.requester_pseudonym[:16]}")
    completed_by = next((e.actor for e in reversed(events)
                         if e.event == "status_changed" and e.details.get("to") == "completed"), None)

    def when(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%d.%m.%Y %H:%M") if moment is not None else unknown

    def listed(kind: Kind) -> str:
        return "; ".join(destruction.labels(kind, lang)) if destruction else unknown

    lines = [
        translator(lang, "act-title", id=request.id), "",
        translator(lang, "act-body", operator=operator, subject=", ".join(subject_parts) or unknown,
                   categories=listed("categories"), systems=listed("systems"),
                   method=destruction.method_label(lang) if destruction else unknown,
                   id=request.id, received=when(request.received_at),
                   channel_name=translator(lang, "request-channel", channel=request.channel.value),
                   details=request.details or unknown, completed=when(request.completed_at), zone=zone_name,
                   decided_by=_person(request.decided_by) or unknown,
                   completed_by=_person(completed_by) or unknown),
        "", translator(lang, "act-events-title", id=request.id, zone=zone_name),
    ]
    for event in events:
        lines.append(translator(lang, "act-event-line", at=event.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
                                event=event.event, actor=event.actor, details=event.details_text()))
    lines += ["", translator(lang, "act-signatures", completed_by=_person(completed_by) or "")]
    return "\n".join(lines) + "\n"


def _person(actor: str | None) -> str | None:
    """A staff member as the act names them: the name as given (Telegram adds "(tg:ID)"), without the
    trail's "staff:" role prefix; printed as typed, the act being plain text."""
    if not actor:
        return None
    return actor.removeprefix("staff:")
