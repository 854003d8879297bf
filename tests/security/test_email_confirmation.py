"""A request by email is confirmed only by someone who controls the mailbox: a reply naming our confirmation
mail's signed Message-ID, or its single-use token; and never by mail the receiving server says failed
DMARC, or SPF and DKIM for the From domain. (Issue #10, class 2.)"""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path

import pytest

from tests.security.live import STAFF_CHAT, LiveBot, body_of, eml, live_bot, request_id_in
from tests.servers.dovecot import DovecotServer

pytestmark = pytest.mark.slow

VICTIM = "victim@example.com"
PASS = "Authentication-Results: mx.jetbit.ru; spf=pass smtp.mailfrom=example.com; dkim=pass header.d=example.com;" \
       " dmarc=pass header.from=example.com\r\n"


def status(bot: LiveBot, request_id: str) -> str:
    return str(bot.query("SELECT status FROM requests WHERE id = ?", (request_id,))[0][0])


def guessable_message_id(idempotency_key: str) -> str:
    """How our Message-IDs were made before: a hash of the key, signed with a key anyone could derive."""
    key = hashlib.sha256(b"privacy-bot message-id\0privacy-bot:support@jetbit.ru").digest()
    token = hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
    return f"<pb-{token}-{hmac.new(key, token.encode(), hashlib.sha256).hexdigest()[:16]}@jetbit.ru>"


async def test_only_the_mailbox_owner_confirms(tmp_path: Path, dovecot: DovecotServer) -> None:
    async with live_bot(tmp_path, dovecot, PRIVACY_BOT__EMAIL__AUTH_SERVER_ID="mx.jetbit.ru") as bot:
        # The attacker files a deletion request in the victim's name (From is just text).
        first, raw = eml(sender=f"Victim <{VICTIM}>", subject="Удаление данных",
                         body="Прошу удалить все мои персональные данные.")
        await bot.mail(raw)
        [confirmation] = await bot.wait_mail_to(VICTIM)  # goes to the real owner, whom the attacker is not
        rid = request_id_in(confirmation.header("Subject"))
        assert status(bot, rid) == "awaiting_verification"
        ours = confirmation.header("Message-ID")

        forged_confirmations = {
            "request id in the subject": ("", f"Re: Подтвердите запрос {rid} [{rid}]"),
            "a reply to their own first mail": (f"In-Reply-To: {first}\r\nReferences: {first}\r\n", "Re: Удаление"),
            "a Message-ID computed the old, guessable way": (
                f"In-Reply-To: {guessable_message_id(f'email:{first}:email.confirm')}\r\n", "Re: confirm"),
            "an invented id in our format": (
                "In-Reply-To: <pb-0123456789abcdef01234567-0123456789abcdef@jetbit.ru>\r\n", "Re: confirm"),
            "a guessed token": ("", "Confirm"),
        }
        for what, (headers, subject) in forged_confirmations.items():
            mid, raw = eml(sender=VICTIM, subject=subject, headers=headers + PASS,
                           body="Подтверждаю. Код подтверждения: AAAAA-BBBBB")
            await bot.mail(raw)
            outcome = await bot.processed(mid)
            assert status(bot, rid) == "awaiting_verification", what
            assert not outcome.startswith("confirmed"), (what, outcome)

        # Even the real reply does not verify when the receiving server says the sender failed checks.
        failing = {
            "dmarc=fail": "Authentication-Results: mx.jetbit.ru; spf=pass smtp.mailfrom=example.com; dmarc=fail\r\n",
            "spf and dkim fail for example.com": "Authentication-Results: mx.jetbit.ru; spf=fail "
                                                 "smtp.mailfrom=example.com; dkim=fail header.d=example.com\r\n",
            "a forged pass under the server's fail": "Authentication-Results: mx.jetbit.ru; dmarc=fail\r\n"
                                                     "Authentication-Results: mx.jetbit.ru; dmarc=pass\r\n",
            "another server's pass above ours": "Authentication-Results: evil.example; dmarc=pass; spf=pass\r\n"
                                                "Authentication-Results: mx.jetbit.ru; dmarc=fail\r\n",
        }
        mark = bot.api.mark()
        for what, results in failing.items():
            mid, raw = eml(sender=VICTIM, subject="Re: confirm", headers=f"In-Reply-To: {ours}\r\n{results}",
                           body="Подтверждаю")
            await bot.mail(raw)
            assert await bot.processed(mid) != "confirmed", what
            assert status(bot, rid) == "awaiting_verification", what
        flags = str(bot.query("SELECT flags FROM requests WHERE id = ?", (rid,))[0][0])
        assert "confirmation_auth_failed" in flags
        # Staff see the warning on the request (the card and a note under it).
        await bot.api.wait_for(lambda c: c.chat_id == STAFF_CHAT and rid in c.text and "SPF/DKIM/DMARC" in c.text,
                                after=mark)

        # The owner answers our confirmation mail itself: confirmed.
        mid, raw = eml(sender=f"Victim <{VICTIM}>", subject=f"Re: {confirmation.header('Subject')}",
                       headers=f"In-Reply-To: {ours}\r\nReferences: {first} {ours}\r\n{PASS}", body="Да, это я.")
        await bot.mail(raw)
        assert await bot.processed(mid) == "confirmed"
        assert status(bot, rid) == "pending_review"

        # The token printed in the confirmation works for a new mail (not a reply), once.
        _second, raw = eml(sender="owner2@example.com", subject="Access", body="Please send me a copy of my data.")
        await bot.mail(raw)
        [confirmation2] = await bot.wait_mail_to("owner2@example.com")
        rid2 = request_id_in(confirmation2.header("Subject"))
        token = re.search(r"\b[A-Z2-7]{5}-[A-Z2-7]{5}\b", body_of(confirmation2))
        assert token, body_of(confirmation2)
        mid, raw = eml(sender="owner2@example.com", subject="hello again", body=f"My code is {token.group(0)}")
        await bot.mail(raw)
        assert await bot.processed(mid) == "confirmed"
        assert status(bot, rid2) == "pending_review"
        # The same token from the attacker's mail (another From) confirms nothing of anyone's.
        mid, raw = eml(sender="attacker@evil.example", subject="code", body=f"code {token.group(0)}")
        await bot.mail(raw)
        assert not (await bot.processed(mid)).startswith("confirmed")

