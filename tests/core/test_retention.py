"""Retention: old closed requests keep only a pseudonymised proof; old bodies and codes go."""

from __future__ import annotations

import hashlib
import hmac
import re
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bot.app_secret import SECRET_META_KEY as SALT_META_KEY
from bot.channels import installed
from bot.config import Config, RetentionConfig
from bot.outbox.recording import RecordingSender
from bot.outbox.worker import OutboxWorker
from bot.requests.models import Requester, RequestStatus, RequestType
from bot.requests.service import RequestService
from bot.retention import RetentionJob
from bot.storage import retention_repo
from bot.storage.db import Database
from bot.storage.timefmt import to_db, utcnow
from tests.core.conftest import outbox_rows

WHO = Requester(telegram_user_id=42, telegram_chat_id=42, telegram_name="Иван Петров", email="Ivan@Example.ru",
                phone="+7 916 000-11-22")


async def _closed_and_open(service: RequestService, create: Callable[..., Any]) -> tuple[str, str, str]:
    done = (await create(requester=WHO, details="удалить всё: заказы, переписку")).request
    await service.need_info(done.id, "staff:a", "Which site?")
    await service.provide_info(done.id, "shop.example.ru", "requester")
    await service.approve(done.id, "staff:a")
    await service.complete(done.id, "staff:a")
    still_open = (await create(requester=Requester(telegram_user_id=7, telegram_chat_id=7, telegram_name="Open"),
                               type=RequestType.ACCESS)).request
    recent = (await create(requester=Requester(email="recent@example.ru"), details="recent")).request
    return done.id, still_open.id, recent.id


async def test_redacts_old_closed_requests_and_keeps_proof(db: Database, config: Config, service: RequestService,
                                                           create: Callable[..., Any]) -> None:
    done_id, open_id, other_id = await _closed_and_open(service, create)
    await service.reject(other_id, "staff:a", "not ours")
    job = RetentionJob(db, config)
    later = utcnow() + timedelta(days=config.retention.closed_request_details_days + 1)
    report = await job.run(now=later)
    assert sorted(report.redacted) == sorted([done_id, other_id])  # closed ones only
    assert (await service.get(other_id)).decision_reason is None  # staff's words can name people too

    done = await service.get(done_id)
    assert done.requester == Requester() and done.identities == ()  # every identifier gone
    assert done.details == "" and done.corrections == () and done.info_question is None
    assert done.redacted_at is not None
    # proof of handling remains: type, dates, decision, and a salted hash of the identifiers
    assert done.type is RequestType.DELETION and done.status is RequestStatus.COMPLETED
    assert done.decided_by == "staff:a" and done.completed_at is not None and done.due_date is not None
    salt = await job.salt()
    expected = hmac.new(salt.encode(), b"email:ivan@example.ru|phone:79160001122|tg:42", hashlib.sha256).hexdigest()
    assert done.requester_pseudonym == expected
    assert [m["body"] for m in await service.messages(done_id)] == [None]
    redacted = [e for e in await service.audit_events(done_id) if e.event == "redacted"]
    assert len(redacted) == 1 and redacted[0].actor == "system"

    still_open = await service.get(open_id)
    assert still_open.requester.telegram_name == "Open" and still_open.redacted_at is None

    # nothing personal is left in the row or the trail
    raw = sqlite3.connect(config.database_path)
    try:
        dump = "\n".join(str(row) for table in ("requests", "request_audit", "request_messages")
                         for row in raw.execute(f"SELECT * FROM {table} WHERE "
                                                f"{'id' if table == 'requests' else 'request_id'} = ?", (done_id,)))
    finally:
        raw.close()
    for secret in ("иван", "ivan@example.ru", "000-11-22", "79160001122", "shop.example.ru", "заказы"):
        assert secret not in dump.lower()

    # running again changes nothing
    again = await job.run(now=later)
    assert again.redacted == []


async def test_nothing_redacted_within_the_period(db: Database, config: Config, service: RequestService,
                                                  create: Callable[..., Any]) -> None:
    done_id, _, _ = await _closed_and_open(service, create)
    report = await RetentionJob(db, config).run(now=utcnow() + timedelta(days=30))
    assert report.redacted == []
    assert (await service.get(done_id)).requester.telegram_name == "Иван Петров"


async def test_salt_generated_once_and_kept_in_the_database(db: Database, config: Config,
                                                            make_config: Callable[..., Config]) -> None:
    job = RetentionJob(db, config)
    salt = await job.salt()
    assert len(salt) == 64 and await RetentionJob(db, config).salt() == salt
    async with db.conn.execute("SELECT value FROM meta WHERE key = ?", (SALT_META_KEY,)) as cur:
        assert (await cur.fetchone())[0] == salt
    from_env = make_config(pseudonym_salt="from-the-environment")
    assert await RetentionJob(db, from_env).salt() == "from-the-environment"


async def test_old_message_bodies_outbox_and_codes_are_removed(db: Database, config: Config,
                                                               service: RequestService,
                                                               create: Callable[..., Any]) -> None:
    request = (await create()).request
    await service.need_info(request.id, "staff:a", "Which site?")
    await service.provide_info(request.id, "my answer", "requester")
    senders = {n: RecordingSender(n) for n in ("telegram", "email", "staff")}
    await OutboxWorker(db, senders, config).deliver_due()
    delivered = await outbox_rows(db)
    assert len(delivered) == 6 and all(r["status"] == "sent" for r in delivered)
    old = utcnow() - timedelta(days=2)
    async with db.transaction() as conn:  # another area's table, present through its migration
        await conn.execute("INSERT INTO verification_codes(subject, email, salt, code_hash, issued_at, expires_at) "
                           "VALUES ('tg:1', 'a@b.ru', x'00', x'00', ?, ?)", (to_db(old), to_db(old)))
        await conn.execute("INSERT INTO verification_codes(subject, email, salt, code_hash, issued_at, expires_at) "
                           "VALUES ('tg:2', 'c@d.ru', x'00', x'00', ?, ?)", (to_db(utcnow()), to_db(utcnow())))
    report = await RetentionJob(db, config).run(now=utcnow() + timedelta(days=config.retention.message_bodies_days,
                                                                         hours=1))
    assert report.message_bodies == 1 and report.outbox_messages == 6
    assert [m["body"] for m in await service.messages(request.id)] == [None]
    assert await outbox_rows(db) == []
    assert report.other.get("verification_codes") == 2  # both are older than one day by then
    assert (await service.get(request.id)).status is RequestStatus.PENDING_REVIEW  # open: details kept
    assert (await service.get(request.id)).details == "all my data"


async def test_transcripts_of_closed_handoffs_are_removed(db: Database, config: Config) -> None:
    old = to_db(utcnow() - timedelta(days=config.retention.transcripts_days + 1))
    async with db.transaction() as conn:  # the handoffs table comes with the email area's migration
        for closed in (old, None):
            await conn.execute("INSERT INTO handoffs(channel, sender, subject, text, lang, created_at, closed_at) "
                               "VALUES ('email', 'ivan@example.ru', 'Вопрос', 'Позвоните мне', 'ru', ?, ?)",
                               (old, closed))
        await conn.execute("INSERT INTO handoffs(channel, sender, subject, text, lang, created_at) "
                           "VALUES ('email', 'new@example.ru', 'Вопрос', 'Свежий', 'ru', ?)", (to_db(utcnow()),))
    report = await RetentionJob(db, config).run()
    # Answered or not, what waited longer than the period is forgotten (an open one is closed by retention).
    assert report.other.get("handoffs") == 2
    async with db.conn.execute("SELECT sender, subject, text, closed_by FROM handoffs ORDER BY id") as cur:
        rows = [tuple(r) for r in await cur.fetchall()]
    assert rows == [("", "", "", None), ("", "", "", "retention"), ("new@example.ru", "Вопрос", "Свежий", None)]


async def test_every_table_has_a_retention_rule_or_holds_no_personal_data(db: Database) -> None:
    """A new table cannot be forgotten: it is given a rule (the core's in bot/storage/retention_repo.py, a
    channel's in its tables module), or declared free of personal data there, with the reason."""
    async with db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                               "AND name NOT LIKE 'sqlite_%'") as cur:
        tables = {str(row[0]) for row in await cur.fetchall()}
    ruled = {rule.table for rule in retention_repo.rules()}
    linked = {table for table, _ in retention_repo.redacted_with_request()}
    covered = ruled | linked | retention_repo.CORE_REQUEST_TABLES | set(retention_repo.no_personal_data())
    assert tables - covered == set()
    assert not ruled & set(retention_repo.no_personal_data())
    # Every rule names a table and period that exist (a typo would silently purge nothing).
    assert ruled <= tables
    for rule in retention_repo.rules():
        assert hasattr(RetentionConfig(), f"{rule.period}_days"), rule


async def test_each_channel_declares_the_tables_it_creates(db: Database) -> None:
    """A channel's migrations create only tables named after it, and it declares every one of them: the
    core runs their retention without knowing them."""
    for channel in installed():
        created: set[str] = set()
        for path in channel.migrations.glob("*.sql"):
            created |= set(re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", path.read_text(encoding="utf-8")))
        assert created and all(table.startswith(f"{channel.name}_") for table in created), channel.name
        declared = ({rule.table for rule in channel.retention} | {table for table, _ in channel.redacted_with_request}
                    | set(channel.no_personal_data))
        assert created == declared, channel.name
    # The core names none of a channel's tables.
    core = {rule.table for rule in retention_repo.CORE_RULES} | set(retention_repo.CORE_NO_PERSONAL_DATA)
    assert not [table for table in core if table.startswith(("telegram_", "email_"))]
