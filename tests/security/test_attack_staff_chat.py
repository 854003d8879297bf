"""Attack: make staff decisions or words reach the wrong person, or learn about a request, from outside.

A stranger who got into the staff group (not in ``staff_user_ids``) presses forged card, preset and prompt
buttons, replies to a person's handed-off message and to a staff prompt, and asks for a card. An outsider
in their private chat presses every staff-shaped button with the victim's request id (and with an id that
does not exist, to compare the answers), presses "answer the question" for the victim's request and types
an answer. Nothing changes, nothing reaches the victim, and the answers do not tell an existing request
from a missing one.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.security.live import (
    STAFF,
    STAFF_CHAT,
    LiveBot,
    live_bot,
    phone_request,
    staff_card,
    staff_reply,
    talk_to_person,
)
from tests.servers.dovecot import DovecotServer

pytestmark = pytest.mark.slow

VICTIM = 5101
STRANGER = 6201  # a member of the staff group, not staff
OUTSIDER = 6202


def status(bot: LiveBot, request_id: str) -> str:
    return str(bot.query("SELECT status FROM requests WHERE id = ?", (request_id,))[0][0])


async def alert_for(bot: LiveBot, update_id: int) -> str:
    """The answer the bot gave to one press (matched by its callback query id)."""
    call = await bot.api.wait_for(lambda c: c.method == "answerCallbackQuery"
                                  and c.params.get("callback_query_id") == f"cq{update_id}")
    return call.text


async def test_strangers_move_nothing_and_reach_nobody(tmp_path: Path, dovecot: DovecotServer) -> None:
    async with live_bot(tmp_path, dovecot) as bot:
        rid, _ = await phone_request(bot, VICTIM, "+7 900 555-12-34")
        card = await staff_card(bot, rid, "Телефон проверен")
        mark = bot.api.mark()
        bot.press(STAFF, card, "Телефон проверен")
        card = await staff_card(bot, rid, "Нужны уточнения", after=mark)
        mark = bot.api.mark()
        bot.press(STAFF, card, "Нужны уточнения")
        prompt = await bot.said(STAFF_CHAT, "вопросом для заявителя", after=mark)
        staff_reply(bot, prompt, "Назовите, пожалуйста, номер договора.")
        shown = await bot.said(STAFF_CHAT, "этот вопрос", after=mark)
        bot.press(STAFF, shown, "Отправить")
        await bot.said(VICTIM, "номер договора", after=mark)
        await bot.wait_db("SELECT status FROM requests WHERE id = ?", lambda r: r[0][0] == "needs_info", params=(rid,))
        _, handoff_post = await talk_to_person(bot, VICTIM, "Когда будет ответ?")
        # A prompt staff opened and have not answered yet (reject, on the card).
        card = await staff_card(bot, rid, "Отклонить")
        mark = bot.api.mark()
        bot.press(STAFF, card, "Отклонить")
        open_prompt = await bot.said(STAFF_CHAT, "причину отказа", after=mark)
        prompt_ids = [row[0] for row in bot.query("SELECT id FROM telegram_staff_prompts ORDER BY id")]

        start = bot.api.mark()
        # The stranger in the staff group.
        for data in (f"st:approve:{rid}", f"st:reject:{rid}", f"st:complete:{rid}", f"rj:{rid}:1",
                     *(f"sp:{pid}:send" for pid in prompt_ids), f"so:{rid}", "dc:1:c:contacts", "dc:1:ok:"):
            bot.api.press(STRANGER, card, data)
        staff_reply(bot, handoff_post, "STRANGER-TO-VICTIM", staff=STRANGER)
        staff_reply(bot, open_prompt, "STRANGER-REASON", staff=STRANGER)
        bot.api.send_text(STRANGER, f"/request {rid}", chat_id=STAFF_CHAT)

        # The outsider in their own chat, with the victim's id and with a missing one.
        mark = bot.api.mark()
        bot.api.send_text(OUTSIDER, "/start")
        menu = await bot.said(OUTSIDER, "Здравствуйте", after=mark)
        answers: dict[str, list[str]] = {}
        for request_id in (rid, "PR-2026-9999"):
            for data in (f"i:{request_id}", f"st:approve:{request_id}", f"rj:{request_id}:1", f"so:{request_id}"):
                update_id = bot.api.press(OUTSIDER, menu, data)
                answers.setdefault(data.replace(request_id, "ID"), []).append(await alert_for(bot, update_id))
        bot.api.press(OUTSIDER, menu, f"sp:{prompt_ids[0]}:send")
        mark = bot.api.mark()
        bot.api.send_text(OUTSIDER, "OUTSIDER-ANSWER: договор 12345")
        await bot.said(OUTSIDER, "", after=mark)
        await asyncio.sleep(1.5)  # anything misrouted would have gone out by now

        assert status(bot, rid) == "needs_info"
        assert bot.query("SELECT state FROM telegram_staff_prompts ORDER BY id") == [("used",), ("open",)]
        to_victim = [c.text for c in bot.api.calls[start:] if c.chat_id == VICTIM]
        assert to_victim == [], to_victim
        kept = str(bot.query("SELECT body FROM request_messages")) + str(bot.query("SELECT * FROM requests"))
        assert "OUTSIDER-ANSWER" not in kept and "STRANGER" not in kept
        # No card or request text reached the stranger or the outsider.
        leaked = [c.text for c in bot.api.calls[start:] if rid in c.text and c.method == "sendMessage"
                  and c.chat_id in (STRANGER, OUTSIDER)]
        assert leaked == [], leaked
        assert not [c for c in bot.api.calls[start:] if c.method == "sendMessage" and c.chat_id == STAFF_CHAT
                    and f"<code>{rid}</code></b>: " in c.text]
        # The same answer whether the request exists or not (and it is one of ours, not a hint).
        for data, texts in answers.items():
            assert len(texts) == 2 and texts[0] == texts[1], (data, texts)


async def test_a_strangers_press_naming_a_request_oddly_is_refused_cleanly(tmp_path: Path,
                                                                        dovecot: DovecotServer) -> None:
    """The refusal of a stranger's press notes the request in its trail; the id in forged data may be written
    in lower case or with spaces (the lookup forgives both): the refusal must still be answered, and the run
    must not end in a traceback."""
    async with live_bot(tmp_path, dovecot) as bot:
        rid, _ = await phone_request(bot, VICTIM, "+7 900 555-98-76")
        card = await staff_card(bot, rid, "Телефон проверен")
        answers = []
        for data in (f"st:approve:{rid.lower()}", f"st:verify: {rid} "):
            update_id = bot.api.press(STRANGER, card, data)
            answers.append(await alert_for(bot, update_id))
        assert all("только сотрудники" in text for text in answers), answers
        assert status(bot, rid) == "awaiting_verification"
