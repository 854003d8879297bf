"""The one table of allowed status changes. Anything not listed here is refused."""

from __future__ import annotations

from bot.requests.errors import IllegalTransition
from bot.requests.models import RequestStatus as S

TRANSITIONS: dict[S, frozenset[S]] = {
    S.AWAITING_VERIFICATION: frozenset({S.PENDING_REVIEW, S.CANCELLED, S.EXPIRED}),
    S.PENDING_REVIEW: frozenset({S.APPROVED, S.REJECTED, S.NEEDS_INFO, S.CANCELLED}),
    S.NEEDS_INFO: frozenset({S.PENDING_REVIEW, S.REJECTED, S.CANCELLED, S.EXPIRED}),
    # The requester may still withdraw an approved request before staff carry it out.
    S.APPROVED: frozenset({S.COMPLETED, S.CANCELLED}),
    S.REJECTED: frozenset(),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
}

TERMINAL: frozenset[S] = frozenset(status for status, targets in TRANSITIONS.items() if not targets)


def can_transition(current: S, target: S) -> bool:
    return target in TRANSITIONS[current]


def check_transition(current: S, target: S, request_id: str = "") -> None:
    """Raise IllegalTransition unless ``current -> target`` is in TRANSITIONS."""
    if not can_transition(current, target):
        raise IllegalTransition(request_id, current, target)
