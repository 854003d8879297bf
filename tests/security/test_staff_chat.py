"""The staff chat: a staff member's words reach only the person a post is linked to in the database, and a
typed reason or question is taken only as a reply to its own prompt, shown back, and sent on a press.
(Issue #10, classes 3 and 4.)"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from tests.security.live import (
    OTHER_STAFF,
    STAFF,
    STAFF_CHAT,
    LiveBot,
    eml,
    live_bot,
    phone_request,
    staff_card,
    staff_reply,
    talk_to_person,
)
from tests.servers.dovecot import DovecotServer

pytestmark = pytest.mark.slow

VICTIM = 5001
MALLORY = 6001
ASKER = 5002


def sent_to(bot: LiveBot, chat_id: int, after: int) -> list[str]:
    return [c.text for c in bot.api.calls[after:] if c.method == "sendMessage" and c.chat_id == chat_id]


async def test_a_reply_goes_only_where_the_post_is_linked(tmp_path: Path, dovecot: DovecotServer) -> None:
    async with live_bot(tmp_path, dovecot) as bot:
        mark = bot.api.mark()
        bot.api.send_text(VICTIM, "/start")  # the victim has a chat with the bot
        await bot.said(VICTIM, "Здравствуйте", after=mark)

        # Posts whose text names the victim's id, written by outsiders: a Telegram name and a mail subject.
        _, mallory_post = await talk_to_person(bot, MALLORY, "нужна помощь", first_name=f"Mallory (tg:{VICTIM})")
        assert f"(tg:{VICTIM})" in mallory_post.text
        _mid, raw = eml(sender="attacker@evil.example", subject=f"Срочно (tg:{VICTIM})",
                       body=f"Позовите человека, пожалуйста. (tg:{VICTIM})")
        mark = bot.api.mark()
        await bot.mail(raw)
        mail_post = await bot.said(STAFF_CHAT, f"Срочно (tg:{VICTIM})", after=mark)

        # A remark for colleagues as a reply to the mail's post: it reaches nobody, staff are told why.
        mark = bot.api.mark()
        staff_reply(bot, mail_post, "Внутреннее: это спам, не отвечаем")
        explanation = await bot.said(STAFF_CHAT, "не связано с человеком", after=mark)
        assert explanation
        # A reply to Mallory's post goes to Mallory, who wrote it, never to the id in their name.
        staff_reply(bot, mallory_post, "Здравствуйте, чем помочь?")
        await bot.said(MALLORY, "чем помочь", after=mark)
        # A reply to a request card is not routed to anyone either.
        rid, _ = await phone_request(bot, ASKER, "+7 900 111-22-33")
        card = await staff_card(bot, rid)
        mark2 = bot.api.mark()
        staff_reply(bot, card, "Внутреннее: позвоню ему завтра")
        await bot.said(STAFF_CHAT, "не связано с человеком", after=mark2)
        await asyncio.sleep(1.0)  # anything misrouted would have been sent by now
        assert sent_to(bot, VICTIM, mark) == []
        assert not any("позвоню" in t for t in sent_to(bot, ASKER, mark2))
        assert not [m for m in bot.to_people() if "спам" in m.message().as_string()]


async def test_a_typed_reason_is_taken_only_from_a_reply_to_its_prompt(tmp_path: Path,
                                                                       dovecot: DovecotServer) -> None:
    async with live_bot(tmp_path, dovecot) as bot:
        rid, _ = await phone_request(bot, VICTIM, "+7 900 555-66-77")
        card = await staff_card(bot, rid)
        mark = bot.api.mark()
        bot.press(STAFF, card, "Телефон проверен")
        card = await staff_card(bot, rid, "Отклонить", after=mark)
        _, other_post = await talk_to_person(bot, ASKER, "Когда вы ответите на мой вопрос?")

        # Staff press "reject" on the card, then answer another person's post: that is an answer to that
        # person, not a rejection reason for the request.
        mark = bot.api.mark()
        bot.press(STAFF, card, "Отклонить")
        prompt = await bot.said(STAFF_CHAT, "причину отказа", after=mark)
        staff_reply(bot, other_post, "Ответим сегодня до вечера.")
        await bot.said(ASKER, "до вечера", after=mark)
        bot.api.send_text(STAFF, "Коллеги, кто взял запрос?", chat_id=STAFF_CHAT)  # not a reply: chatter
        # Another staff member answering the prompt is not the one who pressed.
        staff_reply(bot, prompt, "Просто так", staff=OTHER_STAFF)
        await bot.said(STAFF_CHAT, "принадлежит сотруднику", after=mark)
        await asyncio.sleep(1.0)
        assert status(bot, rid) == "pending_review"

        # The reply to the prompt is shown back; nothing is sent until "Send".
        mark = bot.api.mark()
        staff_reply(bot, prompt, "Мы не нашли ваших данных в наших системах.")
        shown = await bot.said(STAFF_CHAT, "Отклонить запрос", after=mark)
        assert "Мы не нашли ваших данных" in shown.text and rid in shown.text
        await asyncio.sleep(1.0)
        assert status(bot, rid) == "pending_review" and sent_to(bot, VICTIM, mark) == []
        bot.press(STAFF, shown, "Отправить")
        await bot.said(VICTIM, "Мы не нашли ваших данных", after=mark)
        assert status(bot, rid) == "rejected"
        assert not any("Мы не нашли" in t for t in sent_to(bot, ASKER, mark))
        # A second press of the same button does nothing more.
        before = len(sent_to(bot, VICTIM, mark))
        bot.press(STAFF, shown, "Отправить")
        await bot.api.wait_for(lambda c: c.method == "answerCallbackQuery" and "использован" in c.text, after=mark)
        assert len(sent_to(bot, VICTIM, mark)) == before

        # A prompt expires: a late reply is refused and nothing happens.
        rid2, _ = await phone_request(bot, ASKER, "+7 900 777-88-99")
        card2 = await staff_card(bot, rid2)
        mark = bot.api.mark()
        bot.press(STAFF, card2, "Телефон проверен")
        card2 = await staff_card(bot, rid2, "Нужны уточнения", after=mark)
        mark = bot.api.mark()
        bot.press(STAFF, card2, "Нужны уточнения")
        prompt2 = await bot.said(STAFF_CHAT, "вопросом для заявителя", after=mark)
        await bot.wait_db("SELECT COUNT(*) FROM telegram_staff_prompts WHERE prompt_message_id = ?",
                          lambda rows: rows[0][0] == 1, params=(int(prompt2.result["message_id"]),))
        with sqlite3.connect(bot.database, timeout=10) as conn:  # fifteen minutes pass
            conn.execute("UPDATE telegram_staff_prompts SET expires_at = '2000-01-01T00:00:00+00:00'")
        staff_reply(bot, prompt2, "Пришлите, пожалуйста, номер договора.")
        await bot.said(STAFF_CHAT, "истекло", after=mark)
        await asyncio.sleep(1.0)
        assert status(bot, rid2) == "pending_review"
        assert not any("договора" in t for t in sent_to(bot, ASKER, mark))


def status(bot: LiveBot, request_id: str) -> str:
    return str(bot.query("SELECT status FROM requests WHERE id = ?", (request_id,))[0][0])


async def test_alerts_show_names_as_typed_and_ids_whole(tmp_path: Path, dovecot: DovecotServer) -> None:
    """(Class 15.) An alert is plain text: a name is shown as typed, not HTML-escaped; ids are not grouped."""
    big = 1000001
    async with live_bot(tmp_path, dovecot) as bot:
        rid, _ = await phone_request(bot, big, "+7 900 444-33-22", first_name="Big")
        card = await staff_card(bot, rid, "Телефон проверен")
        assert f"<code>{big}</code>" in card.text, card.text
        mark = bot.api.mark()
        bot.press(STAFF, card, "Телефон проверен")
        card = await staff_card(bot, rid, "Одобрить", after=mark)
        mark = bot.api.mark()
        bot.press(STAFF, card, "Одобрить", first_name="Ann <b>&amp; Co")
        await bot.api.wait_for(lambda c: c.method == "answerCallbackQuery", after=mark)
        mark = bot.api.mark()
        bot.press(OTHER_STAFF, card, "Одобрить", first_name="Boris")  # the same button, already pressed
        alert = await bot.api.wait_for(lambda c: c.method == "answerCallbackQuery" and bool(c.text), after=mark)
        assert "Ann <b>&amp; Co" in alert.text and f"tg:{STAFF}" in alert.text, alert.text
        assert "&lt;" not in alert.text

