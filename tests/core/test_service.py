"""RequestService: intake, duplicates, limits, notifications written with the change, reminders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.config import Config
from bot.requests.errors import CannotExtend, MissingReason, RequestNotFound, TooManyOpenRequests
from bot.requests.models import (
    Channel,
    CorrectionItem,
    Requester,
    RequestStatus,
    RequestType,
    VerificationMethod,
)
from bot.requests.service import RequestService
from bot.storage.db import Database
from tests.core.conftest import outbox_rows

S = RequestStatus


async def test_verified_intake_starts_in_review_and_notifies(service: RequestService, db: Database,
                                                             create: Callable[..., Any]) -> None:
    result = await create(type=RequestType.ACCESS, lang="en")
    request = result.request
    assert result.duplicate_of is None
    assert request.id == "PR-2026-0001"
    assert request.status is S.PENDING_REVIEW
    assert request.verified_at is not None
    assert request.due_date == date(2026, 3, 17)  # 10 working days after Monday 2 March; 9 March is off
    rows = await outbox_rows(db)
    assert [(r["channel"], r["kind"]) for r in rows] == [("telegram", "request.created"),
                                                         ("staff", "staff.request_created")]
    assert rows[0]["recipient"] == str(request.requester.telegram_chat_id)
    assert rows[0]["payload"]["lang"] == "en"
    assert "PR-2026-0001" in rows[0]["payload"]["text"] and "2026-03-17" in rows[0]["payload"]["text"]
    assert rows[1]["payload"] == {"request_id": "PR-2026-0001", "kind": "staff.request_created",
                                  "text": rows[1]["payload"]["text"]}
    assert [e.event for e in await service.audit_events(request.id)] == ["created", "verified"]


async def test_unverified_intake_waits_and_sends_nothing_until_verified(
        service: RequestService, db: Database, create: Callable[..., Any]) -> None:
    request = (await create(channel=Channel.EMAIL, verified=None,
                            requester=Requester(email="Someone@Example.RU"), thread_ref="<m1@x>")).request
    assert request.status is S.AWAITING_VERIFICATION
    assert request.requester.email == "someone@example.ru"
    assert await outbox_rows(db) == []
    verified = await service.verify(request.id, VerificationMethod.EMAIL_REPLY, "requester")
    assert verified.status is S.PENDING_REVIEW and verified.verified_at is not None
    rows = await outbox_rows(db)
    assert [(r["channel"], r["recipient"], r["kind"]) for r in rows] == [
        ("email", "someone@example.ru", "request.created"), ("staff", "", "staff.request_created")]
    assert rows[0]["payload"]["reply_to"] == "<m1@x>"
    assert "Ваш запрос" in rows[0]["payload"]["subject"]


async def test_numbers_are_sequential_per_year(create: Callable[..., Any]) -> None:
    first = (await create()).request
    second = (await create()).request
    old = (await create(received_at=datetime(2025, 12, 31, 20, 0, tzinfo=UTC))).request  # 23:00 in Moscow
    new_year = (await create(received_at=datetime(2025, 12, 31, 21, 30, tzinfo=UTC))).request  # 00:30 1 Jan
    assert [first.id, second.id, old.id, new_year.id] == ["PR-2026-0001", "PR-2026-0002", "PR-2025-0001",
                                                          "PR-2026-0003"]


async def test_duplicate_of_open_request_is_linked(service: RequestService, db: Database,
                                                   create: Callable[..., Any]) -> None:
    who = Requester(telegram_user_id=77, telegram_chat_id=77, email="a@b.ru")
    first = (await create(requester=who)).request
    again = await create(requester=Requester(email="A@B.RU"), channel=Channel.EMAIL,
                         details="also the newsletter subscription")
    assert again.duplicate_of == first.id and again.request.id == first.id
    assert [m["body"] for m in await service.messages(first.id)] == ["also the newsletter subscription"]
    async with db.conn.execute("SELECT COUNT(*) FROM requests") as cur:
        assert (await cur.fetchone())[0] == 1
    assert "duplicate_linked" in [e.event for e in await service.audit_events(first.id)]
    kinds = [r["kind"] for r in await outbox_rows(db)]
    assert kinds.count("request.duplicate") == 1
    # another type is not a duplicate; a closed request is no obstacle
    other = (await create(requester=who, type=RequestType.ACCESS)).request
    assert other.id != first.id
    await service.reject(first.id, "staff:a", "not ours")
    fresh = await create(requester=who)
    assert fresh.duplicate_of is None and fresh.request.id not in (first.id, other.id)


async def test_open_request_limit(make_config: Callable[..., Config], db: Database) -> None:
    config = make_config({"PRIVACY_BOT__REQUESTS__MAX_OPEN_PER_REQUESTER": "2"})
    service = RequestService(db, config)
    who = Requester(phone="+7 (916) 123-45-67")
    same_phone = Requester(phone="8 916 1234567")
    for type_ in (RequestType.ACCESS, RequestType.DELETION):
        await service.create(type=type_, channel=Channel.MANUAL, lang="ru", requester=who,
                             verified=VerificationMethod.STAFF, actor="staff:a")
    with pytest.raises(TooManyOpenRequests) as caught:
        await service.create(type=RequestType.CORRECTION, channel=Channel.MANUAL, lang="ru", requester=same_phone,
                             verified=VerificationMethod.STAFF, actor="staff:a")
    assert len(caught.value.open_ids) == 2
    async with db.conn.execute("SELECT COUNT(*) FROM requests") as cur:
        assert (await cur.fetchone())[0] == 2


async def test_phone_only_requester_is_flagged_until_staff_verify(service: RequestService,
                                                                  create: Callable[..., Any]) -> None:
    request = (await create(requester=Requester(phone="+79161234567"), channel=Channel.MANUAL,
                            verified=None)).request
    assert request.status is S.AWAITING_VERIFICATION
    assert request.flags == {"phone_unverified": True}
    assert request.verification_method is VerificationMethod.UNVERIFIED_PHONE
    with pytest.raises(ValueError):
        await service.verify(request.id, VerificationMethod.UNVERIFIED_PHONE, "staff:a")
    verified = await service.verify(request.id, VerificationMethod.STAFF, "staff:a")
    assert verified.status is S.PENDING_REVIEW
    events = await service.audit_events(request.id)
    assert "message_skipped" in [e.event for e in events]  # no channel to a phone-only requester


async def test_corrections_and_flags_round_trip(create: Callable[..., Any], service: RequestService) -> None:
    items = (CorrectionItem("phone", "+7 900 000-00-00", "+7 900 111-11-11"),
             CorrectionItem("surname", "Иванов", "Петров"))
    request = (await create(type=RequestType.CORRECTION, corrections=items,
                            flags={"third_party_mentioned": True, "auth_results": {"dkim": "pass"}})).request
    loaded = await service.get(request.id)
    assert loaded.corrections == items
    assert loaded.flags == {"third_party_mentioned": True, "auth_results": {"dkim": "pass"}}
    assert loaded.received_at == request.received_at and loaded.received_at.tzinfo is not None


async def test_decisions_render_in_the_requesters_language(service: RequestService, db: Database,
                                                           create: Callable[..., Any]) -> None:
    ru = (await create(lang="ru")).request
    en = (await create(lang="en")).request
    await service.reject(ru.id, "staff:a", "нет данных")
    await service.need_info(en.id, "staff:a", "Which site did you use?")
    rows = {r["kind"]: r for r in await outbox_rows(db) if r["channel"] == "telegram"}
    assert rows["request.rejected"]["payload"]["text"].startswith("Мы отклонили ваш запрос")
    assert "нет данных" in rows["request.rejected"]["payload"]["text"]
    assert "Which site did you use?" in rows["request.needs_info"]["payload"]["text"]
    assert rows["request.needs_info"]["payload"]["lang"] == "en"


async def test_provide_info_keeps_the_answer_out_of_the_audit_trail(service: RequestService, db: Database,
                                                                    create: Callable[..., Any]) -> None:
    request = (await create()).request
    await service.need_info(request.id, "staff:a", "Which site?")
    back = await service.provide_info(request.id, "shop.example.ru, my email ivan@example.ru", "requester")
    assert back.status is S.PENDING_REVIEW
    messages = await service.messages(request.id)
    assert [m["body"] for m in messages] == ["shop.example.ru, my email ivan@example.ru"]
    async with db.conn.execute("SELECT details FROM request_audit WHERE request_id = ?", (request.id,)) as cur:
        trail = " ".join(row[0] for row in await cur.fetchall())
    assert "ivan@example.ru" not in trail


async def test_reasons_are_required(service: RequestService, create: Callable[..., Any]) -> None:
    request = (await create(type=RequestType.ACCESS)).request
    for call in (lambda: service.reject(request.id, "staff:a", "  "),
                 lambda: service.need_info(request.id, "staff:a", ""),
                 lambda: service.extend(request.id, "staff:a", "")):
        with pytest.raises(MissingReason):
            await call()
    assert (await service.get(request.id)).status is S.PENDING_REVIEW


async def test_extension_only_for_access_and_only_once(service: RequestService, db: Database,
                                                       create: Callable[..., Any]) -> None:
    deletion = (await create()).request
    with pytest.raises(CannotExtend):
        await service.extend(deletion.id, "staff:a", "busy")
    access = (await create(type=RequestType.ACCESS)).request
    extended = await service.extend(access.id, "staff:a", "data in archives")
    assert extended.extended_due_date == date(2026, 3, 24)
    with pytest.raises(CannotExtend):
        await service.extend(access.id, "staff:a", "again")
    texts = [r["payload"]["text"] for r in await outbox_rows(db) if r["kind"] == "request.extended"]
    assert texts == ["Срок ответа по вашему запросу PR-2026-0002 продлён до 24.03.2026. Причина: data in archives"]


async def test_unknown_id(service: RequestService) -> None:
    with pytest.raises(RequestNotFound):
        await service.approve("PR-2026-9999", "staff:a")
    with pytest.raises(RequestNotFound):
        await service.get("nope")


async def test_lookups_queue_and_stats(service: RequestService, create: Callable[..., Any]) -> None:
    a = (await create(requester=Requester(telegram_user_id=5, telegram_chat_id=5))).request
    b = (await create(type=RequestType.ACCESS, requester=Requester(email="x@y.ru"), channel=Channel.EMAIL)).request
    c = (await create(type=RequestType.CORRECTION)).request
    await service.reject(c.id, "staff:a", "no")
    assert [r.id for r in await service.for_telegram_user(5)] == [a.id]
    assert [r.id for r in await service.for_email("X@Y.RU")] == [b.id]
    queue = await service.open_queue()
    assert [r.id for r in queue] == [b.id, a.id]  # access due 17 March, deletion 1 April
    assert [r.id for r in await service.list(status=S.REJECTED)] == [c.id]
    overdue = await service.list(overdue=True)  # received in March 2026; today is later
    assert {r.id for r in overdue} == {a.id, b.id}
    stats = await service.stats()
    assert stats.open == 2 and stats.overdue == 2 and stats.by_status["rejected"] == 1


async def test_failed_change_writes_no_outbox_message(service: RequestService, db: Database,
                                                      create: Callable[..., Any]) -> None:
    request = (await create()).request
    before = await outbox_rows(db)

    async def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    service.audit.append = boom  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        await service.approve(request.id, "staff:a")
    assert await outbox_rows(db) == before
    assert (await service.get(request.id)).status is S.PENDING_REVIEW


async def test_reminders_once_a_day(service: RequestService, db: Database, create: Callable[..., Any]) -> None:
    soon = (await create(type=RequestType.ACCESS)).request  # due 17 March
    later = (await create()).request  # due 1 April
    assert await service.remind(today=date(2026, 3, 12)) == []  # 17 March is 3 working days away
    reminded = await service.remind(today=date(2026, 3, 13))  # Friday: 2 working days away
    assert reminded == [soon.id]
    assert await service.remind(today=date(2026, 3, 13)) == []
    assert await service.remind(today=date(2026, 3, 16)) == [soon.id]
    assert sorted(await service.remind(today=date(2026, 4, 2))) == sorted([soon.id, later.id])  # both overdue
    staff = [r["payload"]["text"] for r in await outbox_rows(db) if r["kind"] == "staff.reminder"]
    assert len(staff) == 4
    assert staff[0].startswith("Напоминание") and staff[-1].startswith("Просрочен")
    reminder_rows = [r for r in await outbox_rows(db) if r["kind"] == "staff.reminder"]
    assert {r["payload"]["request_id"] for r in reminder_rows} == {soon.id, later.id}
    assert all(r["channel"] == "staff" and r["recipient"] == "" for r in reminder_rows)
