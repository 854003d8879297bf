"""Learning from staff, in the core: a real SQLite file, the real engine, the real masking.

The engine is loaded with ``min_confidence = 0.99``: it abstains unless it is all but certain (or was taught
the question), so the questions here abstain whatever the engine's tuning; each test teaches it questions of
its own, so one engine serves them all.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from bot.audit import AuditDetailsRefused, AuditLog
from bot.config import Config
from bot.i18n import get_translator
from bot.learning import (
    STAFF_KIND,
    LearningService,
    PolicySections,
    QuestionAlreadyDecided,
    QuestionNotFound,
    UnknownSection,
    asked_question,
    stored_examples,
)
from bot.masking import learning_key, mask_question
from bot.policy.engine import PolicyEngine
from bot.retention import RetentionJob
from bot.services import build_services
from bot.storage.db import Database
from bot.storage.timefmt import to_db, utcnow
from tests.core.conftest import outbox_rows

STRICT = 0.99
EMAIL, PHONE = "ivan.petrov@example.ru", "+7 916 123-45-67"


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    from bot.config import load_config
    config = load_config()
    return PolicyEngine.load(config.policy_directory, config.policy.url, STRICT, config.policy.default_language,
                             get_translator())


@pytest.fixture
def learning(db: Database, config: Config, engine: PolicyEngine) -> LearningService:
    return LearningService(db, config, learner=engine)


def abstaining(engine: PolicyEngine, text: str) -> Any:
    understanding = engine.understand(text)
    # The premise: if the engine learns to answer this by itself, pick another question it abstains on.
    assert understanding.abstained, understanding.as_dict()
    return understanding


async def table(db: Database) -> list[dict[str, Any]]:
    async with db.conn.execute("SELECT * FROM learning_questions ORDER BY id") as cur:
        return [dict(row) for row in await cur.fetchall()]


# -- masking ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "gone", "kept"), [
    (f"Здравствуйте, меня зовут Иван Петров, телефон {PHONE}, почта {EMAIL}. Кому вы передаёте данные?",
     ["Иван", "Петров", "916", "123-45", "ivan.petrov", "example.ru"], ["Кому вы передаёте данные?", "[name]"]),
    ("my name is john smith, do you sell my email john@example.com?", ["john", "smith", "example.com"],
     ["do you sell my email [email]?"]),
    ("Hi, I'm Anna Karenina. Do you share my data with Google?", ["Anna", "Karenina"], ["Google"]),
    ("Петрова Анна Сергеевна спрашивает: храните ли вы адрес? Звоните 123-45-67", ["Петрова", "Анна", "123-45"],
     ["храните ли вы адрес?", "[phone]"]),
    ("Do you keep my IP? https://vk.com/ivan.petrov\n\nBest regards,\nJohn Smith", ["ivan", "John", "Smith"],
     ["Do you keep my IP?"]),
    ("Тут пишет Петрова Анна Сергеевна Иванова. Вы храните паспорт?", ["Петрова", "Анна", "Сергеевна", "Иванова"],
     ["Тут пишет [name]. Вы храните паспорт?"]),
    ("Dear team, this is Mr Smith John Paul: do you sell data?", ["Smith", "John", "Paul"],
     ["this is [name]: do you sell data?"]),
    ("PR-2026-0001 due 2026-01-23, 10 000 рублей, 152-ФЗ", [], ["PR-2026-0001 due 2026-01-23, 10 000 рублей, 152-ФЗ"]),
])
def test_questions_are_masked(text: str, gone: list[str], kept: list[str]) -> None:
    masked = mask_question(text)
    for part in gone:
        assert part not in masked, masked
    for part in kept:
        assert part in masked, masked
    assert mask_question(masked) == masked  # masking twice changes nothing


def test_names_the_channel_knows_are_masked_wherever_they_appear() -> None:
    masked = mask_question("Zorro here: does zorro's data go to partners? Ask Zorrovich", known_names=["Zorro", "X"])
    assert masked == "[name] here: does [name] data go to partners? Ask Zorrovich"


# -- questions reach staff, masked --------------------------------------------------------------------------

async def test_a_question_is_stored_masked_and_announced_to_staff_once(learning: LearningService, db: Database,
                                                                       engine: PolicyEngine) -> None:
    text = f"Меня зовут Иван Петров ({EMAIL}, {PHONE}). Какая у вас правовая основа обработки?"
    understanding = abstaining(engine, text)
    asked = asked_question(understanding, text, ["Иван"])
    first = await learning.submit_asked(asked, channel="telegram", reason="abstained")
    again = await learning.submit_asked(asked, channel="telegram", reason="abstained")
    assert first is not None and again is not None and again.id == first.id
    rows = await table(db)
    assert len(rows) == 1 and rows[0]["asked"] == 2 and rows[0]["status"] == "pending"
    stored = json.dumps(rows, ensure_ascii=False)
    for personal in ("Иван", "Петров", "ivan.petrov", "example.ru", "123-45-67"):
        assert personal not in stored
    # A short number is searched as a number of its own (a timestamp's digits may contain it).
    assert not re.search(r"(?<!\d)916(?!\d)", stored)
    assert "правовая основа обработки" in rows[0]["text"]
    posts = [m for m in await outbox_rows(db) if m["kind"] == STAFF_KIND]
    assert len(posts) == 1 and posts[0]["channel"] == "staff" and posts[0]["payload"]["question_id"] == first.id
    assert "правовая основа" in posts[0]["payload"]["text"] and "ivan" not in posts[0]["payload"]["text"]


async def test_a_mail_reprocessed_adds_nothing(learning: LearningService, db: Database) -> None:
    for _ in range(2):
        await learning.submit(lang="en", text="Do you profile me?", channel="email", reason="abstained",
                              reference="<abc@mail.example>")
    rows = await table(db)
    assert len(rows) == 1 and rows[0]["asked"] == 1
    assert "abc@mail.example" not in json.dumps(rows)  # the Message-ID is kept as a digest


# -- staff decide, the engine learns ---------------------------------------------------------------------

async def test_a_decision_teaches_the_engine_at_once_and_is_audited(learning: LearningService, db: Database,
                                                                    engine: PolicyEngine) -> None:
    text = "do you store biometric data like face scans?"
    question = await learning.submit_asked(asked_question(abstaining(engine, text), text), channel="telegram",
                                           reason="abstained")
    assert question is not None
    decided = await learning.decide(question.id, "personal-data", by="Anna (tg:42)")
    assert decided.status == "learnt" and decided.section_id == "personal-data"
    assert decided.decided_by == "staff:Anna (tg:42)"
    again = engine.understand(text)
    assert not again.abstained and again.answer is not None and again.answer.section_id == "personal-data"
    assert again.sections[0].id == "personal-data"
    # ... however it is spelt: case and spacing do not matter.
    assert engine.understand("Do you store  biometric data like face scans?").answer is not None
    # Asked again the engine answers it; were it to abstain, staff have decided it already. An answer that
    # did not help goes to them again, though.
    assert await learning.submit(lang="en", text=text, channel="email", reason="abstained") == decided
    again_unhelpful = await learning.submit(lang="en", text=text, channel="telegram", reason="unhelpful")
    assert again_unhelpful is not None and again_unhelpful.id != question.id and again_unhelpful.pending
    [event] = await learning.audit_events(question.id)
    assert event.event == "learnt" and event.actor == "staff:Anna (tg:42)"
    assert event.details == {"section": "personal-data", "what": "section", "lang": "en", "channel": "telegram",
                             "why": "abstained"}


async def test_not_in_the_policy_is_learnt_too(learning: LearningService, engine: PolicyEngine) -> None:
    text = "How long do you keep my data?"
    understanding = engine.understand(text)
    question = await learning.submit_asked(asked_question(understanding, text), channel="telegram",
                                           reason="unhelpful")
    assert question is not None and list(question.offered) == [s.id for s in understanding.sections][:5]
    await learning.decide(question.id, None, by="anna")
    again = engine.understand(text)
    assert again.unanswered and again.abstained and again.answer is None


async def test_decisions_that_cannot_be_made_are_refused(learning: LearningService, engine: PolicyEngine) -> None:
    question = await learning.submit(lang="ru", text="есть ли у вас политика по cookies для детей?",
                                     channel="telegram", reason="abstained")
    assert question is not None
    with pytest.raises(QuestionNotFound):
        await learning.decide(question.id + 100, "contact", by="anna")
    with pytest.raises(UnknownSection):
        await learning.decide(question.id, "no-such-section", by="anna")
    assert (await learning.get(question.id)).pending  # nothing changed
    await learning.decide(question.id, "consent", by="anna")
    with pytest.raises(QuestionAlreadyDecided) as second:
        await learning.decide(question.id, "contact", by="boris")
    assert second.value.question.decided_by == "staff:anna" and second.value.question.section_id == "consent"
    assert len(await learning.audit_events(question.id)) == 1


async def test_the_learning_trail_refuses_personal_data_and_rewriting(db: Database) -> None:
    async with db.transaction() as conn:
        with pytest.raises(AuditDetailsRefused):
            await AuditLog().append_learning(conn, 1, "learnt", "staff:anna", {"text": "my email is a@b.c"})
        with pytest.raises(AuditDetailsRefused):
            await AuditLog().append_learning(conn, 1, "learnt", "tg:12345", {})
        await AuditLog().append_learning(conn, 1, "learnt", "staff:anna", {"section": "contact"})
    for statement in ("UPDATE learning_audit SET actor = 'x'", "DELETE FROM learning_audit",
                      "REPLACE INTO learning_audit(id, question_id, at, event, actor) VALUES (1, 1, 'x', 'x', 'x')"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            async with db.transaction() as conn:
                await conn.execute(statement)


# -- every start and a running bot learn what staff decided -------------------------------------------------

async def test_the_bot_learns_stored_examples_at_start_and_decisions_made_elsewhere(
        make_config: Callable[..., Config], engine: PolicyEngine) -> None:
    config = make_config({"PRIVACY_BOT__POLICY__MIN_CONFIDENCE": str(STRICT)})
    text = "what is your legal basis?"
    abstaining(engine, text)
    db = await Database(config.database_path).open()
    try:
        # Decided at the command line: no engine there, only the policy's sections.
        cli = LearningService(db, config, learner=PolicySections(config.policy_directory))
        question = await cli.submit(lang="en", text=text, channel="telegram", reason="abstained")
        assert question is not None
        await cli.decide(question.id, "legal-requirement", by="anna")
        assert [e.section_id for e in await stored_examples(db)] == ["legal-requirement"]
    finally:
        await db.close()
    services = await build_services(config)
    try:
        learnt = services.engine.understand(text)
        assert learnt.answer is not None and learnt.answer.section_id == "legal-requirement"
        assert await services.learning.catch_up() == 0  # taught at start already
        # A decision made elsewhere while the bot runs is picked up by catch_up (the workers call it).
        other = "who audits you and how often, is there a certificate?"
        before = services.engine.understand(other).answer
        target = "contact" if before is None or before.section_id != "contact" else "protection"
        cli = LearningService(services.db, config, learner=PolicySections(config.policy_directory))
        question = await cli.submit(lang="en", text=other, channel="email", reason="abstained")
        assert question is not None
        await cli.decide(question.id, target, by="anna")
        assert services.engine.understand(other).answer == before  # not yet
        assert await services.learning.catch_up() == 1
        answer = services.engine.understand(other).answer
        assert answer is not None and answer.section_id == target
    finally:
        await services.close()


# -- retention ---------------------------------------------------------------------------------------------

async def test_retention_removes_old_questions_and_examples(learning: LearningService, db: Database,
                                                           config: Config) -> None:
    old = await learning.submit(lang="en", text="an old question about fingerprints?", channel="telegram",
                                reason="abstained")
    learnt = await learning.submit(lang="en", text="an old learnt question about face ids?", channel="telegram",
                                   reason="abstained")
    fresh = await learning.submit(lang="en", text="a fresh question about voice prints?", channel="telegram",
                                  reason="abstained")
    assert old and learnt and fresh
    await learning.decide(learnt.id, "personal-data", by="anna")
    long_ago = to_db(utcnow() - timedelta(days=config.retention.learning_days + 1))
    async with db.transaction() as conn:
        await conn.execute("UPDATE learning_questions SET updated_at = ? WHERE id IN (?, ?)",
                           (long_ago, old.id, learnt.id))
    report = await RetentionJob(db, config).run()
    assert report.other.get("learning_questions") == 2
    assert [row["id"] for row in await table(db)] == [fresh.id]
    async with db.conn.execute("SELECT COUNT(*) FROM learning_audit") as cur:
        assert (await cur.fetchone())[0] == 1  # the decision's trail stays: it holds no question


def test_the_key_ignores_what_does_not_change_the_question() -> None:
    assert learning_key("Dear team,\n\nDo you SELL my data?  ivan@x.ru\n\nBest regards,\nIvan") == \
        learning_key("do you sell my data? anna@y.org")
