"""MailProcessor.process_many: a stored chunk processed with few commits, and nothing weaker for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import Config
from bot.handoffs import HandoffService
from bot.i18n import format_datetime
from bot.requests.models import RequestStatus
from bot.services import Services, build_services
from handlers.email.message_ids import MessageIds
from handlers.email.parsing import header_message_id
from handlers.email.processor import MailProcessor, confirmation_key
from handlers.email.store import EmailStore
from tests.email.conftest import email_overrides, eml


@pytest.fixture
async def services(make_config: Callable[..., Config]) -> AsyncIterator[Services]:
    config = make_config(email_overrides(1, 1, PRIVACY_BOT__EMAIL__REPLIES_PER_SENDER_PER_HOUR="2"),
                         pseudonym_salt="test-salt")
    services = await build_services(config)
    try:
        yield services
    finally:
        await services.close()


async def _process_chunk(services: Services, raws: list[bytes]) -> tuple[EmailStore, list[str]]:
    store = EmailStore(services.db)
    processor = MailProcessor(services, store, HandoffService(services.db, services.config, outbox=services.outbox,
                                                               translator=services.translator))
    items = [(uid, header_message_id(raw), raw, len(raw), False) for uid, raw in enumerate(raws, start=1)]
    assert await store.store_inbound("INBOX", 1, items) == len(raws)
    chunk = await store.unprocessed(limit=100)
    assert len(chunk) == len(raws)
    return store, await processor.process_many(chunk)


async def test_reply_cap_holds_inside_one_chunk(services: Services) -> None:
    raw = eml("02_question_en_cookies.eml")
    raws = [raw.replace(b"<DB9PR01-question02@outlook.com>", f"<cap-{n}@outlook.com>".encode()) for n in range(4)]
    store, outcomes = await _process_chunk(services, raws)
    assert outcomes == ["answered", "answered", "answered:rate_limited:limit_notice", "answered:rate_limited"]
    assert await store.unprocessed() == []
    replies = [r for r in await services.outbox.records(limit=50) if r.message.channel == "email"]
    assert len(replies) == 3 and {r.message.recipient for r in replies} == {"john.miller@outlook.com"}
    # The third mail is told once when answers resume (the hour after the first answer), in its language.
    [notice] = [r for r in replies if r.message.kind == "email.reply_limit"]
    assert "Automatic answers resume after" in notice.message.payload["text"]
    async with services.db.conn.execute("SELECT processed_at FROM email_inbound ORDER BY id LIMIT 1") as cur:
        first = (await cur.fetchone())[0]
    resumes = datetime.strptime(first, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) + timedelta(hours=1)
    assert format_datetime("en", resumes) in notice.message.payload["text"]
    # The notice is not counted as an answer, so it does not push the time it names any later.
    async with services.db.conn.execute("SELECT COUNT(*) FROM email_inbound WHERE replied = 1") as cur:
        assert (await cur.fetchone())[0] == 2


async def test_reply_in_the_same_chunk_finds_the_request_it_confirms(services: Services) -> None:
    # The reply names our confirmation mail's Message-ID, which is fixed by the request mail it answers
    # (so it proves the thread even before the confirmation was recorded as sent).
    ours = MessageIds(services.config, services.secret).for_key(confirmation_key("<request28@yandex.ru>"))
    reply = eml("34_confirm_reply_ru.eml").replace(
        b"Message-ID: <confirm34@yandex.ru>", f"Message-ID: <confirm34@yandex.ru>\r\nIn-Reply-To: {ours}".encode())
    _, outcomes = await _process_chunk(services, [eml("28_request_deletion_ru.eml"), reply])
    assert outcomes == ["request_created", "confirmed"]
    request = await services.requests.get("PR-2026-0001")
    assert request.status is RequestStatus.PENDING_REVIEW
    assert request.verification_method is not None and request.verification_method.value == "email_reply"
