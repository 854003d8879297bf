"""End to end: ``privacy-bot run`` as a real process against our loopback Bot API server and SMTP server."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from tests.servers.botapi import BotApiServer, Call
from tests.servers.botprocess import STAFF_CHAT, STAFF_USER, running
from tests.servers.smtp import SmtpServer

pytestmark = pytest.mark.slow

OUTSIDER = 888
PERSON = 5001
PERSON_EN = 5002
STEP_WITHIN = 15.0


def _code_from(mail_body: str) -> str:
    found = re.search(r"\b(\d{6})\b", mail_body)
    assert found, mail_body
    return found.group(1)


def _press(api: BotApiServer, user: int, call: Call, button_text: str) -> None:
    api.press(user, call, call.button(button_text)["callback_data"])


async def test_questions_deletion_with_email_code_restart_staff_approval_and_api_errors(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    with SmtpServer() as smtp:
        async with BotApiServer() as api:
            async with running(api, smtp, database):
                commands = await api.wait_for(lambda c: c.method == "setMyCommands"
                                              and c.params.get("language_code") == "ru", within=STEP_WITHIN)
                assert "myrequests" in str(commands.params["commands"])
                # A question in Russian and one in English, each answered in its language with a link.
                mark = api.mark()
                api.send_text(PERSON, "Передаёте ли вы мои данные третьим лицам?", language_code="ru")
                ru = await api.wait_for_message(PERSON, "jetbit.ru/policy", after=mark, within=STEP_WITHIN)
                assert "Полный текст политики" in ru.text
                assert ru.button("помогло")
                mark = api.mark()
                api.send_text(PERSON_EN, "Do you share my data with third parties?", language_code="en")
                en = await api.wait_for_message(PERSON_EN, "jetbit.ru/policy", after=mark, within=STEP_WITHIN)
                assert "Full policy" in en.text and en.button("helped")

                # The deletion flow, started by free text.
                mark = api.mark()
                api.send_text(PERSON, "Удалите мои данные, пожалуйста", language_code="ru")
                intro = await api.wait_for_message(PERSON, "удалили", after=mark, within=STEP_WITHIN)
                mark = api.mark()
                _press(api, PERSON, intro, "Пропустить")
                await api.wait_for_message(PERSON, "адресу электронной почты", after=mark, within=STEP_WITHIN)
                mark = api.mark()
                api.send_text(PERSON, "Person@Example.com")
                await api.wait_for_message(PERSON, "шестизначный код", after=mark, within=STEP_WITHIN)
                mails = await smtp.wait_for_async(1, STEP_WITHIN)
                mail = mails[-1].message()
                assert "person@example.com" in mails[-1].rcpt_tos
                body = mail.get_body(preferencelist=("plain",))
                assert body is not None
                code = _code_from(body.get_content())

            # Restart in the middle of the flow: the state was persisted, the code still works.
            async with running(api, smtp, database):
                mark = api.mark()
                api.send_text(PERSON, "000000" if code != "000000" else "111111")
                await api.wait_for_message(PERSON, "неверный", after=mark, within=STEP_WITHIN)
                mark = api.mark()
                api.send_text(PERSON, code)
                summary = await api.wait_for_message(PERSON, "Проверьте ваш запрос", after=mark, within=STEP_WITHIN)
                assert "person@example.com" in summary.text
                mark = api.mark()
                _press(api, PERSON, summary, "Подтвердить")
                created = await api.wait_for_message(PERSON, "зарегистрирован", after=mark, within=STEP_WITHIN)
                # In the order the person reads them: "sent, the number follows", then the number.
                told = [c.text for c in api.calls[mark:] if c.method == "sendMessage" and c.chat_id == PERSON]
                assert len(told) == 2 and "следующим сообщением" in told[0] and told[1] == created.text, told
                request_id = re.search(r"PR-\d{4}-\d{4}", created.text)
                assert request_id, created.text
                rid = request_id.group(0)
                card = await api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == STAFF_CHAT
                                          and rid in c.text, after=mark, within=STEP_WITHIN)
                assert "person@example.com" in card.text and card.button("Одобрить")

                # Someone in the staff chat who is not staff presses approve: refused and audited.
                mark = api.mark()
                _press(api, OUTSIDER, card, "Одобрить")
                refusal = await api.wait_for(lambda c: c.method == "answerCallbackQuery", after=mark,
                                             within=STEP_WITHIN)
                assert refusal.params.get("show_alert") in ("true", True)
                assert "сотрудники" in str(refusal.params.get("text", ""))

                # A staff member approves from the card; the card is edited in place; the person is told.
                mark = api.mark()
                _press(api, STAFF_USER, card, "Одобрить")
                edited = await api.wait_for(lambda c: c.method == "editMessageText" and c.chat_id == STAFF_CHAT
                                            and rid in c.text, after=mark, within=STEP_WITHIN)
                assert "одобрен" in edited.text.lower() and f"tg:{STAFF_USER}" in edited.text
                notified = await api.wait_for_message(PERSON, "одобрен", after=mark, within=STEP_WITHIN)
                assert rid in notified.text

                # The same stale button pressed again by staff: told who decided.
                mark = api.mark()
                _press(api, STAFF_USER, card, "Одобрить")
                stale = await api.wait_for(lambda c: c.method == "answerCallbackQuery"
                                           and bool(c.params.get("text")), after=mark, within=STEP_WITHIN)
                assert f"tg:{STAFF_USER}" in str(stale.params["text"])

                # The person blocks the bot; staff complete the request: the notice goes to the verified email.
                api.blocked_chats.add(PERSON)
                mails_before = len(smtp.messages)
                mark = api.mark()
                _press(api, STAFF_USER, edited, "Выполнено")
                # A deletion: staff first tick what was destroyed (for the act), then confirm.
                picker = await api.wait_for_message(STAFF_CHAT, "что уничтожено", after=mark, within=STEP_WITHIN)
                for button in ("контактные данные", "Далее", "корпоративная почта", "Подтвердить"):
                    pressed = api.mark()
                    _press(api, STAFF_USER, picker, button)
                    picker = await api.wait_for(lambda c: c.method == "editMessageText" and c.chat_id == STAFF_CHAT
                                                and rid in c.text, after=pressed, within=STEP_WITHIN)
                await api.wait_for(lambda c: c.method == "editMessageText" and c.chat_id == STAFF_CHAT
                                   and "выполнен" in c.text.lower(), after=mark, within=STEP_WITHIN)
                mails = await smtp.wait_for_async(mails_before + 1, STEP_WITHIN)
                fallback = mails[-1].message().get_body(preferencelist=("plain",))
                assert fallback is not None and rid in fallback.get_content()
                assert "person@example.com" in mails[-1].rcpt_tos
                api.blocked_chats.discard(PERSON)

                # Talking to a person: the message reaches the staff chat; a staff reply comes back as a reply.
                mark = api.mark()
                api.send_text(PERSON, "/start")
                menu = await api.wait_for_message(PERSON, "Здравствуйте", after=mark, within=STEP_WITHIN)
                _press(api, PERSON, menu, "Связаться с сотрудником")
                await api.wait_for_message(PERSON, "передам его сотрудникам", after=mark, within=STEP_WITHIN)
                original = api.send_text(PERSON, "Мне нужен живой человек")
                posted = await api.wait_for_message(STAFF_CHAT, "Мне нужен живой человек", after=mark,
                                                    within=STEP_WITHIN)
                mark = api.mark()
                api.send_text(STAFF_USER, "Здравствуйте, я на связи.", chat_id=STAFF_CHAT,
                              reply_to_message_id=int(posted.result["message_id"]), reply_to_text=posted.text)
                answer = await api.wait_for_message(PERSON, "я на связи", after=mark, within=STEP_WITHIN)
                assert int(answer.params["reply_to_message_id"]) == original

                # The Bot API answers 429 with retry_after, then 5xx: the reply still arrives, after the wait.
                api.fail_next("sendMessage", 429, retry_after=1, chat_id=PERSON_EN)
                api.fail_next("getUpdates", 502)
                mark = api.mark()
                api.send_text(PERSON_EN, "/start", language_code="en")
                reply = await api.wait_for_message(PERSON_EN, "privacy assistant", after=mark, within=STEP_WITHIN)
                failed = [c for c in api.calls[mark:] if c.method == "sendMessage" and c.result is None
                          and c.chat_id == PERSON_EN]
                assert failed, "the 429 was not hit"
                assert reply.at - failed[0].at >= 0.9  # retry_after was honoured
                api.fail_next("sendMessage", 500, times=2, chat_id=PERSON_EN)
                mark = api.mark()
                api.send_text(PERSON_EN, "/privacy", language_code="en")
                await api.wait_for_message(PERSON_EN, "What this bot stores", after=mark, within=STEP_WITHIN)
                assert len([c for c in api.calls[mark:] if c.method == "sendMessage" and c.result is None
                            and c.chat_id == PERSON_EN]) == 2

    with sqlite3.connect(database) as conn:
        events = [row[0] for row in conn.execute("SELECT event FROM request_audit WHERE request_id = ?", (rid,))]
        refused = conn.execute("SELECT COUNT(*) FROM request_audit WHERE event = 'not_staff_press'").fetchone()[0]
        status = conn.execute("SELECT status FROM requests WHERE id = ?", (rid,)).fetchone()[0]
        codes = conn.execute("SELECT code_hash FROM verification_codes").fetchall()
    assert status == "completed"
    assert refused == 1 and "status_changed" in events
    assert all(code.encode() not in bytes(row[0]) for row in codes)  # only a hash is stored
