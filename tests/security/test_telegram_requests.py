"""Telegram request flows as an outsider drives them: codes typed in any digits, code limits that a /cancel
cannot reset, and a phone number that belongs to someone else's request. (Issue #10, classes 8, 9, 16.)"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from tests.security.live import LiveBot, body_of, live_bot, phone_request, request_id_in
from tests.servers.dovecot import DovecotServer

pytestmark = pytest.mark.slow

SCRIPTS = {
    "full-width": lambda d: chr(ord("０") + d),
    "Arabic-Indic": lambda d: chr(0x0660 + d),
    "superscript": lambda d: "⁰¹²³⁴⁵⁶⁷⁸⁹"[d],
    "Devanagari": lambda d: chr(0x0966 + d),
}


async def start_code(bot: LiveBot, user: int, email: str) -> str:
    """Deletion flow up to the code step; returns what the bot said after the address."""
    mark = bot.api.mark()
    bot.api.send_text(user, "Удалите мои данные")
    intro = await bot.said(user, "удалили", after=mark)
    mark = bot.api.mark()
    bot.press(user, intro, "Пропустить")
    await bot.said(user, "номеру телефона", after=mark)
    mark = bot.api.mark()
    bot.api.send_text(user, email)
    return (await bot.said(user, "код", after=mark)).text


async def test_codes_in_any_digits_and_limits_across_flows(tmp_path: Path, dovecot: DovecotServer) -> None:
    async with live_bot(tmp_path, dovecot) as bot:
        for n, (script, digit) in enumerate(SCRIPTS.items()):
            user, email = 7100 + n, f"digits{n}@example.com"
            await start_code(bot, user, email)
            [mail] = await bot.wait_mail_to(email)
            code = re.search(r"\b\d{6}\b", body_of(mail))
            assert code, body_of(mail)
            typed = " ".join("".join(digit(int(d)) for d in code.group(0)[i:i + 3]) for i in (0, 3))
            mark = bot.api.mark()
            bot.api.send_text(user, typed)
            reply = await bot.said(user, "", after=mark)
            assert "Адрес подтверждён" in reply.text, (script, typed, reply.text)

        # One code mail, then /cancel and a new flow at once: no second mail, the person is told to wait.
        await start_code(bot, 7200, "limits@example.com")
        await bot.wait_mail_to("limits@example.com")
        mark = bot.api.mark()
        bot.api.send_text(7200, "/cancel")
        await bot.said(7200, "", after=mark)
        said = await start_code(bot, 7200, "limits@example.com")
        assert "можно будет отправить через" in said
        # Another person asking for a code to the same address: the address's pause holds for them too.
        said = await start_code(bot, 7201, "limits@example.com")
        assert "можно будет отправить через" in said
        # The same person with another address: their own pause holds as well.
        mark = bot.api.mark()
        bot.api.send_text(7200, "/cancel")
        await bot.said(7200, "", after=mark)
        said = await start_code(bot, 7200, "elsewhere@example.com")
        assert "можно будет отправить через" in said
        await asyncio.sleep(1.5)  # anything enqueued would have gone out by now
        assert len(bot.mail_to("limits@example.com")) == 1
        assert bot.mail_to("elsewhere@example.com") == []
        # Nothing crashed on the way (the process log is checked when the bot stops).


async def test_a_phone_number_never_links_to_someone_elses_request(tmp_path: Path, dovecot: DovecotServer) -> None:
    async with live_bot(tmp_path, dovecot) as bot:
        victim_request, _ = await phone_request(bot, 5001, "+7 900 123-45-67")
        for n, phone in enumerate(("8 (900) 123 45 67", "+7 900 123 45 67", "+٧ ٩٠٠ ١٢٣ ٤٥ ٦٧")):
            attacker = 6001 + n
            mark = bot.api.mark()
            own_request, _created = await phone_request(bot, attacker, phone)
            # The attacker gets an answer, about a request of their own, and learns nothing of the victim's.
            assert own_request != victim_request
            said = " ".join(c.text for c in bot.api.calls[mark:] if c.chat_id == attacker)
            assert victim_request not in said
            assert "уже есть открытый запрос" not in said
        rows = bot.query("SELECT r.id, i.address FROM requests r JOIN request_identities i ON i.request_id = r.id"
                         " AND i.kind = 'telegram' ORDER BY r.id")
        assert len(rows) == 4 and rows[0] == (victim_request, "5001")
        assert bot.query("SELECT COUNT(*) FROM request_audit WHERE request_id = ? AND event = 'duplicate_linked'",
                         (victim_request,)) == [(0,)]
        # The victim hears nothing about any of it.
        assert not [c for c in bot.api.calls if c.chat_id == 5001 and "уже есть открытый" in c.text]

        # The same person asking again is told at once, in their chat, which of their requests is open
        # (before any detail, address or code is asked for).
        mark = bot.api.mark()
        bot.api.send_text(5001, "Удалите мои данные")
        told = await bot.said(5001, "уже есть открытый запрос", after=mark)
        assert not [c for c in bot.api.calls[mark:] if c.chat_id == 5001 and "удалили" in c.text]
        assert request_id_in(told.text) == victim_request
