"""TLS everywhere and a server without IDLE: IMAP over implicit TLS and STARTTLS (Dovecot), SMTP over
STARTTLS and implicit TLS with AUTH (aiosmtpd), the receiver falling back to polling."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.outbox.worker import OutboxWorker
from bot.services import build_services
from handlers.email.channel import EmailChannel
from tests.email.conftest import SUPPORT, email_overrides, eml
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import SmtpServer, client_context_trusting, make_test_certificate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tls_dovecot() -> Iterator[tuple[DovecotServer, tuple[Path, Path]]]:
    root = Path(tempfile.mkdtemp(prefix="privacy-bot-dovecot-tls-"))
    os.chmod(root, 0o755)
    certificate = make_test_certificate(root / "tls")
    server = DovecotServer(root / "dovecot", certificate=certificate, idle=False).start()
    try:
        yield server, certificate
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize(("imap_security", "smtp_security"), [("ssl", "starttls"), ("starttls", "ssl")])
async def test_tls_and_polling(make_config: Callable[..., Any], tls_dovecot: tuple[DovecotServer, tuple[Path, Path]],
                               imap_security: str, smtp_security: str) -> None:
    server, certificate = tls_dovecot
    server.reset_mailbox()
    context = client_context_trusting(certificate[0])
    with SmtpServer(security=smtp_security, certificate=certificate, username="bot",  # type: ignore[arg-type]
                    password="smtp-secret", local_maildirs={SUPPORT: server.maildir}) as smtp:
        imap_port = server.tls_port if imap_security == "ssl" else server.port
        config = make_config(email_overrides(imap_port, smtp.port, PRIVACY_BOT__EMAIL__IMAP_SECURITY=imap_security,
                                             PRIVACY_BOT__EMAIL__SMTP_SECURITY=smtp_security,
                                             PRIVACY_BOT__EMAIL__SMTP_USERNAME="bot",
                                             PRIVACY_BOT__EMAIL__IMAP_POLL_SECONDS="0.3"),
                             imap_password=server.password, smtp_password="smtp-secret")
        services = await build_services(config)
        channel = EmailChannel(services, imap_ssl_context=context, smtp_tls_context=context,
                               housekeeping_seconds=3600)
        worker = OutboxWorker(services.db, {"email": channel.sender}, config, repository=services.outbox)
        stop = asyncio.Event()
        tasks = [asyncio.create_task(channel.run(stop)), asyncio.create_task(worker.run(stop))]
        try:
            await asyncio.wait_for(channel.receiver.connected.wait(), 10)
            assert channel.receiver.using_idle is False
            server.deliver(eml("02_question_en_cookies.eml"))
            to_people: list[Any] = []
            for _ in range(200):
                to_people = [m for m in smtp.messages if SUPPORT not in m.rcpt_tos[0]]
                if to_people:
                    break
                await asyncio.sleep(0.05)
            [reply] = to_people
            assert reply.rcpt_tos[0] == "john.miller@outlook.com"
            assert reply.authenticated_as == "bot"
            assert reply.header("In-Reply-To") == "<DB9PR01-question02@outlook.com>"
            assert "TLS" in server.log_tail(50)
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 15)
            await services.close()
