"""The audit trail of privacy requests: every event appended with time, actor and details.

The trail is append-only (triggers refuse UPDATE, DELETE and REPLACE), so retention could never remove
personal data from it: it must never hold any. ``append`` enforces that: the actor is a role ("system",
"requester", a channel name) or a staff member, never a person's Telegram id or address; details use known
keys with short values (no free text: a reason or a question is kept with the request, which retention
redacts, and the trail records only its length).

Staff decisions on the questions the engine learns from (bot/learning.py) have a trail of their own
(``learning_audit``, migration 0006), append-only and checked by the same rules: which section, never the
question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.storage import audit_repo, learning_repo
from bot.storage.timefmt import utcnow

SYSTEM = "system"
REQUESTER = "requester"
# A role or channel ("email" acting on mail it received), or "staff:<who>".
MAX_STAFF_ACTOR = 200
_ACTOR = re.compile(rf"^(?:[a-z_]{{1,20}}|staff:[^\n]{{1,{MAX_STAFF_ACTOR - len('staff:')}}})$")
DETAIL_KEYS = frozenset({
    "type", "channel", "status", "due_date", "received_at", "method", "details_length", "length",
    "from", "to", "reason_length", "why", "flags", "what", "kind", "outbox_id", "confirmed_after_restart",
    "error", "overdue", "due", "closed_at", "retention_days", "channel_copies", "security_event",
    "section", "lang", "categories", "systems",
})
MAX_DETAIL_CHARS = 64


class AuditDetailsRefused(ValueError):
    """Something that could be personal data was about to enter the append-only trail."""


def _check(actor: str, details: dict[str, Any]) -> None:
    if not _ACTOR.match(actor):
        raise AuditDetailsRefused(f"audit actor {actor[:20]!r}... is not a role or a staff member")
    for key, value in details.items():
        if key not in DETAIL_KEYS:
            raise AuditDetailsRefused(f"audit detail {key!r} is not a known key")
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if isinstance(item, str) and len(item) > MAX_DETAIL_CHARS:
                raise AuditDetailsRefused(f"audit detail {key!r} is free text ({len(item)} characters)")
            if isinstance(item, dict):
                raise AuditDetailsRefused(f"audit detail {key!r} is a mapping")


def staff_actor(name: str) -> str:
    return name if name.startswith("staff:") else f"staff:{name}"


@dataclass(frozen=True)
class AuditEvent:
    id: int
    request_id: str
    at: datetime
    event: str  # created, verified, status_changed, message_sent, message_failed, export, redacted...
    actor: str  # "system", "requester", "staff:<id or name>"
    details: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "request_id": self.request_id, "at": self.at.isoformat(), "event": self.event,
                "actor": self.actor, "details": self.details}

    def details_text(self) -> str:
        """``from=approved, systems=[crm, mail], to=completed``: the details on one line, for people."""
        def shown(value: Any) -> str:
            return f"[{', '.join(map(str, value))}]" if isinstance(value, list | tuple) else str(value)

        return ", ".join(f"{k}={shown(v)}" for k, v in sorted(self.details.items()))


class AuditLog:
    async def append(self, conn: aiosqlite.Connection, request_id: str, event: str, actor: str,
                     details: dict[str, Any] | None = None, at: datetime | None = None) -> int:
        """Append one event inside the caller's transaction."""
        details = details or {}
        if actor.startswith("staff:"):
            actor = actor[:MAX_STAFF_ACTOR]  # a staff member's name as Telegram or the CLI gave it
        _check(actor, details)
        return await audit_repo.append(conn, request_id, event, actor, details, at or utcnow())

    async def events(self, conn: aiosqlite.Connection, request_id: str) -> list[AuditEvent]:
        return [AuditEvent(id=i, request_id=request_id, at=at, event=ev, actor=actor, details=det)
                for i, at, ev, actor, det in await audit_repo.for_request(conn, request_id)]

    # Staff decisions on questions the engine learns from (bot/learning.py): a trail of their own, under
    # the same rules, since they belong to no request.
    async def append_learning(self, conn: aiosqlite.Connection, question_id: int, event: str, actor: str,
                              details: dict[str, Any] | None = None, at: datetime | None = None) -> int:
        details = details or {}
        if actor.startswith("staff:"):
            actor = actor[:MAX_STAFF_ACTOR]
        _check(actor, details)
        return await learning_repo.append_audit(conn, question_id, event, actor, details, at or utcnow())

    async def learning_events(self, conn: aiosqlite.Connection, question_id: int) -> list[AuditEvent]:
        return [AuditEvent(id=i, request_id=f"learning:{question_id}", at=at, event=ev, actor=actor, details=det)
                for i, at, ev, actor, det in await learning_repo.audit_for(conn, question_id)]
