"""The email channel end to end: real Dovecot (IMAP) in, real aiosmtpd (SMTP) out, real SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import aioimaplib
import pytest

from bot.requests.models import RequestStatus
from handlers.email.message_ids import MessageIds
from handlers.email.parsing import parse_mail
from handlers.email.store import iso, utc_now
from tests.email.conftest import SUPPORT, Harness, eml

pytestmark = pytest.mark.slow


async def seen_flags(harness: Harness) -> dict[int, bool]:
    client = aioimaplib.IMAP4(host="127.0.0.1", port=harness.dovecot.port, timeout=5)
    await client.wait_hello_from_server()
    await client.login(harness.dovecot.user, harness.dovecot.password)
    await client.select("INBOX")
    response = await client.uid("fetch", "1:*", "(UID FLAGS)")
    await client.logout()
    flags = {}
    for line in response.lines:
        text = bytes(line).decode()
        if "FETCH" in text:
            uid = int(text.split("UID ")[1].split()[0].rstrip(")"))
            flags[uid] = "\\Seen" in text
    return flags


async def test_question_is_answered_in_the_same_thread(make_harness: Callable[..., Any]) -> None:
    async with make_harness() as h:
        assert h.channel.receiver.using_idle is True
        await h.append(eml("01_question_ru_gmail_qp.eml"))
        [reply] = await h.settle(1)
        message = reply.message()
        assert reply.rcpt_tos[0] == "anna.smirnova@gmail.com"
        assert message["In-Reply-To"] == "<CAFq1-question01@mail.gmail.com>"
        assert "<CAFq1-question01@mail.gmail.com>" in message["References"]
        assert message["Subject"] == "Re: Вопрос про персональные данные"
        assert message["Auto-Submitted"] == "auto-replied"
        assert message["X-Auto-Response-Suppress"] == "All"
        assert MessageIds(h.config, h.services.secret).is_ours(message["Message-ID"])
        body = message.get_body(("plain",)).get_content()
        assert body.startswith("Здравствуйте!") and "jetbit.ru/policy" in body
        outcomes = await h.processed(1)
        assert outcomes["<CAFq1-question01@mail.gmail.com>"] == "answered"
        # The self-copy of the reply reaches the mailbox and is recognised as ours, not answered.
        for _ in range(100):
            if "own_copy" in (await h.channel.store.inbound_outcomes()).values():
                break
            await asyncio.sleep(0.05)
        assert "own_copy" in (await h.channel.store.inbound_outcomes()).values()
        for _ in range(100):
            flags = await seen_flags(h)
            if flags and all(flags.values()):
                break
            await asyncio.sleep(0.05)
        assert flags and all(flags.values()), flags
        assert len(await h.settle(1)) == 1


CORPUS_OUTCOMES = {
    "02_question_en_cookies.eml": "answered",
    "03_question_ru_cp1251.eml": "answered",
    "04_question_ru_koi8r.eml": "answered",
    "05_question_ru_iso8859_5.eml": "answered",
    "06_question_ru_unknown8bit.eml": "answered",
    "07_question_en_rfc2047_base64.eml": "answered",
    "09_alternative_ru_yandex.eml": "answered",
    "10_html_only_en.eml": "answered",
    "12_attachment_ru.eml": "answered",
    "13_broken_mime.eml": "answered",
    "14_unreadable_binary.eml": "unreadable",
    "17_reply_outlook_en.eml": "answered",
    "18_reply_outlook_ru.eml": "answered",
    "22_auto_reply_ooo_en.eml": "auto:auto_submitted",
    "23_auto_reply_exchange_ru.eml": "auto:auto_response_suppress",
    "24_auto_reply_yandex_ru.eml": "auto:autoreply_header",
    "25_bounce_mailer_daemon.eml": "auto:robot_sender",
    "26_mailing_list.eml": "auto:precedence",
    "27_newsletter_noreply.eml": "auto:robot_sender",
    "36_human_ru.eml": "handoff",
    "37_out_of_scope_en.eml": "handoff",
    "38_greeting_ru.eml": "greeted",
    "40_own_address.eml": "auto:own_address",
}


async def test_corpus_outcomes_replies_and_handoffs(make_harness: Callable[..., Any]) -> None:
    async with make_harness() as h:
        for name in CORPUS_OUTCOMES:
            await h.append(eml(name))
        outcomes = await h.processed(len(CORPUS_OUTCOMES), seconds=20)
        expected_ids = {}
        for name, outcome in CORPUS_OUTCOMES.items():
            expected_ids[parse_mail(eml(name)).message_id] = (name, outcome)
        for message_id, (name, outcome) in expected_ids.items():
            assert outcomes.get(message_id) == outcome, (name, outcomes.get(message_id))
        answering = [n for n, o in CORPUS_OUTCOMES.items() if o in ("answered", "greeted", "handoff", "unreadable")]
        replies = await h.settle(len(answering), seconds=20)
        await asyncio.sleep(0.5)
        replies = await h.settle(len(answering))
        assert len(replies) == len(answering)
        recipients = sorted(r.rcpt_tos[0] for r in replies)
        assert "support@jetbit.ru" not in recipients
        assert not any(r.startswith(("noreply", "mailer-daemon", "digest@", "tom@", "o.sidorova", "nikolay"))
                       for r in recipients)
        # English mail is answered in English, Russian in Russian.
        by_rcpt = {r.rcpt_tos[0]: r.message().get_body(("plain",)).get_content() for r in replies}
        assert by_rcpt["john.miller@outlook.com"].startswith("Hello!")
        assert by_rcpt["p.ivanov@company.ru"].startswith("Здравствуйте!")
        assert "сотруднику" in by_rcpt["galina@mail.ru"]
        handoffs = await h.channel.handoffs.list()
        assert sorted(x.reason for x in handoffs) == ["human", "out_of_scope", "unreadable"]
        assert all(x.channel == "email" for x in handoffs)
        unreadable = next(x for x in handoffs if x.reason == "unreadable")
        assert "Вложения (не сохраняются): - (application/octet-stream, 1 KB)" in unreadable.text
        staff = [r.message for r in await h.services.outbox.records(limit=500) if r.message.channel == "staff"]
        assert sorted(m.kind for m in staff) == ["staff.handoff"] * 3


async def test_request_confirmed_by_reply_only_from_the_same_address(make_harness: Callable[..., Any]) -> None:
    async with make_harness() as h:
        await h.append(eml("28_request_deletion_ru.eml"))
        [confirm] = await h.settle(1)
        assert confirm.rcpt_tos[0] == "svetlana.orlova@yandex.ru"
        assert "[PR-2026-0001]" in confirm.header("Subject")
        assert confirm.header("In-Reply-To") == "<request28@yandex.ru>"
        request = await h.services.requests.get("PR-2026-0001")
        assert request.status is RequestStatus.AWAITING_VERIFICATION
        assert request.thread_ref == "<request28@yandex.ru>"
        # A "confirmation" from another address does not confirm, and gets nothing back.
        await h.append(eml("35_confirm_reply_other_sender.eml"))
        await h.processed(2)
        assert (await h.services.requests.get("PR-2026-0001")).status is RequestStatus.AWAITING_VERIFICATION
        assert [x.reason for x in await h.channel.handoffs.list()] == ["thread_other_sender"]
        # The right address and the request id in the subject, but no reply to our mail: anyone can write
        # that, so it confirms nothing and goes to staff.
        await h.append(eml("34_confirm_reply_ru.eml"))
        await h.processed(3)
        assert (await h.services.requests.get("PR-2026-0001")).status is RequestStatus.AWAITING_VERIFICATION
        assert [x.reason for x in await h.channel.handoffs.list()] == ["thread_other_sender", "unproven_confirmation"]
        # A real reply names the Message-ID of our confirmation mail: that proves the mailbox.
        reply = eml("34_confirm_reply_ru.eml").replace(
            b"Message-ID: <confirm34@yandex.ru>",
            f"Message-ID: <confirm34b@yandex.ru>\r\nIn-Reply-To: {confirm.header('Message-ID')}".encode())
        await h.append(reply)
        await h.processed(4)
        request = await h.services.requests.get("PR-2026-0001")
        assert request.status is RequestStatus.PENDING_REVIEW
        assert request.verification_method.value == "email_reply"
        replies = await h.settle(2)
        created = replies[1]
        assert created.rcpt_tos[0] == "svetlana.orlova@yandex.ru"
        assert created.header("In-Reply-To") == "<confirm34b@yandex.ru>"
        assert created.header("Subject") == "Re: Удаление данных [PR-2026-0001]"
        assert "<request28@yandex.ru>" in created.header("References")
        # Staff decide: the requester hears in the same thread.
        await h.services.requests.approve("PR-2026-0001", by="anna")
        approved = (await h.settle(3))[2]
        assert approved.rcpt_tos[0] == "svetlana.orlova@yandex.ru"
        assert approved.header("Subject") == "Re: Удаление данных [PR-2026-0001]"
        assert "PR-2026-0001" in approved.message().get_body(("plain",)).get_content()
        assert all(SUPPORT not in r.rcpt_tos[0] and "mallory" not in r.rcpt_tos[0] for r in await h.settle(3))


async def test_flags_auth_failure_third_party_and_reply_to(make_harness: Callable[..., Any]) -> None:
    async with make_harness() as h:
        for name in ("29_request_deletion_en_authfail.eml", "32_request_third_party_ru.eml",
                     "33_request_reply_to_differs.eml"):
            await h.append(eml(name))
        await h.processed(3)
        replies = await h.settle(2)
        by_rcpt = {r.rcpt_tos[0]: r for r in replies}
        # dmarc=fail: the From may be forged, so no confirmation is mailed to it; staff get a card instead.
        assert set(by_rcpt) == {"oleg.s@company.ru", "greg.white@example.com"}
        requests = {r.requester.email: r for r in await h.services.requests.list()}
        king = requests["robert.king@example.net"]
        assert king.status is RequestStatus.AWAITING_VERIFICATION
        cards = [r.message for r in await h.services.outbox.records(limit=500)
                 if r.message.kind == "staff.request_created" and r.request_id == king.id]
        assert len(cards) == 1
        assert king.flags["auth_failed"] is True
        assert king.flags["auth_results"] == {"spf": "softfail", "dkim": "fail", "dmarc": "fail"}
        # Shown wherever staff read the request (the chat card and the CLI print its details).
        assert king.details.startswith("⚠ Проверки сервера отправителя не пройдены (DKIM=fail, DMARC=fail, SPF=softfail)")
        assert "Please delete all my personal data" in king.details
        oleg = requests["oleg.s@company.ru"]
        assert oleg.flags["third_party_mentioned"] is True
        assert oleg.requester.email == "oleg.s@company.ru"
        assert "ivan.sidorov" not in str(oleg.requester)
        oleg_text = by_rcpt["oleg.s@company.ru"].message().get_body(("plain",)).get_content()
        assert "только в отношении данных самого заявителя" in oleg_text
        assert [x.reason for x in await h.channel.handoffs.list()] == ["third_party"]
        assert requests["greg.white@example.com"].flags["reply_to_differs"] is True
        assert "attacker@evil.example" in requests["greg.white@example.com"].details
        assert "данные другого человека" in oleg.details


async def test_reply_cap_and_duplicates(make_harness: Callable[..., Any]) -> None:
    async with make_harness(PRIVACY_BOT__EMAIL__REPLIES_PER_SENDER_PER_HOUR="2") as h:
        raw = eml("02_question_en_cookies.eml")
        for index in range(4):
            await h.append(raw.replace(b"<DB9PR01-question02@outlook.com>", f"<cap-{index}@outlook.com>".encode()))
        await h.append(raw.replace(b"<DB9PR01-question02@outlook.com>", b"<cap-0@outlook.com>"))  # same id again
        await h.processed(4)
        await asyncio.sleep(1.0)
        # Two answers, then one notice saying when answers resume; nothing for the fourth.
        sent = await h.settle(3)
        assert len(sent) == 3
        notice = sent[-1].message().get_body(("plain",)).get_content()
        assert "Automatic answers resume after" in notice and "Moscow time" in notice
        outcomes = await h.channel.store.inbound_outcomes()
        assert sorted(v for k, v in outcomes.items() if k.startswith("<cap-")) == [
            "answered", "answered", "answered:rate_limited", "answered:rate_limited:limit_notice"]


async def test_size_cap(make_harness: Callable[..., Any]) -> None:
    async with make_harness(PRIVACY_BOT__EMAIL__MAX_MESSAGE_BYTES="10000") as h:
        await h.append(eml("39_long_mail_en.eml"))
        outcomes = await h.processed(1)
        assert outcomes["<long39@example.com>"] == "answered"
        [reply] = await h.settle(1)
        assert reply.rcpt_tos[0] == "verbose@example.com"
        async with h.services.db.conn.execute(
                "SELECT length(raw), raw_size, truncated FROM email_inbound WHERE message_id = '<long39@example.com>'") as cur:
            length, size, truncated = await cur.fetchone()
        assert length <= 10000 < size and truncated == 1


async def test_unconfirmed_request_gets_one_reminder_then_expires(make_harness: Callable[..., Any]) -> None:
    async def age_thread(hours: float) -> None:
        # Time travel on our side of the contract instead of sleeping: the thread was created `hours` ago.
        async with h.services.db.transaction() as conn:
            await conn.execute("UPDATE email_threads SET created_at = ?",
                               (iso(utc_now() - timedelta(hours=hours)),))

    async with make_harness() as h:
        await h.append(eml("31_request_correction_en.eml"))
        await h.settle(1)
        await h.processed(1)
        assert await h.channel.check_confirmations() == {"reminded": [], "expired": []}
        await age_thread(h.config.email.confirmation_reminder_hours + 0.1)
        assert (await h.channel.check_confirmations())["reminded"] == ["PR-2026-0001"]
        assert (await h.channel.check_confirmations())["reminded"] == []
        reminder = (await h.settle(2))[1]
        assert reminder.rcpt_tos[0] == "nina.lee@gmail.com"
        assert reminder.header("Subject") == "Re: Wrong phone number [PR-2026-0001]"
        assert reminder.header("In-Reply-To") == "<request31@mail.gmail.com>"
        await age_thread(h.config.email.confirmation_expire_hours + 0.1)
        assert (await h.channel.check_confirmations())["expired"] == ["PR-2026-0001"]
        assert (await h.services.requests.get("PR-2026-0001")).status is RequestStatus.EXPIRED
        assert await h.channel.check_confirmations() == {"reminded": [], "expired": []}
        await asyncio.sleep(0.5)
        assert len(await h.settle(2)) == 2  # expiry of an unverified request sends nothing to the address


async def test_uidvalidity_change_handles_nothing_twice(make_harness: Callable[..., Any]) -> None:
    async with make_harness() as h:
        await h.append(eml("02_question_en_cookies.eml"))
        await h.settle(1)
        await h.processed(1)
    # The mailbox is rebuilt: same mail, new UIDVALIDITY. Simulated on our side of the contract.
    async with make_harness() as h:
        async with h.services.db.transaction() as conn:
            await conn.execute("UPDATE email_mailbox_state SET uidvalidity = uidvalidity - 7")
        async with h.services.db.transaction() as conn:
            await conn.execute("UPDATE email_inbound SET flagged = 0")
        await h.append(eml("03_question_ru_cp1251.eml"))
        await h.settle(2)
        await asyncio.sleep(0.5)
        assert len(await h.settle(2)) == 2


async def test_needs_info_answered_by_reply_in_thread(make_harness: Callable[..., Any]) -> None:
    async with make_harness() as h:
        await h.append(eml("30_request_access_ru.eml"))
        [confirm] = await h.settle(1)
        # The requester confirms by replying to our confirmation (threaded by In-Reply-To only).
        reply = (f"From: andrey.v@mail.ru\r\nTo: {SUPPORT}\r\nSubject: Re: something else\r\n"
                 f"Message-ID: <confirm-andrey@mail.ru>\r\nIn-Reply-To: {confirm.header('Message-ID')}\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\n\r\nДа, подтверждаю.\r\n").encode()
        await h.append(reply)
        await h.processed(2)
        assert (await h.services.requests.get("PR-2026-0001")).status is RequestStatus.PENDING_REVIEW
        await h.services.requests.need_info("PR-2026-0001", by="anna", question="Укажите, пожалуйста, ваш телефон.")
        question = (await h.settle(3))[2]
        assert "Укажите, пожалуйста, ваш телефон." in question.message().get_body(("plain",)).get_content()
        answer = (f"From: Андрей <andrey.v@mail.ru>\r\nTo: {SUPPORT}\r\nSubject: {question.header('Subject')}\r\n"
                  f"Message-ID: <answer-andrey@mail.ru>\r\nIn-Reply-To: {question.header('Message-ID')}\r\n"
                  f"References: {question.header('References')} {question.header('Message-ID')}\r\n"
                  "Content-Type: text/plain; charset=utf-8\r\n\r\nМой телефон +7 900 000-00-00.\r\n\r\n"
                  "> Укажите, пожалуйста, ваш телефон.\r\n").encode()
        await h.append(answer)
        outcomes = await h.processed(3)
        assert outcomes["<answer-andrey@mail.ru>"] == "info_provided"
        request = await h.services.requests.get("PR-2026-0001")
        assert request.status is RequestStatus.PENDING_REVIEW
        [message] = await h.services.requests.messages("PR-2026-0001")
        assert "+7 900 000-00-00" in str(message) and "Укажите" not in str(message)
        received = (await h.settle(4))[3]
        assert received.rcpt_tos[0] == "andrey.v@mail.ru"
        assert received.header("In-Reply-To") == "<answer-andrey@mail.ru>"


async def test_fetch_plan_bounds_bytes_and_count(make_config: Callable[..., Any], mailbox: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from handlers.email import receiver as receiver_module
    from handlers.email.imap import ImapSession
    from handlers.email.receiver import Receiver
    from tests.email.conftest import email_overrides

    config = make_config(email_overrides(mailbox.port, 1, PRIVACY_BOT__EMAIL__IMAP_FETCH_CHUNK="3"),
                         imap_password=mailbox.password)
    body = b"x" * 30_000
    for index in range(7):
        mailbox.deliver(b"From: a@example.com\r\nMessage-ID: <big-%d@example.com>\r\n\r\n" % index + body)
    monkeypatch.setattr(receiver_module, "FETCH_BYTES_PER_COMMAND", 70_000)
    session = ImapSession(config)
    await session.connect()
    try:
        uids = await session.uids_after(0)
        plan = await Receiver(config, None, None)._plan(session, uids)  # type: ignore[arg-type]
        assert [len(chunk) for chunk in plan] == [2, 2, 2, 1]  # by bytes (2 x 30 KB < 70 KB < 3 x 30 KB)
        monkeypatch.setattr(receiver_module, "FETCH_BYTES_PER_COMMAND", 10_000_000)
        plan = await Receiver(config, None, None)._plan(session, uids)  # type: ignore[arg-type]
        assert [len(chunk) for chunk in plan] == [3, 3, 1]  # by count (imap_fetch_chunk)
        fetched = await session.fetch(plan[0])
        assert [len(m.raw) > 30_000 for m in fetched] == [True] * 3
    finally:
        await session.close()


async def test_mail_announced_during_a_sync_does_not_wait_for_the_next_event(
        make_harness: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Mail landing while the receiver is busy is announced with the answer to one of its commands (which
    aioimaplib drops) and not again when the next IDLE starts: the receiver must look again by itself, not
    leave the mail until some later mail or the IDLE renewal (600 s here)."""
    from handlers.email.receiver import Receiver

    def automatic(n: int) -> bytes:  # answered by nobody, so no copy of a reply wakes the receiver either
        return (f"From: robot{n}@example.com\r\nTo: support@jetbit.ru\r\nSubject: Status {n}\r\n"
                f"Message-ID: <status-{n}@example.com>\r\nAuto-Submitted: auto-generated\r\n\r\nAll fine.\r\n").encode()

    async with make_harness(PRIVACY_BOT__EMAIL__IMAP_POLL_SECONDS="600") as h:
        original = Receiver.flag
        late: list[bytes] = [automatic(2)]

        async def flag_while_mail_lands(self: Receiver, session: Any) -> None:
            if late and await self.store.unflagged(self.mailbox, session.uidvalidity):
                h.dovecot.deliver(late.pop())  # the STORE below is answered with "* n EXISTS" as well
            await original(self, session)

        monkeypatch.setattr(Receiver, "flag", flag_while_mail_lands)
        await h.append(automatic(1))
        outcomes = await h.processed(2, seconds=5)
        assert outcomes == {"<status-1@example.com>": "auto:auto_submitted",
                            "<status-2@example.com>": "auto:auto_submitted"}
