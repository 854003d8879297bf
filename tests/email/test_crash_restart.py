"""Exactly once under SIGKILL, and recovery when the IMAP server goes away.

The crash test runs the real ``privacy-bot run`` (email only) as a subprocess against a mailbox of a few
hundred mails, kills it with SIGKILL several times while it is processing and sending, restarts it, and
finally counts what the SMTP server received: one reply per original mail, no more, no less.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aioimaplib
import pytest

from bot.config import REPO_ROOT
from tests.email.conftest import SUPPORT, email_overrides
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import SmtpServer

pytestmark = pytest.mark.slow

MAILS = 300

QUESTIONS_EN = ["Do you use cookies on your website?", "Do you share my personal data with other companies?",
                "How do you protect my data from leaks?", "How will I know when the privacy policy changes?"]
QUESTIONS_RU = ["Какие данные вы собираете через формы на сайте?", "Передаёте ли вы данные курьерам?",
                "Как вы защищаете мои данные от утечек?", "Где найти актуальную версию политики?"]


def mail(index: int) -> bytes:
    russian = index % 2 == 0
    text = (QUESTIONS_RU if russian else QUESTIONS_EN)[index % 4]
    if index % 10 == 3:  # some requests: they are answered with a confirmation request
        text = "Прошу удалить мои персональные данные." if russian else "Please delete my personal data."
    subject = "Вопрос" if russian else "Question"
    return (f"From: Person {index} <person{index}@example.com>\r\nTo: {SUPPORT}\r\nSubject: {subject} {index}\r\n"
            f"Message-ID: <crash-{index}@example.com>\r\nDate: Mon, 12 Oct 2026 10:00:00 +0300\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
            f"\r\n{text}\r\n").encode()


async def append_all(server: DovecotServer, raws: list[bytes]) -> None:
    client = aioimaplib.IMAP4(host="127.0.0.1", port=server.port, timeout=10)
    await client.wait_hello_from_server()
    await client.login(server.user, server.password)
    for raw in raws:
        response = await asyncio.wait_for(client.append(raw, mailbox="INBOX"), 10)
        assert response.result == "OK"
    await client.logout()


def replies_to_people(smtp: SmtpServer) -> list[str]:
    """In-Reply-To of every message the bot sent to a person (self-copies excluded, they are the same mail)."""
    return [m.header("In-Reply-To") for m in smtp.messages if any(r != SUPPORT for r in m.rcpt_tos)]


class BotProcess:
    def __init__(self, environ: dict[str, str], log_path: Path) -> None:
        self.environ = environ
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=self.environ, cwd=REPO_ROOT,
                                        stdout=log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)


def bot_environ(tmp: Path, imap: DovecotServer, smtp: SmtpServer) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PRIVACY_BOT")}
    environ.update(email_overrides(imap.port, smtp.port,
                                   PRIVACY_BOT__EMAIL__REPLIES_PER_SENDER_PER_HOUR="100",
                                   PRIVACY_BOT__EMAIL__IMAP_POLL_SECONDS="2"))
    environ.update({
        "PRIVACY_BOT__STORAGE__DATABASE": str(tmp / "bot.sqlite3"),
        "PRIVACY_BOT_IMAP_PASSWORD": imap.password,
        "PRIVACY_BOT_PSEUDONYM_SALT": "crash-test",
        "PRIVACY_BOT__LOGGING__LEVEL": "INFO",
        "PYTHONPATH": str(REPO_ROOT),
    })
    environ.pop("PRIVACY_BOT_TELEGRAM_TOKEN", None)
    return environ


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        time.sleep(0.02)


@pytest.mark.timeout(110)
def test_sigkill_during_processing_loses_nothing_and_sends_nothing_twice(mailbox: DovecotServer) -> None:
    """Killed at random moments, and killed exactly after the SMTP server accepted a reply but before the
    bot heard the "250" (the window a naive outbox would resend in)."""
    rng = random.Random(5)
    random_kills, window_kills = 3, 2
    with tempfile.TemporaryDirectory() as tmp_dir, \
            SmtpServer(local_maildirs={SUPPORT: mailbox.maildir}) as smtp:
        tmp = Path(tmp_dir)
        asyncio.run(append_all(mailbox, [mail(i) for i in range(MAILS)]))
        bot = BotProcess(bot_environ(tmp, mailbox, smtp), tmp / "bot.log")
        started = time.monotonic()
        window_targets: list[int] = []

        def kill_in_window(received: Any) -> None:
            if SUPPORT in received.rcpt_tos[0] or not window_targets:
                return
            if len(replies_to_people(smtp)) >= window_targets[0] and bot.process is not None:
                window_targets.pop(0)
                os.kill(bot.process.pid, signal.SIGKILL)

        smtp.on_accept = kill_in_window
        try:
            for round_index in range(random_kills + window_kills):
                before = len(replies_to_people(smtp))
                bot.start()
                assert bot.process is not None
                if round_index < random_kills:
                    # Kill only once it is really working: replies went out in this run, then a random moment.
                    wait_until(lambda before=before: len(replies_to_people(smtp)) >= before + 5, 40,
                               "the bot to send replies")
                    time.sleep(rng.uniform(0.0, 0.4))
                    bot.kill()
                else:
                    window_targets.append(before + rng.randint(3, 15))
                    process = bot.process
                    wait_until(lambda process=process: process.poll() is not None, 40, "the kill inside the window")
            bot.start()
            wait_until(lambda: len(replies_to_people(smtp)) >= MAILS, 60, f"{MAILS} replies")
            print(f"crash test: all replies after {time.monotonic() - started:.1f}s")
            time.sleep(1.5)  # anything sent twice would arrive now
            assert bot.stop() == 0
        except BaseException:
            if bot.process is not None and bot.process.poll() is None:
                bot.kill()
            print((tmp / "bot.log").read_text(errors="replace")[-5000:])
            raise
        counts = Counter(replies_to_people(smtp))
        expected = {f"<crash-{i}@example.com>" for i in range(MAILS)}
        assert set(counts) == expected, sorted(set(counts) ^ expected)[:10]
        duplicates = {k: v for k, v in counts.items() if v != 1}
        assert duplicates == {}
        log = (tmp / "bot.log").read_text(errors="replace")
        assert "Traceback" not in log
        proven = log.count("not sent again")
        print(f"crash test: {random_kills + window_kills} kills, {proven} sends proven by the self-copy, "
              f"{log.count('running: EmailChannel')} starts")
        # Each kill inside the window left one accepted-but-unmarked reply; the copy proved each.
        assert proven >= window_kills


@pytest.mark.timeout(60)
async def test_dovecot_restart_is_survived(make_config: Callable[..., Any]) -> None:
    """Dovecot stopped and started under the running channel: it reconnects and carries on by itself."""
    from bot.outbox.worker import OutboxWorker
    from bot.services import build_services
    from handlers.email.channel import EmailChannel

    root = Path(tempfile.mkdtemp(prefix="privacy-bot-dovecot-restart-"))
    server = DovecotServer(root).start()
    try:
        with SmtpServer(local_maildirs={SUPPORT: server.maildir}) as smtp:
            config = make_config(email_overrides(server.port, smtp.port, PRIVACY_BOT__EMAIL__IMAP_POLL_SECONDS="1"),
                                 imap_password=server.password)
            services = await build_services(config)
            channel = EmailChannel(services, housekeeping_seconds=3600)
            channel.receiver.min_backoff = 0.1
            worker = OutboxWorker(services.db, {"email": channel.sender}, config, repository=services.outbox)
            stop = asyncio.Event()
            tasks = [asyncio.create_task(channel.run(stop)), asyncio.create_task(worker.run(stop))]
            try:
                await asyncio.wait_for(channel.receiver.connected.wait(), 10)
                await append_all(server, [mail(1)])
                await _replies(smtp, 1)
                await asyncio.to_thread(server.stop)
                started = time.monotonic()
                while channel.receiver.connected.is_set():
                    assert time.monotonic() - started < 5, "the lost connection went unnoticed"
                    await asyncio.sleep(0.02)
                server.deliver(mail(3).replace(b"crash-3", b"while-down"))  # arrives while IMAP is down
                await asyncio.to_thread(server.start)
                await asyncio.wait_for(channel.receiver.connected.wait(), 15)
                await append_all(server, [mail(5)])
                await _replies(smtp, 3)
                assert channel.receiver.reconnects >= 1
                got = sorted(replies_to_people(smtp))
                assert got == ["<crash-1@example.com>", "<crash-5@example.com>", "<while-down@example.com>"]
            finally:
                stop.set()
                await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 15)
                await services.close()
    finally:
        server.stop()


async def _replies(smtp: SmtpServer, count: int) -> None:
    await asyncio.to_thread(wait_until, lambda: len(replies_to_people(smtp)) >= count, 10, f"{count} replies")
