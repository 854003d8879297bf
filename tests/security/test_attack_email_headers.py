"""Attacks on who a mail is from and on the headers we write back.

1. From tricks an attacker can write (encodings, comments, quoted names with addresses, folding, 8-bit,
   a long name, Sender/Reply-To/Return-Path naming someone else, groups): the reply goes to the one real
   address of the From header and nowhere else. A mail with more than one From header (RFC 5322: exactly
   one), including an obsolete "From :" the receiving server may read as the From, names several senders:
   it is never answered and goes to staff, like any other From that names more than one address.
2. Header injection through what ends up in a header we write (the subject, foreign Message-IDs): every
   reply is one mail to one address, with only the headers we write.
3. A Message-ID in raw 8-bit bytes (SMTPUTF8 mail, or an attacker): one such mail must not stop the mailbox
   for everyone else; an 8-bit id in In-Reply-To must not make a plain question unanswerable.
"""

from __future__ import annotations

import base64
import email
import email.policy
from pathlib import Path

import pytest

from tests.security.live import SUPPORT, LiveBot, eml, live_bot, message_id
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import ReceivedMail

pytestmark = pytest.mark.slow

VICTIM = "victim.hdr@example.com"
QUESTION = "Передаёте ли вы мои персональные данные третьим лицам?"
REQUEST = "Прошу удалить все мои персональные данные."
# The headers our replies carry (handlers/email/sender.py); anything else would be injected.
OUR_HEADERS = {"from", "to", "subject", "date", "message-id", "in-reply-to", "references", "auto-submitted",
               "x-auto-response-suppress", "content-language", "mime-version", "content-type",
               "content-transfer-encoding"}


def b64_word(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


def headers_of(mail: ReceivedMail) -> list[tuple[str, str]]:
    parsed = email.message_from_bytes(mail.data, policy=email.policy.compat32)
    return [(k.lower(), str(v)) for k, v in parsed.raw_items()]


def assert_clean_reply(mail: ReceivedMail, to: str) -> None:
    assert sorted(r.lower() for r in mail.rcpt_tos) == sorted({to, SUPPORT}), mail.rcpt_tos
    names = [name for name, _ in headers_of(mail)]
    assert set(names) <= OUR_HEADERS, names
    assert names.count("to") == 1 and [v for k, v in headers_of(mail) if k == "to"] == [to]
    head = mail.data.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 998
    assert b"\r\n\r\n" in mail.data and b"\n\n" not in head and b"\r\r" not in head


async def send_raw(bot: LiveBot, raw: bytes) -> None:
    await bot.mail(raw)


async def test_replies_go_only_to_the_real_from_address(tmp_path: Path, dovecot: DovecotServer) -> None:
    async with live_bot(tmp_path, dovecot) as bot:
        answerable = {
            "base64-encoded victim address as the name": (f"{b64_word(VICTIM)} <att1@evil.example>", ""),
            "victim address in a comment": (f"att2@evil.example ({VICTIM})", ""),
            "victim address inside a quoted name": (f'"Victim <{VICTIM}>" <att3@evil.example>', ""),
            "name folded onto a second line": ("Victim\r\n <att4@evil.example>", ""),
            "Sender, Reply-To and Return-Path naming the victim": (
                "att5@evil.example", f"Sender: {VICTIM}\r\nReply-To: {VICTIM}\r\nReturn-Path: <{VICTIM}>\r\n"),
            "8-bit UTF-8 quoted name with the victim address": (f'"Виктор {VICTIM}" <att6@evil.example>', ""),
            "a 5,000-character name": ("N" * 5000 + " <att7@evil.example>", ""),
            "a group of one": ("Friends: att8@evil.example;", ""),
        }
        for n, (what, (sender, extra)) in enumerate(answerable.items(), start=1):
            mid, raw = eml(sender=sender, subject=f"Вопрос {n}", body=QUESTION, headers=extra)
            await send_raw(bot, raw)
            assert await bot.processed(mid) == "answered", what
            [reply] = await bot.wait_mail_to(f"att{n}@evil.example")
            assert_clean_reply(reply, f"att{n}@evil.example")

        ambiguous = {
            "two From headers, the victim first": f"From: {VICTIM}\r\nFrom: att9@evil.example\r\n",
            "two From headers, the attacker first": f"From: att9@evil.example\r\nFrom: {VICTIM}\r\n",
            "an obsolete 'From :' before a From": f"From : att9@evil.example\r\nFrom: {VICTIM}\r\n",
        }
        outcomes = {}
        for what, from_lines in ambiguous.items():
            mid, raw = eml(sender="placeholder", subject="Удаление", body=REQUEST)
            raw = raw.replace(b"From: placeholder\r\n", from_lines.encode())
            await send_raw(bot, raw)
            outcomes[what] = await bot.processed(mid)

        assert all(o.startswith("bad_sender") for o in outcomes.values()), outcomes
        # Nothing ever reaches the victim, whose address the attacker wrote in every one of these mails.
        assert bot.mail_to(VICTIM) == [], [m.header("Subject") for m in bot.mail_to(VICTIM)]
        assert bot.query("SELECT COUNT(*) FROM request_identities WHERE kind = 'email' AND address = ?",
                         (VICTIM,)) == [(0,)]


async def test_nothing_we_write_carries_injected_headers(tmp_path: Path, dovecot: DovecotServer) -> None:
    async with live_bot(tmp_path, dovecot) as bot:
        subjects = {
            "encoded CR LF and a Bcc": "=?utf-8?q?Hello=0D=0ABcc:_inj1@evil.example?=",
            "encoded CR LF CR LF and a body": b64_word("Hi\r\nBcc: inj2@evil.example\r\n\r\nfake body"),
            "raw Unicode line separators": "Hi\u2028Bcc: inj3@evil.example\u0085Cc: inj3@evil.example",
            "encoded vertical tab, form feed, NUL": b64_word("Hi\x0bBcc: inj4@evil.example\x0c\x00"),
            "encoded lone LF and To": "=?utf-8?q?Hi=0ATo:_inj5@evil.example?=",
        }
        senders = []
        for n, subject in enumerate(subjects.values(), start=1):
            sender = f"sub{n}@example.com"
            senders.append(sender)
            # A question (answered with "Re: <subject>") and a request (its confirmation keeps the subject).
            _, raw = eml(sender=sender, subject=subject, body=QUESTION)
            await send_raw(bot, raw)
            _, raw = eml(sender=f"req{n}@example.com", subject=subject, body=REQUEST)
            await send_raw(bot, raw)
            senders.append(f"req{n}@example.com")
        # Foreign threading ids with header-looking tails (no whitespace, so they match the id pattern).
        odd_ids = f"<a@b>Bcc:inj6@evil.example {message_id()}\r\n"
        _, raw = eml(sender="ids@example.com", subject="Вопрос", body=QUESTION,
                     mid="<x>Bcc:inj6@evil.example@sender.example>",
                     headers=f"In-Reply-To: {odd_ids}References: <r@b>\r\n\tBcc: inj6@evil.example\r\n")
        await send_raw(bot, raw)
        senders.append("ids@example.com")
        for sender in senders:
            for reply in await bot.wait_mail_to(sender):
                assert_clean_reply(reply, sender)
        recipients = {r.lower() for m in bot.smtp.messages for r in m.rcpt_tos}
        assert recipients == {*senders, SUPPORT}, recipients - {*senders, SUPPORT}


async def test_an_8bit_message_id_does_not_stop_the_mailbox(tmp_path: Path, dovecot: DovecotServer) -> None:
    async with live_bot(tmp_path, dovecot) as bot:
        # First an 8-bit id only in In-Reply-To (a reply to someone's SMTPUTF8 mail): a question all the same.
        threaded = message_id()
        _, raw = eml(sender="utf8-reply@example.com", subject="Вопрос", body=QUESTION, mid=threaded,
                     headers="In-Reply-To: <письмо-1@example.com>\r\nReferences: <письмо-1@example.com>\r\n")
        await send_raw(bot, raw)
        threaded_outcome = await bot.processed(threaded)
        # RFC 6532 allows UTF-8 in headers; compat32 turns the bytes into surrogates, which SQLite refuses.
        poison = ("From: utf8@example.com\r\nTo: support@jetbit.ru\r\nSubject: Вопрос\r\n"
                  "Message-ID: <тест-1@example.com>\r\nMIME-Version: 1.0\r\n"
                  "Content-Type: text/plain; charset=utf-8\r\n\r\n" + QUESTION + "\r\n").encode()
        await send_raw(bot, poison)
        # Everybody else's mail after it.
        later, raw = eml(sender="later@example.com", subject="Вопрос", body=QUESTION)
        await send_raw(bot, raw)
        assert await bot.processed(later, within=12) == "answered"
        await bot.wait_mail_to("later@example.com")
        # The 8-bit mail itself is kept and looked at (answered, or handed to staff), not dropped.
        assert bot.query("SELECT COUNT(*) FROM email_inbound WHERE from_addr = 'utf8@example.com'") == [(1,)]
        assert threaded_outcome == "answered", threaded_outcome
