"""Learning from staff in Telegram: the real dispatcher and core on a temp SQLite, a recording Bot API session.

The engine here abstains below ``min_confidence = 0.99``, so unless it is all but certain (or was taught the
question), whatever its tuning; a test that needs an answer lowers it for a while (``answering``). One engine
per module: each test asks questions of its own, since what staff teach it stays taught.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from aiogram.methods import EditMessageText, SendMessage

from bot.i18n import get_translator
from bot.policy.engine import PolicyEngine
from handlers.telegram.callbacks import LearnActCb, LearnCb
from tests.telegram.conftest import OUTSIDER, STAFF, STAFF_CHAT, USER, Harness

STRICT = 0.99


@pytest.fixture(scope="module")
def policy_engine() -> PolicyEngine:
    from bot.config import load_config
    config = load_config()
    return PolicyEngine.load(config.policy_directory, config.policy.url, STRICT, config.policy.default_language,
                             get_translator())


@contextlib.contextmanager
def answering(engine: PolicyEngine) -> Iterator[None]:
    """The engine answers whatever it places (no abstaining for want of confidence) inside the block."""
    strict, engine.min_confidence = engine.min_confidence, 0.0
    try:
        yield
    finally:
        engine.min_confidence = strict


def section_title(h: Harness, lang: str, section_id: str) -> str:
    return next(s.title for s in h.services.engine.sections(lang) if s.id == section_id)


def staff_post(h: Harness) -> SendMessage:
    posts = [m for m in h.session.sent(STAFF_CHAT) if isinstance(m, SendMessage) and "Научите бота" in str(m.text)]
    assert posts, "no learning post in the staff chat"
    return posts[-1]


def buttons(method: SendMessage | EditMessageText) -> dict[str, str]:
    markup: Any = method.reply_markup
    assert markup is not None, "the post has no buttons"
    return {b.text: str(b.callback_data) for row in markup.inline_keyboard for b in row}


def last_edit(h: Harness) -> EditMessageText:
    edits = [m for m in h.session.requests if isinstance(m, EditMessageText)]
    assert edits
    return edits[-1]


async def questions(h: Harness) -> list[dict[str, Any]]:
    async with h.services.db.conn.execute("SELECT * FROM learning_questions ORDER BY id") as cur:
        return [dict(row) for row in await cur.fetchall()]


async def test_abstain_reaches_staff_who_pick_a_section_and_the_question_is_then_answered(harness: Harness) -> None:
    h = harness
    question = "do you store biometric data like face scans? my number is +7 916 555-44-33"
    assert h.services.engine.understand(question).abstained  # the premise
    await h.send(USER, question, lang="en")
    # "Not sure", or (an engine that reads it so) "the policy does not say": either way staff are asked.
    assert "could not find the answer" in h.last_text(USER) or "does not say anything" in h.last_text(USER)
    assert list(h.last_buttons(USER)) == ["👤 Talk to a person"]
    [row] = await questions(h)
    assert row["status"] == "pending" and row["reason"] == "abstained" and row["channel"] == "telegram"
    assert "916" not in row["text"] and "[phone]" in row["text"]

    await h.deliver()
    post = staff_post(h)
    assert "biometric data like face scans" in str(post.text) and "916" not in str(post.text)
    choices = buttons(post)
    assert "📚 Другой раздел…" in choices and "🚫 В политике этого нет" in choices
    post_id = h.session.message_id_of(post)
    # "Other section…" lists every section, with a way back.
    await h.press(STAFF, choices["📚 Другой раздел…"], chat_id=STAFF_CHAT, message_id=post_id)
    every = buttons(last_edit(h))
    titles = {s.title for s in h.services.engine.sections("ru")}
    assert titles <= set(every) and "« Предложенные разделы" in every
    personal = next(s.title for s in h.services.engine.sections("ru") if s.id == "personal-data")
    await h.press(STAFF, every[personal], chat_id=STAFF_CHAT, message_id=post_id)
    assert h.session.alerts()[-1].text == "Выучено."
    edited = last_edit(h)
    assert edited.reply_markup is None and f"«{personal}»" in str(edited.text) and f"tg:{STAFF}" in str(edited.text)
    [row] = await questions(h)
    assert row["status"] == "learnt" and row["section_id"] == "personal-data"

    await h.send(USER, question, lang="en")
    answer = h.last_text(USER)
    assert "https://jetbit.ru/policy/" in answer and section_title(h, "en", "personal-data") in answer
    assert len(await questions(h)) == 1  # answered now: nothing more for staff


async def test_did_not_help_and_not_in_the_policy(harness: Harness) -> None:
    h = harness
    question = "Кому вы передаёте мои данные?"
    with answering(h.services.engine):
        await h.send(USER, question)
    answer = h.session.sent(USER)[-1]
    assert "https://jetbit.ru/policy/" in str(answer.text)
    feedback = h.last_buttons(USER)
    await h.press(USER, feedback["👎 Не помогло"], message_id=h.session.message_id_of(answer))
    assert "передал ваш вопрос команде" in h.last_text(USER)
    [row] = await questions(h)
    assert row["reason"] == "unhelpful" and json.loads(row["offered"])  # the section it was answered with
    # Pressed again (or replayed): nothing is sent twice.
    await h.press(USER, feedback["👎 Не помогло"], message_id=h.session.message_id_of(answer))
    assert "ещё раз" in str(h.session.alerts()[-1].text)
    assert len(await questions(h)) == 1

    await h.deliver()
    post = staff_post(h)
    assert "человек отметил, что ответ не помог" in str(post.text)
    await h.press(STAFF, buttons(post)["🚫 В политике этого нет"], chat_id=STAFF_CHAT,
                  message_id=h.session.message_id_of(post))
    assert "в политике ответа нет" in str(last_edit(h).text)
    with answering(h.services.engine):  # what staff taught holds whatever the engine would say
        await h.send(USER, question)
    assert "ничего не сказано" in h.last_text(USER)
    assert list(h.last_buttons(USER)) == ["👤 Связаться с сотрудником"]
    assert len(await questions(h)) == 1


async def test_forged_and_stale_presses_are_refused(harness: Harness) -> None:
    h = harness
    question = "what is your legal basis?"
    assert h.services.engine.understand(question).abstained
    await h.send(USER, question, lang="en")
    await h.deliver()
    post = staff_post(h)
    post_id = h.session.message_id_of(post)
    [row] = await questions(h)
    qid = row["id"]
    other = buttons(post)["📚 Другой раздел…"]
    await h.press(STAFF, other, chat_id=STAFF_CHAT, message_id=post_id)
    pick = next(iter(buttons(last_edit(h)).values()))
    version = LearnCb.unpack(pick).version

    alerts_before = len(h.session.alerts())
    await h.press(OUTSIDER, pick, chat_id=STAFF_CHAT, message_id=post_id)  # not staff
    await h.press(USER, pick)  # a staff button in a private chat
    await h.press(STAFF, LearnCb(question_id=qid + 99, section=0, version=version).pack(), chat_id=STAFF_CHAT)
    await h.press(STAFF, LearnCb(question_id=qid, section=999, version=version).pack(), chat_id=STAFF_CHAT)
    await h.press(STAFF, f"lq:{qid}:-1:{version}", chat_id=STAFF_CHAT)
    await h.press(STAFF, f"lq:{qid}:contact:{version}", chat_id=STAFF_CHAT)  # not a number: no handler takes it
    await h.press(STAFF, LearnActCb(question_id=qid, action="delete").pack(), chat_id=STAFF_CHAT)
    alerts = h.session.alerts()[alerts_before:]
    assert len(alerts) == 7 and all(a.show_alert for a in alerts)
    events = await h.deps.repo.security_events()
    assert [e["event"] for e in events] == ["not_staff_press"] + ["forged_callback"] * 6
    assert [e["details"]["reason"] for e in events[1:4]] == ["unknown_callback", "unknown_question",
                                                             "unknown_section"]
    assert (await questions(h))[0]["status"] == "pending"  # nothing was decided

    # Made before the policy changed: stale, and the post is shown again with today's buttons.
    await h.press(STAFF, LearnCb(question_id=qid, section=0, version="00000000").pack(), chat_id=STAFF_CHAT,
                  message_id=post_id)
    assert "прошлому шагу" in str(h.session.alerts()[-1].text)
    assert (await questions(h))[0]["status"] == "pending"

    await h.press(STAFF, pick, chat_id=STAFF_CHAT, message_id=post_id)
    assert (await questions(h))[0]["status"] == "learnt"
    learnt = (await questions(h))[0]["section_id"]
    # Replayed, or a colleague's press on the same post: refused with who decided, nothing changes.
    await h.press(STAFF, buttons(post)["🚫 В политике этого нет"], chat_id=STAFF_CHAT, message_id=post_id)
    assert f"tg:{STAFF}" in str(h.session.alerts()[-1].text) and "Уже решено" in str(h.session.alerts()[-1].text)
    assert (await questions(h))[0]["section_id"] == learnt
    async with h.services.db.conn.execute("SELECT COUNT(*) FROM learning_audit WHERE question_id = ?", (qid,)) as cur:
        assert (await cur.fetchone())[0] == 1


async def test_forget_drops_the_answers_remembered_for_did_not_help(harness: Harness) -> None:
    h = harness
    with answering(h.services.engine):  # (a question of its own: another test teaches the engine its own)
        await h.send(USER, "Как вы защищаете мои данные от взлома?")
    answer = h.session.sent(USER)[-1]
    assert len(h.deps.answers) == 1
    await h.send(USER, "/forget")
    assert len(h.deps.answers) == 1  # only asked so far
    await h.press(USER, h.last_buttons(USER)["🗑 Удалить"])
    assert len(h.deps.answers) == 0
    await h.press(USER, h.last_buttons(USER).get("👎 Не помогло", "a:unhelpful"),
                  message_id=h.session.message_id_of(answer))
    assert "ещё раз" in str(h.session.alerts()[-1].text)
    assert await questions(h) == []


def test_remembered_answers_are_bounded_per_chat_and_in_all() -> None:
    from bot.learning import AskedQuestion
    from handlers.telegram.answers import PER_CHAT, RecentAnswers

    answers = RecentAnswers(max_chats=2)
    asked = AskedQuestion("en", "q", ())
    for message_id in range(10):
        answers.remember(1, message_id, asked)
    assert [answers.take(1, m) for m in range(10)].count(asked) == PER_CHAT  # only the last ones
    for chat in (2, 3, 4):
        answers.remember(chat, 1, asked)
    assert len(answers) == 2 and answers.take(2, 1) is None and answers.take(4, 1) == asked
