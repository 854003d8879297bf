"""Errors of the request core; each message is one line fit to show staff."""

from __future__ import annotations

from datetime import datetime


class RequestError(Exception):
    """Base of every refusal by the request core."""


class RequestNotFound(RequestError):
    def __init__(self, request_id: str) -> None:
        super().__init__(f"request {request_id} not found")
        self.request_id = request_id


class IllegalTransition(RequestError):
    def __init__(self, request_id: str, current: str, target: str) -> None:
        super().__init__(f"request {request_id} is {current}: it cannot become {target}")
        self.request_id = request_id
        self.current = current
        self.target = target


class AlreadyDecided(IllegalTransition):
    """Someone else decided first (two staff acting at once); says who and when."""

    def __init__(self, request_id: str, status: str, target: str, decided_by: str | None,
                 decided_at: datetime | None) -> None:
        RequestError.__init__(
            self, f"request {request_id} was already decided: {status} by {decided_by or 'unknown'}"
                  f"{' at ' + decided_at.isoformat(timespec='seconds') if decided_at else ''}")
        self.request_id = request_id
        self.current = status
        self.target = target
        self.status = status
        self.decided_by = decided_by
        self.decided_at = decided_at


class TooManyOpenRequests(RequestError):
    def __init__(self, limit: int, open_ids: list[str]) -> None:
        super().__init__(f"the requester already has {len(open_ids)} open requests (limit {limit}): "
                         + ", ".join(open_ids))
        self.limit = limit
        self.open_ids = open_ids


class MissingReason(RequestError):
    def __init__(self, what: str = "reason") -> None:
        super().__init__(f"a {what} is required")
        self.what = what


class CannotExtend(RequestError):
    """Only an open access request may be extended, and only once."""

    def __init__(self, request_id: str, why: str) -> None:
        super().__init__(f"request {request_id} cannot be extended: {why}")
        self.request_id = request_id


class UnknownChoice(RequestError):
    """A category or an information system that is not in the configured list ([destruction])."""

    def __init__(self, kind: str, value: str, known: list[str]) -> None:
        super().__init__(f"unknown {kind} {value!r} (known: {', '.join(known)})")
        self.kind = kind  # "categories" or "systems"
        self.value = value
        self.known = known


class DestructionRequired(RequestError):
    """A deletion is completed only with the categories of data destroyed and the systems they were in."""

    def __init__(self, request_id: str, kind: str, known: list[str]) -> None:
        super().__init__(f"request {request_id} is a deletion: choose its {kind} ({', '.join(known)})")
        self.request_id = request_id
        self.kind = kind
        self.known = known


class DestructionNotApplicable(RequestError):
    """Categories and systems destroyed belong to a deletion, not to another type of request."""

    def __init__(self, request_id: str, type: str) -> None:
        super().__init__(f"request {request_id} is not a deletion ({type}): nothing destroyed to record")
        self.request_id = request_id
        self.type = type
