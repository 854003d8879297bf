"""Learning from staff, against ``privacy-bot run`` as a real process (our Bot API server, Dovecot, aiosmtpd).

A person's question the engine abstains on reaches the staff chat masked; a stranger in the staff group and
an outsider in their private chat press its buttons (refused, audited, nothing learnt); staff name the section
from the "other section…" list and the same question is then answered with it. A letter the engine abstains
on is decided at the command line while the bot runs, and the running bot answers the same letter with that
section within seconds. Nothing of the writers is in the learning tables. (The engine abstains below
``min_confidence = 0.99`` here, so unless it is all but certain or was taught the question.)
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from bot.config import REPO_ROOT
from bot.learning import CATCH_UP_SECONDS
from tests.security.live import (
    STAFF,
    STAFF_CHAT,
    LiveBot,
    body_of,
    eml,
    live_bot,
    personal_data_in,
)
from tests.servers.dovecot import DovecotServer

pytestmark = pytest.mark.slow

PERSON = 5301
STRANGER = 6301  # a member of the staff group, not staff
OUTSIDER = 6302
QUESTION = "Do you store biometric data like face scans? I'm Darya Volkova, +7 916 555-77-88"
LETTER = "Dear JetBit,\n\nWhat is your legal basis?\n\nKind regards,\nGleb Orlov\ngleb.orlov@example.net"


async def cli(bot: LiveBot, *args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(REPO_ROOT / "config.toml"), *args, env=bot.env(),
        cwd=str(REPO_ROOT), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def alert_for(bot: LiveBot, update_id: int) -> str:
    call = await bot.api.wait_for(lambda c: c.method == "answerCallbackQuery"
                                  and c.params.get("callback_query_id") == f"cq{update_id}")
    return call.text


async def test_staff_teach_the_running_bot_from_the_chat_and_the_command_line(tmp_path: Path,
                                                                             dovecot: DovecotServer) -> None:
    async with live_bot(tmp_path, dovecot, PRIVACY_BOT__POLICY__MIN_CONFIDENCE="0.99") as bot:
        mark = bot.api.mark()
        bot.api.send_text(PERSON, QUESTION, language_code="en", first_name="Darya")
        post = await bot.said(STAFF_CHAT, "Научите бота", after=mark)
        assert "biometric data" in post.text and "Darya" not in post.text and "555-77" not in post.text
        [(qid,)] = bot.query("SELECT id FROM learning_questions")

        # Strangers press what the post offers, and forge the rest.
        other = post.button("Другой раздел")["callback_data"]
        refused = [bot.api.press(STRANGER, post, other), bot.api.press(STRANGER, post, f"lq:{qid}:0:00000000"),
                   bot.api.press(STRANGER, post, f"la:{qid}:none")]
        outsider_chat = await bot.said(PERSON, "person")  # the bot's reply in a private chat
        refused.append(bot.api.press(OUTSIDER, outsider_chat, f"la:{qid}:none"))
        for update_id in refused:
            assert await alert_for(bot, update_id)
        await bot.wait_db("SELECT COUNT(*) FROM telegram_security_events", lambda r: r[0][0] >= 4)
        assert bot.query("SELECT status FROM learning_questions") == [("pending",)]

        mark = bot.api.mark()
        bot.press(STAFF, post, "Другой раздел")
        listing = await bot.api.wait_for(lambda c: c.method == "editMessageText" and c.chat_id == STAFF_CHAT
                                         and len(c.buttons) > 5, after=mark)
        mark = bot.api.mark()
        bot.press(STAFF, listing, "Персональные данные")
        await bot.said(STAFF_CHAT, "Выучено", after=mark)
        assert bot.query("SELECT status, section_id FROM learning_questions") == [("learnt", "personal-data")]
        # A replayed press changes nothing and says who decided.
        replay = bot.api.press(STAFF, listing, listing.button("Персональные данные")["callback_data"])
        assert "Уже решено" in await alert_for(bot, replay)

        mark = bot.api.mark()
        bot.api.send_text(PERSON, QUESTION, language_code="en", first_name="Darya")
        answer = await bot.said(PERSON, "jetbit.ru/policy", after=mark)
        assert "Personal Data" in answer.text

        # By email, decided at the command line while the bot runs.
        mid, raw = eml(sender="Gleb Orlov <gleb.orlov@example.net>", subject="Question", body=LETTER)
        await bot.mail(raw)
        assert await bot.processed(mid) == "handoff"
        rows = await bot.wait_db("SELECT id, channel, text FROM learning_questions WHERE channel = 'email'",
                                 lambda r: len(r) == 1)
        [(email_qid, _, text)] = rows
        assert text == "What is your legal basis?"
        out = await cli(bot, "examples", "review", "--by", "anna", "--id", str(email_qid), "--section",
                        "legal-requirement")
        assert str(email_qid) in out
        await asyncio.sleep(CATCH_UP_SECONDS + 1)  # the running bot picks the decision up
        mid, raw = eml(sender="Gleb Orlov <gleb.orlov@example.net>", subject="Question again", body=LETTER)
        await bot.mail(raw)
        assert await bot.processed(mid) == "answered"
        reply = await bot.wait_mail_where("gleb.orlov@example.net", lambda m: "Question again" in m.header("Subject"))
        assert "By Legal Requirement" in body_of(reply)

        learning_tables = {"learning_questions", "learning_audit"}
        found = [hit for hit in personal_data_in(bot.database, ["Darya", "Volkova", "916555", "Gleb", "Orlov",
                                                                "gleb.orlov", "example.net"])
                 if hit[0] in learning_tables]
        assert found == []
        events = bot.query("SELECT actor, details FROM learning_audit ORDER BY id")
        assert [e[0] for e in events] == [f"staff:Test (tg:{STAFF})", "staff:anna"]
