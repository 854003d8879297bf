"""Every transition, allowed and refused, through the service: refusals change nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.requests.errors import AlreadyDecided, IllegalTransition
from bot.requests.models import OPEN_STATUSES, RequestStatus, VerificationMethod
from bot.requests.service import RequestService
from bot.requests.states import TERMINAL, TRANSITIONS, check_transition
from bot.storage.db import Database

S = RequestStatus

EXPECTED = {
    S.AWAITING_VERIFICATION: {S.PENDING_REVIEW, S.CANCELLED, S.EXPIRED},
    S.PENDING_REVIEW: {S.APPROVED, S.REJECTED, S.NEEDS_INFO, S.CANCELLED},
    S.NEEDS_INFO: {S.PENDING_REVIEW, S.APPROVED, S.REJECTED, S.CANCELLED, S.EXPIRED},
    S.APPROVED: {S.COMPLETED, S.CANCELLED},
    S.REJECTED: set(), S.COMPLETED: set(), S.CANCELLED: set(), S.EXPIRED: set(),
}


DESTROYED: dict[str, Any] = {"categories": ["contacts"], "systems": ["crm"]}  # a deletion names what it destroyed


def test_table_is_exactly_the_declared_one() -> None:
    assert set(TRANSITIONS) == set(S)
    assert {k: set(v) for k, v in TRANSITIONS.items()} == EXPECTED
    assert TERMINAL == {S.REJECTED, S.COMPLETED, S.CANCELLED, S.EXPIRED}
    assert OPEN_STATUSES == {S.AWAITING_VERIFICATION, S.PENDING_REVIEW, S.NEEDS_INFO, S.APPROVED}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_check_transition(current: S, target: S) -> None:
    if target in EXPECTED[current]:
        check_transition(current, target)
    else:
        with pytest.raises(IllegalTransition):
            check_transition(current, target, "PR-1")


async def _reach(service: RequestService, create: Callable[..., Any], status: S) -> str:
    """A fresh request in ``status``, reached along allowed transitions."""
    verified = None if status in (S.AWAITING_VERIFICATION, S.EXPIRED) else VerificationMethod.EMAIL_CODE
    request = (await create(verified=verified)).request
    rid = request.id
    if status is S.EXPIRED:
        await service.expire(rid)
    elif status is S.NEEDS_INFO:
        await service.need_info(rid, "staff:a", "Which site?")
    elif status is S.APPROVED:
        await service.approve(rid, "staff:a")
    elif status is S.REJECTED:
        await service.reject(rid, "staff:a", "not the owner")
    elif status is S.COMPLETED:
        await service.approve(rid, "staff:a")
        await service.complete(rid, "staff:a", **DESTROYED)
    elif status is S.CANCELLED:
        await service.cancel(rid, "requester")
    assert (await service.get(rid)).status is status
    return rid


async def _act(service: RequestService, rid: str, current: S, target: S) -> Any:
    if target is S.PENDING_REVIEW:
        if current is S.NEEDS_INFO:
            return await service.provide_info(rid, "the site is example.ru", "requester")
        return await service.verify(rid, VerificationMethod.EMAIL_CODE, "requester")
    actions = {
        S.APPROVED: lambda: service.approve(rid, "staff:b"),
        S.REJECTED: lambda: service.reject(rid, "staff:b", "duplicate of another request"),
        S.NEEDS_INFO: lambda: service.need_info(rid, "staff:b", "Which email did you use?"),
        S.COMPLETED: lambda: service.complete(rid, "staff:b", **DESTROYED),
        S.CANCELLED: lambda: service.cancel(rid, "staff:b"),
        S.EXPIRED: lambda: service.expire(rid),
        S.AWAITING_VERIFICATION: None,
    }
    action = actions[target]
    if action is None:
        raise IllegalTransition(rid, current.value, target.value)  # no action leads back to the start
    return await action()


async def _snapshot(db: Database, rid: str) -> tuple[Any, ...]:
    async with db.conn.execute("SELECT * FROM requests WHERE id = ?", (rid,)) as cur:
        row = tuple(await cur.fetchone() or ())
    async with db.conn.execute("SELECT COUNT(*) FROM request_audit WHERE request_id = ?", (rid,)) as cur:
        audit = (await cur.fetchone() or (0,))[0]
    async with db.conn.execute("SELECT COUNT(*) FROM outbox") as cur:
        out = (await cur.fetchone() or (0,))[0]
    async with db.conn.execute("SELECT COUNT(*) FROM request_messages") as cur:
        messages = (await cur.fetchone() or (0,))[0]
    return row, audit, out, messages


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", [t for t in S if t is not S.AWAITING_VERIFICATION])
async def test_transition_through_service(service: RequestService, db: Database, create: Callable[..., Any],
                                          current: S, target: S) -> None:
    rid = await _reach(service, create, current)
    before = await _snapshot(db, rid)
    if target in EXPECTED[current]:
        updated = await _act(service, rid, current, target)
        assert updated.status is target
        assert (await service.get(rid)).status is target
        events = await service.audit_events(rid)
        assert any(e.event == "status_changed" and e.details == {**e.details, "from": current.value,
                                                                   "to": target.value} for e in events)
        if target in TERMINAL:
            assert updated.closed_at is not None
    else:
        with pytest.raises(IllegalTransition) as caught:
            await _act(service, rid, current, target)
        assert rid in str(caught.value)
        if current in TERMINAL or current in (S.APPROVED, S.NEEDS_INFO):
            assert isinstance(caught.value, AlreadyDecided)
            assert caught.value.decided_by  # names who decided
        assert await _snapshot(db, rid) == before, "a refused transition changed something"


async def test_verify_is_not_an_answer_and_answer_is_not_verification(
        service: RequestService, create: Callable[..., Any]) -> None:
    waiting = (await create(verified=None)).request.id
    with pytest.raises(IllegalTransition):
        await service.provide_info(waiting, "hello", "requester")
    asked = (await create()).request.id
    await service.need_info(asked, "staff:a", "Which site?")
    with pytest.raises(IllegalTransition):
        await service.verify(asked, VerificationMethod.EMAIL_CODE, "requester")
    assert (await service.get(waiting)).status is S.AWAITING_VERIFICATION
    assert (await service.get(asked)).status is S.NEEDS_INFO
