"""EmailSender against a real aiosmtpd server on loopback: headers, TLS modes, AUTH, error mapping."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import Config
from bot.outbox.base import OutboxMessage, PermanentDeliveryError, TemporaryDeliveryError
from bot.storage.db import Database
from handlers.email.message_ids import MessageIds
from handlers.email.sender import EmailSender
from handlers.email.store import EmailStore
from tests.servers.smtp import SmtpServer, client_context_trusting, make_test_certificate


def smtp_config(make_config: Callable[..., Config], port: int, security: str = "none",
                username: str = "", **secrets: str) -> Config:
    return make_config({
        "PRIVACY_BOT__EMAIL__SMTP_PORT": str(port),
        "PRIVACY_BOT__EMAIL__SMTP_SECURITY": security,
        "PRIVACY_BOT__EMAIL__SMTP_USERNAME": username,
        "PRIVACY_BOT__EMAIL__SMTP_TIMEOUT_SECONDS": "5",
    }, **secrets)


def outbox(payload: dict[str, object], recipient: str = "ivan@example.ru", key: str = "k-1") -> OutboxMessage:
    return OutboxMessage(id=1, channel="email", recipient=recipient, kind="answer", payload=payload,
                         idempotency_key=key)


async def test_builds_threaded_auto_replied_message(make_config: Callable[..., Config],
                                                    smtp_server: SmtpServer) -> None:
    config = smtp_config(make_config, smtp_server.port)
    sender = EmailSender(config, "test-secret", self_copy=False)
    message_id = await sender.send(outbox({
        "text": "Здравствуйте! Ответ на ваш вопрос.", "subject": "Re: Вопрос о данных", "lang": "ru",
        "reply_to": "<abc@mail.example.ru>", "references": ["<root@mail.example.ru>", "<abc@mail.example.ru>"],
    }))
    [mail] = smtp_server.wait_for(1, timeout=5)
    parsed = mail.message()
    assert mail.rcpt_tos == ("ivan@example.ru",)
    assert mail.mail_from == "support@jetbit.ru"
    assert parsed["Message-ID"] == message_id
    assert MessageIds(config, "test-secret").is_ours(str(message_id))
    assert parsed["In-Reply-To"] == "<abc@mail.example.ru>"
    assert parsed["References"] == "<root@mail.example.ru> <abc@mail.example.ru>"
    assert parsed["Subject"] == "Re: Вопрос о данных"
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed["X-Auto-Response-Suppress"] == "All"
    assert "JetBit Support" in parsed["From"]
    body = parsed.get_body(("plain",))
    assert body is not None and "Ответ на ваш вопрос" in body.get_content()


async def test_message_id_is_stable_per_key_and_signed(make_config: Callable[..., Config]) -> None:
    config = make_config()
    ids = MessageIds(config, "s1")
    assert ids.for_key("a") == ids.for_key("a") != ids.for_key("b")
    assert ids.is_ours(ids.for_key("a"))
    other = MessageIds(config, "other")
    assert not other.is_ours(ids.for_key("a"))
    # Without the secret the id of a known key cannot be computed (it is not a hash of the key alone).
    assert other.for_key("a") != ids.for_key("a")
    assert not ids.is_ours("<random@gmail.com>")


async def test_default_subject_in_language(make_config: Callable[..., Config], smtp_server: SmtpServer) -> None:
    sender = EmailSender(smtp_config(make_config, smtp_server.port), "test-secret", self_copy=False)
    await sender.send(outbox({"text": "Code: 123456", "lang": "en"}))
    [mail] = smtp_server.wait_for(1, timeout=5)
    assert mail.header("Subject") == "Your message to JetBit"
    assert "In-Reply-To" not in mail.message()


async def test_permanent_and_temporary_recipient_errors(make_config: Callable[..., Config],
                                                        smtp_server: SmtpServer) -> None:
    smtp_server.behaviour.refuse["nobody@example.ru"] = "550 5.1.1 No such user"
    smtp_server.behaviour.refuse["busy@example.ru"] = "450 4.2.1 Mailbox busy"
    sender = EmailSender(smtp_config(make_config, smtp_server.port), "test-secret", self_copy=False)
    with pytest.raises(PermanentDeliveryError):
        await sender.send(outbox({"text": "x"}, recipient="nobody@example.ru"))
    with pytest.raises(TemporaryDeliveryError):
        await sender.send(outbox({"text": "x"}, recipient="busy@example.ru"))
    smtp_server.behaviour.data_failure = ("554 5.6.0 Content rejected", 1)
    # A 5xx that is not about the recipient is not proof the address is dead: retried.
    with pytest.raises(TemporaryDeliveryError):
        await sender.send(outbox({"text": "x"}))
    assert smtp_server.messages == []


async def test_server_down_is_temporary(make_config: Callable[..., Config]) -> None:
    server = SmtpServer().start()
    port = server.port
    server.stop()
    sender = EmailSender(smtp_config(make_config, port), "test-secret", self_copy=False)
    with pytest.raises(TemporaryDeliveryError):
        await sender.send(outbox({"text": "x"}))


@pytest.mark.parametrize("security", ["starttls", "ssl"])
async def test_tls_modes_with_auth(make_config: Callable[..., Config], tmp_path: Path, security: str) -> None:
    cert = make_test_certificate(tmp_path / "tls")
    with SmtpServer(security=security, certificate=cert,  # type: ignore[arg-type]
                    username="bot", password="s3cret") as server:
        config = smtp_config(make_config, server.port, security, username="bot", smtp_password="s3cret")
        sender = EmailSender(config, "test-secret", tls_context=client_context_trusting(cert[0]), self_copy=False)
        await sender.send(outbox({"text": "hello", "lang": "en"}))
        [mail] = server.wait_for(1, timeout=5)
        assert mail.authenticated_as == "bot"
        wrong = smtp_config(make_config, server.port, security, username="bot", smtp_password="wrong")
        with pytest.raises(TemporaryDeliveryError):
            await EmailSender(wrong, "test-secret", tls_context=client_context_trusting(cert[0]), self_copy=False).send(
                outbox({"text": "x"}, key="k-2"))
        assert len(server.messages) == 1


async def test_self_copy_proves_sent_after_crash(make_config: Callable[..., Config], tmp_path: Path) -> None:
    maildir = tmp_path / "Maildir"
    with SmtpServer(local_maildirs={"support@jetbit.ru": maildir}) as server:
        config = smtp_config(make_config, server.port)
        db = await Database(tmp_path / "s.sqlite3").open()
        try:
            store = EmailStore(db)

            async def lookup(message_id: str) -> bool:
                return any(message_id.encode() in p.read_bytes() for p in (maildir / "new").iterdir())

            sender = EmailSender(config, "test-secret", store=store, copy_lookup=lookup)
            message = outbox({"text": "hello"}, key="crash-1")
            # The crash window: the server accepted, the process died before anything was recorded.
            built = await sender.build(message)
            await sender._transmit(built.raw, message.recipient)
            [mail] = server.wait_for(1, timeout=5)
            assert set(mail.rcpt_tos) == {"ivan@example.ru", "support@jetbit.ru"}
            assert await sender.was_sent(message)
            assert await store.outbound_state("crash-1") == "sent"
            # A message that never reached the server is not "sent".
            assert not await sender.was_sent(outbox({"text": "x"}, key="crash-2"))
            assert len(server.messages) == 1
            await sender.close()
        finally:
            await db.close()


async def test_verification_codes_get_no_self_copy(make_config: Callable[..., Config], tmp_path: Path) -> None:
    maildir = tmp_path / "Maildir"
    with SmtpServer(local_maildirs={"support@jetbit.ru": maildir}) as server:
        config = smtp_config(make_config, server.port)
        db = await Database(tmp_path / "s.sqlite3").open()
        try:
            looked_up: list[str] = []

            async def lookup(message_id: str) -> bool:
                looked_up.append(message_id)
                return any(message_id.encode() in p.read_bytes() for p in (maildir / "new").iterdir())

            sender = EmailSender(config, "test-secret", store=EmailStore(db), copy_lookup=lookup)
            code = OutboxMessage(id=7, channel="email", recipient="ivan@example.ru", kind="verification.code",
                                 payload={"text": "Код: 482913", "lang": "ru"}, idempotency_key="code-1")
            await sender.send(code)
            await sender.send(outbox({"text": "answer"}, key="answer-1"))
            code_mail, answer_mail = server.wait_for(2, timeout=5)
            # The code reaches the person only; a secret must not lie in the support mailbox.
            assert code_mail.rcpt_tos == ("ivan@example.ru",)
            assert set(answer_mail.rcpt_tos) == {"ivan@example.ru", "support@jetbit.ru"}
            delivered = [p.read_bytes() for p in (maildir / "new").iterdir()]
            assert len(delivered) == 1  # the answer's copy only
            assert not any(b"482913" in raw or b"NDgyOTEz" in raw for raw in delivered)
            # No copy to find: after a crash the code is sent again (at-least-once), without an IMAP search.
            assert not await sender.was_sent(code)
            assert looked_up == []
            await sender.close()
        finally:
            await db.close()


async def test_built_mail_headers_fold_and_decode(make_config: Callable[..., Config],
                                                  smtp_server: SmtpServer) -> None:
    sender = EmailSender(smtp_config(make_config, smtp_server.port), "test-secret", self_copy=False)
    subject = "Re: " + "Очень длинная тема письма про персональные данные " * 4
    references = [f"<id-{n}-{'x' * 40}@mail.example.ru>" for n in range(10)]
    await sender.send(outbox({"text": "Строка\r\nвторая строка " + "я" * 300, "subject": subject,
                              "references": references, "reply_to": references[-1]}))
    [mail] = smtp_server.wait_for(1, timeout=5)
    assert all(len(line) <= 998 for line in mail.data.split(b"\r\n"))
    parsed = mail.message()
    assert parsed["Subject"] == " ".join(subject.split())
    assert parsed["References"].split() == references
    body = parsed.get_body(("plain",))
    assert body is not None and body.get_content().endswith("я" * 300)
