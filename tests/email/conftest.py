"""Fixtures of the email tests: one private Dovecot per session, an aiosmtpd server per test, and a
running email channel (receiver + outbox worker) wired to both through a real SQLite file."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import aioimaplib
import pytest

from bot.config import Config
from bot.outbox.worker import OutboxWorker
from bot.services import Services, build_services
from handlers.email.channel import EmailChannel
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import ReceivedMail, SmtpServer, smtp_server

__all__ = ["smtp_server"]

EML_DIR = Path(__file__).resolve().parent.parent / "data" / "eml"
SUPPORT = "support@jetbit.ru"


@pytest.fixture
def mailbox(dovecot: DovecotServer) -> DovecotServer:
    """The session's Dovecot with an empty INBOX."""
    dovecot.reset_mailbox()
    return dovecot


def email_overrides(imap_port: int, smtp_port: int, **extra: str) -> dict[str, str]:
    values = {
        "PRIVACY_BOT__EMAIL__ENABLED": "true",
        "PRIVACY_BOT__EMAIL__IMAP_PORT": str(imap_port),
        "PRIVACY_BOT__EMAIL__IMAP_SECURITY": "none",
        "PRIVACY_BOT__EMAIL__IMAP_USERNAME": SUPPORT,
        "PRIVACY_BOT__EMAIL__IMAP_POLL_SECONDS": "5",
        "PRIVACY_BOT__EMAIL__IMAP_COMMAND_TIMEOUT_SECONDS": "5",
        "PRIVACY_BOT__EMAIL__SMTP_PORT": str(smtp_port),
        "PRIVACY_BOT__EMAIL__SMTP_SECURITY": "none",
        "PRIVACY_BOT__EMAIL__SMTP_TIMEOUT_SECONDS": "5",
        "PRIVACY_BOT__OUTBOX__POLL_SECONDS": "0.1",
        "PRIVACY_BOT__OUTBOX__BASE_BACKOFF_SECONDS": "0.2",
    }
    values.update(extra)
    return values


@pytest.fixture
def delivering_smtp(mailbox: DovecotServer) -> Iterator[SmtpServer]:
    """SMTP that also delivers mail for the support address into the Dovecot mailbox (the self-copy)."""
    with SmtpServer(local_maildirs={SUPPORT: mailbox.maildir}) as server:
        yield server


@dataclass
class Harness:
    config: Config
    services: Services
    channel: EmailChannel
    worker: OutboxWorker
    smtp: SmtpServer
    dovecot: DovecotServer

    async def append(self, raw: bytes) -> None:
        client = aioimaplib.IMAP4(host="127.0.0.1", port=self.dovecot.port, timeout=5)
        await client.wait_hello_from_server()
        await client.login(self.dovecot.user, self.dovecot.password)
        response = await client.append(raw, mailbox="INBOX")
        assert response.result == "OK", response
        await client.logout()

    async def settle(self, replies: int, seconds: float = 10.0) -> list[ReceivedMail]:
        """Wait until the SMTP server has at least ``replies`` messages to people (self-copies aside)."""
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            to_people = [m for m in self.smtp.messages if any(r != SUPPORT for r in m.rcpt_tos)]
            if len(to_people) >= replies:
                return list(to_people)
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"expected {replies} replies, got {len(to_people)} in {seconds}s")
            await asyncio.sleep(0.05)

    async def processed(self, count: int, seconds: float = 10.0) -> dict[str, str]:
        """Wait until ``count`` inbound mails (own copies aside) are processed; returns Message-ID -> outcome."""
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            outcomes = {k: v for k, v in (await self.channel.store.inbound_outcomes()).items()
                        if v and v != "own_copy"}
            if len(outcomes) >= count:
                return outcomes
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"expected {count} processed mails, got {len(outcomes)}: {outcomes}")
            await asyncio.sleep(0.05)


@pytest.fixture
def make_harness(make_config: Callable[..., Config], mailbox: DovecotServer,
                 delivering_smtp: SmtpServer) -> Callable[..., contextlib.AbstractAsyncContextManager[Harness]]:
    @contextlib.asynccontextmanager
    async def factory(**extra: str) -> AsyncIterator[Harness]:
        config = make_config(email_overrides(mailbox.port, delivering_smtp.port, **extra),
                             imap_password=mailbox.password, pseudonym_salt="test-salt")
        services = await build_services(config)
        channel = EmailChannel(services, housekeeping_seconds=3600)
        worker = OutboxWorker(services.db, {s.channel: s for s in channel.senders()}, config,
                              repository=services.outbox, audit=services.audit, translator=services.translator)
        stop = asyncio.Event()
        tasks = [asyncio.create_task(channel.run(stop)), asyncio.create_task(worker.run(stop))]
        try:
            await asyncio.wait_for(channel.receiver.connected.wait(), 10)
            yield Harness(config, services, channel, worker, delivering_smtp, mailbox)
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 15)
            await services.close()

    return factory


def eml(name: str) -> bytes:
    return (EML_DIR / name).read_bytes()
