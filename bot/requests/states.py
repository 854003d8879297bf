"""The one table of what may be done to a request in each status. Anything not listed here is refused.

``ACTIONS`` lists, per status, the actions allowed in it; ``RESULT`` says which status each action leads
to. Everything else is derived: the status changes (``TRANSITIONS``), the closed statuses, and what staff
are offered (``staff_actions``): the Telegram card's buttons, the staff chat's checks and the command
line's decisions all read it from here, so no channel keeps a list of its own.
"""

from __future__ import annotations

from enum import StrEnum

from bot.requests.errors import IllegalTransition
from bot.requests.models import RequestStatus as S


class Action(StrEnum):
    VERIFY = "verify"  # the requester proved who they are (a code, a reply), or staff checked it
    APPROVE = "approve"
    REJECT = "reject"
    NEED_INFO = "need_info"  # staff ask the requester a question
    PROVIDE_INFO = "provide_info"  # the requester answers it
    COMPLETE = "complete"  # staff carried the request out
    CANCEL = "cancel"  # the requester withdrew (or, unverified, was never confirmed)
    CLOSE_DUPLICATE = "close_duplicate"  # confirmed, and found to repeat an open request
    EXPIRE = "expire"  # nobody confirmed or answered in time


RESULT: dict[Action, S] = {
    Action.VERIFY: S.PENDING_REVIEW,
    Action.APPROVE: S.APPROVED,
    Action.REJECT: S.REJECTED,
    Action.NEED_INFO: S.NEEDS_INFO,
    Action.PROVIDE_INFO: S.PENDING_REVIEW,
    Action.COMPLETE: S.COMPLETED,
    Action.CANCEL: S.CANCELLED,
    Action.CLOSE_DUPLICATE: S.CANCELLED,
    Action.EXPIRE: S.EXPIRED,
}

A = Action
ACTIONS: dict[S, tuple[Action, ...]] = {
    S.AWAITING_VERIFICATION: (A.VERIFY, A.CANCEL, A.CLOSE_DUPLICATE, A.EXPIRE),
    S.PENDING_REVIEW: (A.APPROVE, A.REJECT, A.NEED_INFO, A.CANCEL),
    # Asking a question does not tie staff's hands: they may still decide without the answer.
    S.NEEDS_INFO: (A.APPROVE, A.REJECT, A.PROVIDE_INFO, A.CANCEL, A.EXPIRE),
    # The requester may still withdraw an approved request before staff carry it out.
    S.APPROVED: (A.COMPLETE, A.CANCEL),
    S.REJECTED: (),
    S.COMPLETED: (),
    S.CANCELLED: (),
    S.EXPIRED: (),
}

# What staff decide (in the staff chat, on the command line), in the order they are offered. The others
# are the requester's (provide_info) or the system's (close_duplicate, expire).
STAFF_ACTIONS: tuple[Action, ...] = (A.VERIFY, A.APPROVE, A.REJECT, A.NEED_INFO, A.COMPLETE, A.CANCEL)

TRANSITIONS: dict[S, frozenset[S]] = {status: frozenset(RESULT[a] for a in actions)
                                      for status, actions in ACTIONS.items()}

TERMINAL: frozenset[S] = frozenset(status for status, targets in TRANSITIONS.items() if not targets)


def allows(status: S, action: Action) -> bool:
    return action in ACTIONS[status]


def staff_actions(status: S) -> tuple[Action, ...]:
    """What staff may do to a request in ``status``, in the order they are offered."""
    return tuple(a for a in STAFF_ACTIONS if a in ACTIONS[status])


def staff_statuses(action: Action) -> tuple[S, ...]:
    """The statuses in which staff may take ``action``."""
    return tuple(status for status in S if allows(status, action))


def can_transition(current: S, target: S) -> bool:
    return target in TRANSITIONS[current]


def check_transition(current: S, target: S, request_id: str = "") -> None:
    """Raise IllegalTransition unless some action leads from ``current`` to ``target``."""
    if not can_transition(current, target):
        raise IllegalTransition(request_id, current, target)
