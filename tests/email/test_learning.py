"""Learning from staff by email: a letter the engine abstains on reaches staff (masked) through the same core
call as Telegram, and once staff decide, the same letter is answered that way (MailProcessor on a real SQLite
file; the engine abstains below ``min_confidence = 0.99``, so unless it is all but certain or taught)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable

import pytest

from bot.config import Config
from bot.handoffs import HandoffService
from bot.learning import STAFF_KIND
from bot.services import Services, build_services
from handlers.email.parsing import header_message_id
from handlers.email.processor import MailProcessor
from handlers.email.store import EmailStore
from tests.email.conftest import email_overrides

LETTER = ("Dear JetBit team,\n\nWhat is your legal basis?\n\nBest regards,\nOlga Smirnova\n"
          "Head of Sales, Example LLC\n+7 916 555-01-02")


def mail(number: int, body: str = LETTER, sender: str = "Olga Smirnova <olga.smirnova@example.org>") -> bytes:
    return (f"From: {sender}\r\nTo: support@jetbit.ru\r\nSubject: A question\r\n"
            f"Message-ID: <learn-{number}@example.org>\r\nDate: Mon, 30 Nov 2026 10:00:00 +0300\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            + body.replace("\n", "\r\n")).encode()


@pytest.fixture
async def services(make_config: Callable[..., Config]) -> AsyncIterator[Services]:
    config = make_config(email_overrides(1, 1, PRIVACY_BOT__POLICY__MIN_CONFIDENCE="0.99"),
                         pseudonym_salt="test-salt")
    services = await build_services(config)
    try:
        yield services
    finally:
        await services.close()


async def process(services: Services, *raws: bytes) -> list[str]:
    store = EmailStore(services.db)
    processor = MailProcessor(services, store, HandoffService(services.db, services.config, outbox=services.outbox,
                                                               translator=services.translator))
    start = len(await store.inbound_outcomes())
    items = [(start + uid, header_message_id(raw), raw, len(raw), False) for uid, raw in enumerate(raws, start=1)]
    await store.store_inbound("INBOX", 1, items)
    return await processor.process_many(await store.unprocessed(limit=100))


async def questions(services: Services) -> list[dict[str, object]]:
    async with services.db.conn.execute("SELECT * FROM learning_questions ORDER BY id") as cur:
        return [dict(row) for row in await cur.fetchall()]


async def test_an_abstained_letter_reaches_staff_and_is_answered_once_they_decide(services: Services) -> None:
    assert (await process(services, mail(1))) == ["handoff"]
    [row] = await questions(services)
    assert row["channel"] == "email" and row["reason"] == "abstained" and row["lang"] == "en"
    assert row["text"] == "What is your legal basis?"  # salutation and signature cut; nothing of the writer
    stored = json.dumps(await questions(services))
    for personal in ("Olga", "Smirnova", "olga.smirnova", "learn-1@example.org"):
        assert personal not in stored
    assert not re.search(r"(?<!\d)916(?!\d)", stored)  # as a number of its own, not inside a timestamp
    staff = [r.message for r in await services.outbox.records() if r.message.kind == STAFF_KIND]
    assert len(staff) == 1 and staff[0].payload["question_id"] == row["id"]

    await services.learning.decide(int(str(row["id"])), "legal-requirement", by="anna")
    assert (await process(services, mail(2))) == ["answered"]
    replies = [r.message for r in await services.outbox.records() if r.message.kind == "email.answer"]
    title = services.engine.section("en", "legal-requirement")
    assert title is not None and title.title in replies[-1].payload["text"]
    assert len(await questions(services)) == 1


async def test_not_in_the_policy_is_said_and_a_person_answers(services: Services) -> None:
    body = "Hello,\n\nwhat is your legal basis for processing, by the way?\n\nThanks, Olga"
    assert (await process(services, mail(3, body))) == ["handoff"]
    [row] = await questions(services)
    await services.learning.decide(int(str(row["id"])), None, by="anna")
    assert (await process(services, mail(4, body))) == ["handoff"]
    said = [r.message for r in await services.outbox.records() if r.message.kind == "email.handoff_ack"]
    assert len(said) == 2 and "does not say anything about this" in said[-1].payload["text"]
    handoffs = await HandoffService(services.db, services.config).list()
    # The first went to a person as "unplaced" (or "not_in_policy" by an engine that reads it so).
    assert len(handoffs) == 2 and handoffs[-1].reason == "not_in_policy"
    assert len(await questions(services)) == 1
