"""Hostile and odd mail against the running bot: huge headers, absurd MIME nesting, a request said only in the
subject or above pasted material. (Issue #10, classes 10, 11, 17.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.live import STAFF_CHAT, LiveBot, eml, live_bot
from tests.servers.dovecot import DovecotServer

pytestmark = pytest.mark.slow

QUESTION = "Do you pass my personal data to third parties?"


def longest_header_line(mail_bytes: bytes) -> int:
    head = mail_bytes.split(b"\r\n\r\n", 1)[0]
    return max(len(line) for line in head.split(b"\r\n"))


async def test_every_header_we_write_is_folded(tmp_path: Path, dovecot: DovecotServer) -> None:
    async with live_bot(tmp_path, dovecot) as bot:
        long_mid = "<" + "m" * 1990 + "@sender.example>"
        cases = {
            "one 1,200-character word": dict(subject="Q" * 1200),
            "5,000 characters of words": dict(subject="privacy " * 625),
            "a long Russian subject": dict(subject="Вопрос о персональных данных " * 60),
            "a 2,000-character Message-ID": dict(subject="Question", mid=long_mid),
            "five hundred References": dict(subject="Re: q", headers="References: " + " ".join(
                f"<ref{n}-{'x' * 40}@sender.example>" for n in range(500)) + "\r\nIn-Reply-To: " + long_mid + "\r\n"),
        }
        for n, (what, args) in enumerate(cases.items()):
            address = f"fold{n}@example.com"
            _, raw = eml(sender=address, body=QUESTION, **args)
            await bot.mail(raw)
            [reply] = await bot.wait_mail_to(address)  # accepted by a server that refuses lines over 1001
            assert longest_header_line(reply.data) <= 998, what
        # A request whose thread keeps a 1,200-character subject: the confirmation goes out too.
        _, raw = eml(sender="threaded@example.com", subject="D" * 1200, body="Please delete all my personal data.")
        await bot.mail(raw)
        [confirmation] = await bot.wait_mail_to("threaded@example.com")
        assert longest_header_line(confirmation.data) <= 998 and "[PR-" in confirmation.header("Subject")


def nested(levels: int) -> bytes:
    inner = b"Content-Type: text/plain; charset=utf-8\r\n\r\nPlease delete my data.\r\n"
    for level in range(levels):
        boundary = f"b{level}".encode()
        inner = (b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n--' + boundary + b"\r\n"
                 + inner + b"\r\n--" + boundary + b"--\r\n")
    return inner


async def test_mail_that_cannot_be_read_reaches_staff(tmp_path: Path, dovecot: DovecotServer) -> None:
    async with live_bot(tmp_path, dovecot) as bot:
        cases = {
            "1,000 nested multiparts": nested(1000),
            "10,000 sibling parts": b'Content-Type: multipart/mixed; boundary="s"\r\n\r\n' + b"".join(
                b"--s\r\nContent-Type: application/octet-stream\r\n\r\nAAAA\r\n" for _ in range(10_000)) + b"--s--\r\n",
        }
        mark = bot.api.mark()
        for n, (what, structure) in enumerate(cases.items()):
            address = f"deep{n}@example.com"
            mid = f"<deep{n}@sender.example>"
            raw = (f"From: Deep Sender <{address}>\r\nTo: support@jetbit.ru\r\nSubject: Hello {n}\r\n"
                   f"Message-ID: {mid}\r\nMIME-Version: 1.0\r\n").encode() + structure
            await bot.mail(raw)
            assert await bot.processed(mid, within=30) == "unreadable", what
            post = await bot.said(STAFF_CHAT, address, after=mark, within=30)
            assert f"Hello {n}" in post.text, what


async def decision(bot: LiveBot, sender: str, subject: str, body: str) -> str:
    mid, raw = eml(sender=sender, subject=subject, body=body)
    await bot.mail(raw)
    return await bot.processed(mid)


CHAT_EXPORT = "\n".join(
    f"[{10 + n % 12}:{n % 60:02d}] Оператор: Какие данные вы собираете? Передаёте ли их третьим лицам? "
    f"Как защищены данные от взлома? Где хранятся cookie?" for n in range(40))
LOG = "\n".join(f"2026-11-30 10:{n % 60:02d}:00 INFO GET /policy?q=what+data+do+you+collect 200 "
                f"cookie=_ga referrer=https://jetbit.ru/" for n in range(60))


async def test_the_subject_and_the_top_of_a_letter_state_the_request(tmp_path: Path,
                                                                      dovecot: DovecotServer) -> None:
    async with live_bot(tmp_path, dovecot) as bot:
        # A request only in the subject.
        assert await decision(bot, "s1@example.com", "Удалите мои данные", "") == "request_created"
        assert await decision(bot, "s2@example.com", "Please delete all my personal data", "") == "request_created"
        assert await decision(bot, "s3@example.com", "Прошу удалить мои персональные данные",
                              "Здравствуйте,\n\n--\nОльга") == "request_created"
        # A request at the top, then pasted material full of other questions.
        assert await decision(bot, "s4@example.com", "Fwd: переписка",
                              "Прошу удалить все мои персональные данные. Ниже переписка с вашим оператором.\n\n"
                              + CHAT_EXPORT) == "request_created"
        assert await decision(bot, "s5@example.com", "logs",
                              "Please delete my account and all personal data you hold about me. "
                              "Our logs are below for reference.\n\n" + LOG) == "request_created"
        # A subject with no request in it and no body is not guessed at: staff read it.
        assert await decision(bot, "s6@example.com", "Scan", "") == "unreadable"
        for address in ("s1@example.com", "s2@example.com", "s4@example.com", "s5@example.com"):
            [confirmation] = await bot.wait_mail_to(address)
            assert "[PR-" in confirmation.header("Subject")
