"""Attack: an email address "proven" in Telegram by a code that was never sent to it.

A code belongs to the person (subject ``tg:<id>``), and once that person has verified *some* address the
check answers "ok" for as long as the row lives, whatever is typed. The row is replaced only when a new code
is reserved; when the resend pause or the hourly cap refuses that reservation, the flow still moves to the
code step with the newly typed address. So: prove your own address, start a new flow, type the victim's
address (refused: "wait N s"), type anything: the victim's address is "proven" (EMAIL_CODE). The pause need
not be the attacker's own: an accomplice asking for a code to the victim's address pauses that address for
everyone, so an address the attacker proved long ago works as well.

With a proven address in hand the attacker also matches the victim's own open requests: a duplicate of the
victim's request is linked to it (their text is attached) and the attacker is told its id and due date.

Safe outcome: an address is proven only by the code sent to that very address.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

import pytest

from tests.security.live import LiveBot, body_of, eml, live_bot, request_id_in
from tests.servers.dovecot import DovecotServer

pytestmark = pytest.mark.slow

VICTIM_EMAIL = "victim.code@example.com"
ATTACKER_A = 8101
ATTACKER_B = 8102
ATTACKER_C = 8103
ACCOMPLICE = 8104
NOTE = "ATTACKER-NOTE-7731"


async def to_contact_step(bot: LiveBot, user: int, request_text: str, details: str | None = None) -> None:
    mark = bot.api.mark()
    bot.api.send_text(user, request_text)
    intro = await bot.said(user, "/cancel", after=mark)
    mark = bot.api.mark()
    if details is None:
        bot.press(user, intro, "Пропустить")
    else:
        bot.api.send_text(user, details)
    await bot.said(user, "номеру телефона", after=mark)


async def type_and_wait(bot: LiveBot, user: int, text: str) -> str:
    mark = bot.api.mark()
    bot.api.send_text(user, text)
    return (await bot.said(user, "", after=mark)).text


async def prove_own_address(bot: LiveBot, user: int, address: str) -> None:
    """The attacker proves an address they really own (the honest part of the attack)."""
    await to_contact_step(bot, user, "Удалите мои данные")
    said = await type_and_wait(bot, user, address)
    assert "шестизначный код" in said, said
    [mail] = await bot.wait_mail_to(address)
    code = re.search(r"\b\d{6}\b", body_of(mail))
    assert code, body_of(mail)
    said = await type_and_wait(bot, user, code.group(0))
    assert "Адрес подтверждён" in said, said
    # Leave the flow without /cancel (which would discard the code): /start only clears the dialogue.
    await type_and_wait(bot, user, "/start")


async def claim_victim_address(bot: LiveBot, user: int, request_text: str, details: str | None) -> list[str]:
    """The attacker types the victim's address, then any "code"; returns what the bot said."""
    said = []
    await to_contact_step(bot, user, request_text, details)
    said.append(await type_and_wait(bot, user, VICTIM_EMAIL))
    mark = bot.api.mark()
    bot.api.send_text(user, "000000")
    answer = await bot.said(user, "", after=mark)
    said.append(answer.text)
    if "Адрес подтверждён" in answer.text:
        summary = await bot.said(user, "Проверьте ваш запрос", after=mark)
        mark = bot.api.mark()
        bot.press(user, summary, "Подтвердить")
        await bot.said(user, "", after=mark)
        await asyncio.sleep(1.5)  # the core's notifications go through the outbox
    return said


async def test_a_code_never_proves_an_address_it_was_not_sent_to(tmp_path: Path, dovecot: DovecotServer) -> None:
    async with live_bot(tmp_path, dovecot) as bot:
        # The victim's own deletion request by email, confirmed by replying to our mail.
        first, raw = eml(sender=f"Victim <{VICTIM_EMAIL}>", subject="Удаление данных",
                         body="Прошу удалить все мои персональные данные.")
        await bot.mail(raw)
        [confirmation] = await bot.wait_mail_to(VICTIM_EMAIL)
        victim_request = request_id_in(confirmation.header("Subject"))
        mid, raw = eml(sender=VICTIM_EMAIL, subject=f"Re: {confirmation.header('Subject')}",
                       headers=f"In-Reply-To: {confirmation.header('Message-ID')}\r\nReferences: {first}\r\n",
                       body="Да, это я.")
        await bot.mail(raw)
        assert await bot.processed(mid) == "confirmed"

        # Attacker A: an access request "proven" for the victim's address.
        await prove_own_address(bot, ATTACKER_A, "attacker.a@evil.example")
        said_a = await claim_victim_address(bot, ATTACKER_A, "Хочу получить копию моих данных", None)
        # Attacker B: a deletion request in the victim's address, with their own text.
        await prove_own_address(bot, ATTACKER_B, "attacker.b@evil.example")
        said_b = await claim_victim_address(bot, ATTACKER_B, "Удалите мои данные", NOTE)
        # Attacker C proved their own address long ago (their own pause is over); an accomplice asks for a
        # code to the victim's address (the victim gets one), which pauses codes to that address for anyone.
        await prove_own_address(bot, ATTACKER_C, "attacker.c@evil.example")
        with sqlite3.connect(bot.database, timeout=10) as conn:  # two hours pass for C
            conn.execute("UPDATE verification_sends SET sent_at = '2000-01-01T00:00:00+00:00' WHERE subject = ?",
                         (f"tg:{ATTACKER_C}",))
        await to_contact_step(bot, ACCOMPLICE, "Удалите мои данные")
        assert "шестизначный код" in await type_and_wait(bot, ACCOMPLICE, VICTIM_EMAIL)
        said_c = await claim_victim_address(bot, ATTACKER_C, "Хочу получить копию моих данных", None)
        await asyncio.sleep(1.0)

        # The bot never said the victim's address was confirmed to anyone who did not type the victim's code.
        assert not any("Адрес подтверждён" in text for text in said_a + said_b + said_c), (said_a, said_b, said_c)
        # No request names the victim's address as proven except the victim's own.
        proven = bot.query("SELECT request_id, verified_by FROM request_identities WHERE kind = 'email'"
                           " AND address = ? AND verified_by IS NOT NULL", (VICTIM_EMAIL,))
        assert proven == [(victim_request, "email_reply")], proven
        assert bot.query("SELECT COUNT(*) FROM request_identities WHERE request_id = ? AND kind = 'telegram'",
                         (victim_request,)) == [(0,)]
        # The attackers learn nothing of the victim's request, and attach nothing to it.
        to_attackers = " ".join(c.text for c in bot.api.calls if c.chat_id in (ATTACKER_A, ATTACKER_B, ATTACKER_C))
        assert victim_request not in to_attackers
        attached = bot.query("SELECT body FROM request_messages WHERE request_id = ?", (victim_request,))
        assert not any(NOTE in str(body) for (body,) in attached), attached
        assert bot.query("SELECT COUNT(*) FROM request_audit WHERE request_id = ? AND event = 'duplicate_linked'",
                         (victim_request,)) == [(0,)]
