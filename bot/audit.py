"""The audit trail of privacy requests: every event appended with time, actor and details.

Details must not carry the requester's personal data (message bodies, addresses): the trail is
append-only, so retention could not remove it later. Reasons written by staff are kept as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.storage import audit_repo
from bot.storage.timefmt import utcnow

SYSTEM = "system"
REQUESTER = "requester"


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


class AuditLog:
    async def append(self, conn: aiosqlite.Connection, request_id: str, event: str, actor: str,
                     details: dict[str, Any] | None = None, at: datetime | None = None) -> int:
        """Append one event inside the caller's transaction."""
        return await audit_repo.append(conn, request_id, event, actor, details or {}, at or utcnow())

    async def events(self, conn: aiosqlite.Connection, request_id: str) -> list[AuditEvent]:
        return [AuditEvent(id=i, request_id=request_id, at=at, event=ev, actor=actor, details=det)
                for i, at, ev, actor, det in await audit_repo.for_request(conn, request_id)]
