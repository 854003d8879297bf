"""What the bot promises to forget, it forgets: known personal data is written through every path of the
running bot (chat, handoffs, staff replies and reasons, request flows finished and abandoned, codes, email
questions, requests and confirmations, refused presses), then ``/forget`` and retention at +1500 days run,
and every column of every table, and the raw database file itself, are searched for it. (Issue #10, class 5.)"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import REPO_ROOT, load_config
from bot.retention import RetentionJob
from bot.storage.db import Database
from tests.security.live import (
    STAFF,
    STAFF_CHAT,
    LiveBot,
    body_of,
    complete_deletion,
    eml,
    live_bot,
    personal_data_in,
    request_id_in,
    staff_card,
    staff_reply,
    talk_to_person,
)
from tests.servers.dovecot import DovecotServer

pytestmark = pytest.mark.slow

PERSON = 987654321
NAME = "Zakhar Quuxley"
EMAIL = "zakhar.quuxley@example.org"
PHONE = "+7 912 345-67-89"
PASSPORT = "4509 778899"
# Every string that must be gone, as it could be stored (typed, normalised, lower-cased).
NEEDLES = [str(PERSON), "Zakhar", "Quuxley", "quuxley", "912 345", "9123456789", "4509", "778899",
           "Гретхен"]


async def email_code_flow(bot: LiveBot, *, kind_text: str, details: str) -> str:
    """Deletion in Telegram with the address proven by the emailed code; returns the request id."""
    mark = bot.api.mark()
    bot.api.send_text(PERSON, kind_text, first_name=NAME)
    intro = await bot.said(PERSON, "/cancel", after=mark)
    mark = bot.api.mark()
    bot.api.send_text(PERSON, details, first_name=NAME)
    await bot.said(PERSON, "номеру телефона", after=mark)
    before = len(bot.mail_to(EMAIL))
    mark = bot.api.mark()
    bot.api.send_text(PERSON, EMAIL, first_name=NAME)
    await bot.said(PERSON, "шестизначный код", after=mark)
    mail = (await bot.wait_mail_to(EMAIL, before + 1))[-1]
    code = re.search(r"\b\d{6}\b", body_of(mail))
    assert code and intro
    mark = bot.api.mark()
    bot.api.send_text(PERSON, code.group(0), first_name=NAME)
    summary = await bot.said(PERSON, "Проверьте ваш запрос", after=mark)
    mark = bot.api.mark()
    bot.press(PERSON, summary, "Подтвердить", first_name=NAME)
    created = await bot.said(PERSON, "зарегистрирован", after=mark)
    return request_id_in(created.text)


async def decide(bot: LiveBot, rid: str, *buttons: str) -> None:
    for button in buttons:
        card = await staff_card(bot, rid, button)
        mark = bot.api.mark()
        bot.press(STAFF, card, button)
        await bot.api.wait_for(lambda c: c.method == "answerCallbackQuery", after=mark)
        await bot.wait_db("SELECT updated_at FROM requests WHERE id = ?", lambda r: True, params=(rid,))
        await asyncio.sleep(0.3)


async def test_forget_and_retention_leave_nothing_behind(tmp_path: Path, dovecot: DovecotServer) -> None:
    async with live_bot(tmp_path, dovecot) as bot:
        mark = bot.api.mark()
        bot.api.send_text(PERSON, "/language", first_name=NAME)
        choose = await bot.said(PERSON, "", after=mark)
        mark = bot.api.mark()
        bot.press(PERSON, choose, "Русский", first_name=NAME)
        await bot.said(PERSON, "по-русски", after=mark)
        # A question with personal data in it.
        mark = bot.api.mark()
        bot.api.send_text(PERSON, f"Кому вы передаёте мой телефон {PHONE}? Я {NAME}", first_name=NAME)
        await bot.said(PERSON, "", after=mark)

        # Talking to a person, with a passport number; staff answer by name.
        _, post = await talk_to_person(bot, PERSON, f"Я {NAME}, паспорт {PASSPORT}, тел. {PHONE}", first_name=NAME)
        mark = bot.api.mark()
        staff_reply(bot, post, f"Здравствуйте, {NAME}! Сейчас проверим.")
        await bot.said(PERSON, "Сейчас проверим", after=mark)

        # A deletion request proven by the emailed code; staff reject it with a typed reason naming them.
        rid = await email_code_flow(bot, kind_text="Удалите мои данные",
                                    details=f"Удалите всё про {NAME}, паспорт {PASSPORT}")
        card = await staff_card(bot, rid, "Отклонить")
        mark = bot.api.mark()
        bot.press(STAFF, card, "Отклонить")
        prompt = await bot.said(STAFF_CHAT, "причину отказа", after=mark)
        staff_reply(bot, prompt, f"{NAME} ({PHONE}) не найден в CRM")
        shown = await bot.said(STAFF_CHAT, "Отклонить запрос", after=mark)
        bot.press(STAFF, shown, "Отправить")
        await bot.said(PERSON, "не найден в CRM", after=mark)

        # A correction flow abandoned half-way, with the passport in it.
        mark = bot.api.mark()
        bot.api.send_text(PERSON, "Хочу исправить свои данные", first_name=NAME)
        await bot.said(PERSON, "Какое поле", after=mark)
        for text, expect in (("паспорт", "Что сейчас"), (PASSPORT, "как должно быть")):
            mark = bot.api.mark()
            bot.api.send_text(PERSON, text, first_name=NAME)
            await bot.said(PERSON, expect, after=mark)
        mark = bot.api.mark()
        bot.api.send_text(PERSON, "4509 000111", first_name=NAME)
        await bot.said(PERSON, "Записал", after=mark)
        # A forged press (someone else's request, a staff button in a private chat): refused and logged.
        bot.api.press(PERSON, post, f"st:approve:{rid}", first_name=NAME)
        await asyncio.sleep(0.5)

        # By email: a question, then a request confirmed by a reply, which staff carry out.
        sender = f"{NAME} <{EMAIL}>"
        mid, raw = eml(sender=sender, subject=f"Вопрос от {NAME}",
                       body=f"Передаёте ли вы мои данные третьим лицам? Мой телефон {PHONE}.\n\n{NAME}")
        await bot.mail(raw)
        assert await bot.processed(mid) == "answered"
        _first, raw = eml(sender=sender, subject="Удаление данных",
                         body=f"Прошу удалить мои данные. {NAME}, паспорт {PASSPORT}, подруга Гретхен.")
        await bot.mail(raw)
        confirmation = await bot.wait_mail_where(EMAIL, lambda m: "[PR-" in m.header("Subject"))
        mid, raw = eml(sender=sender, subject=f"Re: {confirmation.header('Subject')}",
                       headers=f"In-Reply-To: {confirmation.header('Message-ID')}\r\n", body=f"Да. {NAME}")
        await bot.mail(raw)
        assert await bot.processed(mid) == "confirmed"
        rid2 = request_id_in(confirmation.header("Subject"))
        # Staff ask a question; the answer comes as a reply to their mail and is kept with the request.
        card = await staff_card(bot, rid2, "Нужны уточнения")
        mark = bot.api.mark()
        bot.press(STAFF, card, "Нужны уточнения")
        prompt = await bot.said(STAFF_CHAT, "вопросом для заявителя", after=mark)
        staff_reply(bot, prompt, "Уточните, пожалуйста, телефон.")
        shown = await bot.said(STAFF_CHAT, "этот вопрос", after=mark)
        bot.press(STAFF, shown, "Отправить")
        question = await bot.wait_mail_where(EMAIL, lambda m: "Уточните" in body_of(m))
        mid, raw = eml(sender=sender, subject=f"Re: {question.header('Subject')}",
                       headers=f"In-Reply-To: {question.header('Message-ID')}\r\n", body=f"Мой телефон {PHONE}")
        await bot.mail(raw)
        assert await bot.processed(mid) == "info_provided"
        await decide(bot, rid2, "Одобрить")
        await complete_deletion(bot, rid2)
        await bot.wait_db("SELECT status FROM requests WHERE id = ?", lambda r: r[0][0] == "completed",
                          params=(rid2,))

        # Every path wrote what it was given (so its absence below means something).
        holding = {table for table, *_ in personal_data_in(bot.database, NEEDLES)}
        assert holding >= {"requests", "request_messages", "telegram_fsm", "telegram_handoffs", "handoffs",
                           "telegram_users", "telegram_security_events", "telegram_staff_prompts", "outbox",
                           "email_inbound", "email_threads", "verification_codes"}, holding

        # The person asks to be forgotten.
        mark = bot.api.mark()
        bot.api.send_text(PERSON, "/forget", first_name=NAME)
        ask = await bot.said(PERSON, "Удалить данные переписки", after=mark)  # asked first
        bot.press(PERSON, ask, "Удалить", first_name=NAME)
        await bot.said(PERSON, "Готово", after=mark)
        await asyncio.sleep(1.0)  # let the outbox settle before the bot stops

    # Years later (closed requests keep their details for three), retention has run.
    config = load_config(REPO_ROOT / "config.toml",
                         environ={"PRIVACY_BOT__STORAGE__DATABASE": str(bot.database)})
    db = await Database(config.database_path).open()
    try:
        report = await RetentionJob(db, config).run(now=datetime.now(UTC) + timedelta(days=1500))
        assert sorted(report.redacted) == sorted([rid, rid2])
    finally:
        await db.close()

    found = personal_data_in(bot.database, NEEDLES)
    assert found == [], found
    # Not in free pages or the write-ahead log either: the bytes of the database file hold none of it.
    raw = b"".join(p.read_bytes() for p in bot.database.parent.glob(bot.database.name + "*"))
    assert [n for n in NEEDLES if n.encode() in raw] == []

