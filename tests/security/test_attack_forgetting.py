"""Attack: find a person's data after ``/forget`` and retention, through paths the developers' test does not
take: a request entered with the CLI (``requests create``), a Telegram access request answered with a
passport number, a blocked bot, forged presses, and mail: a request with an attachment, an
auto-reply and a bounce, all from a mail client that names the sender's machine in its Message-IDs (mutt,
sendmail and many scripts write ``<date.GAnnnn@host>``; the host is often the owner's name).

Then, years later (retention at +1500 days), every column of every table (the append-only audit trail
included), the database file bytes and the bot's log are searched for the person.
"""

from __future__ import annotations

import asyncio
import re
import sys
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

PERSON = 986420001
NAME = "Ulrika Xyzzyfoo"
EMAIL = "ulrika.xyzzyfoo@example.net"
PHONE = "+7 913 555-44-33"
PASSPORT = "4611 902817"
HOST = "xyzzyfoo-laptop.example.net"  # her machine, as her mail client names it in Message-IDs
NEEDLES = [str(PERSON), "Ulrika", "Xyzzyfoo", "xyzzyfoo", "9135554433", "902817"]
# Columns that hold only Message-IDs (or keys made of them): what the mail client put there.
MESSAGE_ID_COLUMNS = {("email_inbound", "message_id"), ("email_threads", "root_message_id"),
                      ("email_threads", "last_inbound_message_id"), ("email_outbound", "idempotency_key"),
                      ("outbox", "idempotency_key"), ("handoffs", "reference"), ("requests", "thread_ref")}


def her_mid(n: int) -> str:
    return f"<20261130100{n:03d}.GA{4000 + n}@{HOST}>"


async def cli(bot: LiveBot, *args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(REPO_ROOT / "config.toml"), *args, env=bot.env(),
        cwd=str(REPO_ROOT), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def press_staff(bot: LiveBot, rid: str, button: str) -> None:
    card = await staff_card(bot, rid, button)
    mark = bot.api.mark()
    bot.press(STAFF, card, button)
    await bot.api.wait_for(lambda c: c.method == "answerCallbackQuery", after=mark)
    await asyncio.sleep(0.3)


async def ask_and_answer(bot: LiveBot, rid: str, question: str) -> None:
    card = await staff_card(bot, rid, "Нужны уточнения")
    mark = bot.api.mark()
    bot.press(STAFF, card, "Нужны уточнения")
    prompt = await bot.said(STAFF_CHAT, "вопросом для заявителя", after=mark)
    staff_reply(bot, prompt, question)
    shown = await bot.said(STAFF_CHAT, "этот вопрос", after=mark)
    bot.press(STAFF, shown, "Отправить")


async def test_nothing_of_a_forgotten_person_is_left_anywhere(tmp_path: Path, dovecot: DovecotServer) -> None:
    async with live_bot(tmp_path, dovecot) as bot:
        # 1. Staff enter her request received by phone (CLI), then cancel it (she withdrew it).
        out = await cli(bot, "requests", "create", "--type", "correction", "--telegram-id", str(PERSON),
                        "--name", NAME, "--email", EMAIL, "--phone", PHONE, "--by", "Оператор",
                        "--details", f"Звонила {NAME}, паспорт {PASSPORT}")
        cli_request = request_id_in(out)
        await cli(bot, "requests", "cancel", cli_request, "--by", "Оператор")

        # 2. By mail: a deletion request with a scan attached, confirmed by her reply, carried out.
        boundary = "b0undary"
        body = (f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                f"Прошу удалить все мои персональные данные. {NAME}, паспорт {PASSPORT}.\r\n"
                f"--{boundary}\r\nContent-Type: application/pdf; name=\"passport-xyzzyfoo.pdf\"\r\n"
                f"Content-Disposition: attachment; filename=\"passport-xyzzyfoo.pdf\"\r\n"
                f"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--{boundary}--\r\n")
        _, raw = eml(sender=f"{NAME} <{EMAIL}>", subject="Удаление данных", body=body, mid=her_mid(1),
                     content_type=f'multipart/mixed; boundary="{boundary}"')
        await bot.mail(raw)
        confirmation = await bot.wait_mail_where(EMAIL, lambda m: "[PR-" in m.header("Subject"))
        mail_request = request_id_in(confirmation.header("Subject"))
        _, raw = eml(sender=f"{NAME} <{EMAIL}>", subject=f"Re: {confirmation.header('Subject')}", mid=her_mid(2),
                     headers=f"In-Reply-To: {confirmation.header('Message-ID')}\r\nReferences: {her_mid(1)}\r\n",
                     body=f"Да, это я. {NAME}")
        await bot.mail(raw)
        assert await bot.processed(her_mid(2)) == "confirmed"
        await press_staff(bot, mail_request, "Одобрить")
        await complete_deletion(bot, mail_request)
        # Her out-of-office answering our mail, and a bounce about her address.
        _, raw = eml(sender=f"{NAME} <{EMAIL}>", subject=f"Автоответ: {NAME} в отпуске", mid=her_mid(3),
                     headers="Auto-Submitted: auto-replied\r\n", body=f"{NAME} в отпуске, тел. {PHONE}")
        await bot.mail(raw)
        bounce = (f"From: MAILER-DAEMON@example.net\r\nTo: support@jetbit.ru\r\nSubject: Undelivered Mail\r\n"
                  f"Message-ID: <bounce-1@example.net>\r\nMIME-Version: 1.0\r\n"
                  f"Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n"
                  f"--r\r\nContent-Type: text/plain\r\n\r\n<{EMAIL}>: mailbox of {NAME} is full\r\n--r--\r\n")
        await bot.mail(bounce.encode())
        assert (await bot.processed(her_mid(3))).startswith("auto:")
        assert (await bot.processed("<bounce-1@example.net>")).startswith("auto:")

        # 3. Telegram: an access request with her email proven by the code; staff ask, she answers.
        mark = bot.api.mark()
        bot.api.send_text(PERSON, "Хочу получить копию моих данных", first_name=NAME)
        intro = await bot.said(PERSON, "/cancel", after=mark)
        mark = bot.api.mark()
        bot.api.send_text(PERSON, f"Я {NAME}, нужна копия всего", first_name=NAME)
        await bot.said(PERSON, "номеру телефона", after=mark)
        before = len(bot.mail_to(EMAIL))
        mark = bot.api.mark()
        bot.api.send_text(PERSON, EMAIL, first_name=NAME)
        await bot.said(PERSON, "шестизначный код", after=mark)
        code_mail = (await bot.wait_mail_to(EMAIL, before + 1))[-1]
        code = re.search(r"\b\d{6}\b", body_of(code_mail))
        assert code and intro
        mark = bot.api.mark()
        bot.api.send_text(PERSON, code.group(0), first_name=NAME)
        summary = await bot.said(PERSON, "Проверьте ваш запрос", after=mark)
        mark = bot.api.mark()
        bot.press(PERSON, summary, "Подтвердить", first_name=NAME)
        created = await bot.said(PERSON, "зарегистрирован", after=mark)
        tg_request = request_id_in(created.text)
        mark = bot.api.mark()
        await ask_and_answer(bot, tg_request, "Укажите номер паспорта.")
        await bot.said(PERSON, "нужны уточнения", after=mark)
        await bot.wait_db("SELECT COUNT(*) FROM telegram_fsm WHERE user_id = ? AND state = 'Conversation:info_answer'",
                          lambda rows: rows[0][0] == 1, params=(PERSON,))
        mark = bot.api.mark()
        bot.api.send_text(PERSON, f"Паспорт {PASSPORT}", first_name=NAME)
        await bot.said(PERSON, "добавлен к запросу", after=mark)
        await press_staff(bot, tg_request, "Одобрить")
        await press_staff(bot, tg_request, "Выполнено")

        # 4. She talks to a person, blocks the bot before staff answer, then comes back.
        _, post = await talk_to_person(bot, PERSON, f"Это {NAME}, тел. {PHONE}", first_name=NAME)
        bot.api.blocked_chats.add(PERSON)
        mark = bot.api.mark()
        staff_reply(bot, post, f"{NAME}, перезвоните нам")
        await bot.said(STAFF_CHAT, "заблокировал", after=mark)
        bot.api.blocked_chats.discard(PERSON)
        # Forged presses carrying her name (a flood is only counted in memory: nothing to look for).
        mark = bot.api.mark()
        bot.api.send_text(PERSON, "/start", first_name=NAME)
        menu = await bot.said(PERSON, "Здравствуйте", after=mark)
        for data in (f"st:approve:{NAME}", f"m:{NAME}", f"i:{tg_request}", f"s:{EMAIL}"):
            bot.api.press(PERSON, menu, data, first_name=NAME)
        await bot.wait_db("SELECT COUNT(*) FROM telegram_security_events WHERE user_id = ?",
                          lambda rows: rows[0][0] >= 4, params=(PERSON,))
        mark = bot.api.mark()
        bot.api.send_text(PERSON, "/forget", first_name=NAME)
        ask = await bot.said(PERSON, "Удалить данные переписки", after=mark)  # asked first
        bot.press(PERSON, ask, "Удалить", first_name=NAME)
        await bot.said(PERSON, "Готово", after=mark)
        await asyncio.sleep(1.0)

    config = load_config(REPO_ROOT / "config.toml", environ={"PRIVACY_BOT__STORAGE__DATABASE": str(bot.database)})
    db = await Database(config.database_path).open()
    try:
        report = await RetentionJob(db, config).run(now=datetime.now(UTC) + timedelta(days=1500))
        assert sorted(report.redacted) == sorted([cli_request, mail_request, tg_request])
    finally:
        await db.close()

    found = personal_data_in(bot.database, NEEDLES)
    assert [f for f in found if (f[0], f[1]) not in MESSAGE_ID_COLUMNS] == [], found
    # Message-IDs her mail client wrote name her machine: they are hers as much as the subject was.
    assert found == [], found
    raw = b"".join(p.read_bytes() for p in bot.database.parent.glob(bot.database.name + "*"))
    assert [n for n in NEEDLES if n.encode() in raw] == []
    log = bot.log_path.read_text(errors="replace")
    assert [n for n in (EMAIL, PHONE, PASSPORT, "9135554433") if n in log] == []

