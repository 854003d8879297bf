"""Email channel throughput: mailbox to accepted reply, against a bare aioimaplib fetch of the same mail.

Starts a private Dovecot and an aiosmtpd server on loopback, APPENDs N questions, then times
(a) a bare aioimaplib UID FETCH of all of them in chunks (the baseline, measured in this run) and
(b) a bare aiosmtplib send of as many replies (with the self-copy recipient) over as many sessions as the
bot uses, to the same SMTP server: the floor the test MTA itself sets, and
(c) the same bare send to an aiosmtpd server that does nothing with the mail (no spool, no delivery):
the fastest any sender can get a reply accepted by aiosmtpd on this machine, and
(d) the full channel (fetch, store, understand, enqueue, SMTP) until the last reply is accepted.
Prints the rates and the ratios of (d) to (a) and (b), and of (c) to (a): the part of the 3x budget
the test MTA alone uses up.

    .venv/bin/python bench/email_throughput.py [--messages 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aioimaplib
import aiosmtplib

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import REPO_ROOT, load_config
from bot.outbox.worker import OutboxWorker
from bot.services import build_services
from handlers.email.channel import EmailChannel
from handlers.email.sender import SMTP_CONNECTIONS
from tests.email.conftest import SUPPORT, email_overrides
from tests.servers.dovecot import DovecotServer

QUESTIONS = ["Do you use cookies on your website?", "Какие данные вы собираете через формы на сайте?",
             "Do you share my personal data with other companies?", "Как вы защищаете мои данные от утечек?"]


def question(index: int) -> bytes:
    return (f"From: Person {index} <person{index}@example.com>\r\nTo: {SUPPORT}\r\nSubject: Question {index}\r\n"
            f"Message-ID: <bench-{index}@example.com>\r\nDate: Mon, 12 Oct 2026 10:00:00 +0300\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{QUESTIONS[index % 4]}\r\n").encode()


async def connect(server: DovecotServer) -> aioimaplib.IMAP4:
    client = aioimaplib.IMAP4(host="127.0.0.1", port=server.port, timeout=30)
    await client.wait_hello_from_server()
    await client.login(server.user, server.password)
    await client.select("INBOX")
    return client


async def append_all(server: DovecotServer, count: int) -> None:
    client = await connect(server)
    for index in range(count):
        await asyncio.wait_for(client.append(question(index), mailbox="INBOX"), 30)
    await client.logout()


async def bare_fetch(server: DovecotServer, count: int, chunk: int) -> float:
    client = await connect(server)
    started = time.perf_counter()
    response = await asyncio.wait_for(client.uid_search("ALL", charset=None), 30)
    uids = [int(u) for u in response.lines[0].split()]
    fetched = 0
    for start in range(0, len(uids), chunk):
        part = ",".join(str(u) for u in uids[start:start + chunk])
        result = await asyncio.wait_for(client.uid("fetch", part, "(UID RFC822.SIZE BODY.PEEK[])"), 30)
        fetched += sum(1 for line in result.lines if isinstance(line, bytearray))
    elapsed = time.perf_counter() - started
    await client.logout()
    assert fetched == count, (fetched, count)
    return elapsed


async def bare_send(smtp: SmtpProcess | NullSink, count: int, sessions: int) -> float:
    """Seconds for ``count`` minimal SMTP transactions (reply + self-copy) over ``sessions`` connections."""
    todo = list(range(count))

    async def session() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=smtp.port, local_hostname="bench", timeout=30)
        await client.connect()
        while todo:
            index = todo.pop(0)
            await client.mail(SUPPORT)
            await client.rcpt(f"person{index}@example.com")
            await client.rcpt(SUPPORT)
            await client.data(f"From: {SUPPORT}\r\nTo: person{index}@example.com\r\nSubject: Re: Question\r\n"
                              f"Message-ID: <bare-{index}@bench>\r\n\r\nAnswer\r\n".encode())
        await client.quit()

    started = time.perf_counter()
    await asyncio.gather(*(session() for _ in range(sessions)))
    return time.perf_counter() - started


NULL_SINK = """
import socket, sys, time
from aiosmtpd.controller import Controller
class Accept:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"
probe = socket.socket(); probe.bind(("127.0.0.1", 0)); port = probe.getsockname()[1]; probe.close()
Controller(Accept(), hostname="127.0.0.1", port=port).start()
print("PORT", port, flush=True)
time.sleep(3600)
"""


def start_server(argv: list[str], name: str) -> tuple[subprocess.Popen[str], int]:
    """Start a server process that prints "PORT <n>" once it listens; its process and port."""
    process = subprocess.Popen(argv, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("PORT "):
        raise RuntimeError(f"{name} did not start: {line!r}")
    return process, int(line.split()[1])


class NullSink:
    """aiosmtpd accepting and discarding every mail, in its own process: the floor of the MTA itself."""

    def __init__(self) -> None:
        self.process, self.port = start_server([sys.executable, "-c", NULL_SINK], "null SMTP sink")

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(10)


class SmtpProcess:
    """The aiosmtpd test server in its own process, as a real MTA would be (no GIL shared with the bot)."""

    def __init__(self, spool: Path, maildir: Path) -> None:
        self.spool = spool
        self.process, self.port = start_server(
            [sys.executable, "-m", "tests.servers.smtp", "--spool", str(spool), "--local", f"{SUPPORT}={maildir}"],
            "SMTP test server")

    def replies(self) -> int:
        # One file per SMTP transaction; the self-copy rides in the same transaction. (os.listdir: a
        # pathlib glob over the growing spool cost the bot's event loop seconds per run.)
        try:
            return sum(1 for name in os.listdir(self.spool) if name.endswith(".eml"))
        except FileNotFoundError:
            return 0

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


async def full_channel(server: DovecotServer, smtp: SmtpProcess, tmp: Path, count: int) -> tuple[float, float]:
    """Seconds until every mail was processed (reply enqueued), and until the last reply was accepted."""
    environ = email_overrides(server.port, smtp.port, PRIVACY_BOT__EMAIL__REPLIES_PER_SENDER_PER_HOUR="100")
    environ.update({"PRIVACY_BOT__STORAGE__DATABASE": str(tmp / "bench.sqlite3"),
                    "PRIVACY_BOT_IMAP_PASSWORD": server.password})
    config = load_config(REPO_ROOT / "config.toml", environ=environ)
    services = await build_services(config)
    channel = EmailChannel(services, housekeeping_seconds=3600)
    worker = OutboxWorker(services.db, {"email": channel.sender}, config, repository=services.outbox)
    stop = asyncio.Event()
    started = time.perf_counter()
    tasks = [asyncio.create_task(channel.run(stop)), asyncio.create_task(worker.run(stop))]
    processed_at = 0.0
    try:
        while smtp.replies() < count:
            await asyncio.sleep(0.02)
            if not processed_at:
                rows = list(await services.db.conn.execute_fetchall(
                    "SELECT COUNT(*) FROM email_inbound WHERE outcome = 'answered'"))
                if int(rows[0][0]) >= count:
                    processed_at = time.perf_counter() - started
            if time.perf_counter() - started > 300:
                raise RuntimeError(f"only {smtp.replies()} of {count} replies in 300s")
        return processed_at or time.perf_counter() - started, time.perf_counter() - started
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await services.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    count = args.messages
    root = Path(tempfile.mkdtemp(prefix="privacy-bot-bench-"))
    os.chmod(root, 0o755)  # Dovecot's unprivileged processes must reach the mail below it
    server = DovecotServer(root / "dovecot").start()
    try:
        # Local delivery of the self-copies into the mailbox, as in production (they are fetched too).
        smtp = SmtpProcess(root / "spool", server.maildir)
        try:
            started = time.perf_counter()
            await append_all(server, count)
            print(f"appended {count} messages in {time.perf_counter() - started:.1f}s")
            chunk = load_config(REPO_ROOT / "config.toml", environ={}).email.imap_fetch_chunk
            bare = await bare_fetch(server, count, chunk)
            # The bare sends land in their own server (and Maildir): the channel must not fetch them.
            bare_smtp = SmtpProcess(root / "bare-spool", root / "bare-maildir")
            try:
                sent = await bare_send(bare_smtp, count, SMTP_CONNECTIONS)
            finally:
                bare_smtp.stop()
            sink = NullSink()
            try:
                floor = await bare_send(sink, count, SMTP_CONNECTIONS)
            finally:
                sink.stop()
            processed, full = await full_channel(server, smtp, root, count)
            print(f"bare aioimaplib fetch    : {count / bare:8.1f} messages/s ({bare:.2f}s, chunks of {chunk})")
            print(f"mailbox -> reply queued  : {count / processed:8.1f} messages/s ({processed:.2f}s)")
            print(f"mailbox -> reply accepted: {count / full:8.1f} messages/s ({full:.2f}s)")
            print(f"bare aiosmtplib send     : {count / sent:8.1f} messages/s ({sent:.2f}s, {SMTP_CONNECTIONS} sessions)")
            print(f"null aiosmtpd sink send : {count / floor:8.1f} messages/s ({floor:.2f}s, {SMTP_CONNECTIONS} sessions)")
            print(f"ratio (full / bare time): {full / bare:.1f}x  (target: within 3x)")
            print(f"ratio (full / bare send): {full / sent:.1f}x  (the test MTA's own floor)")
            print(f"ratio (null sink / bare time): {floor / bare:.1f}x  (aiosmtpd alone, before any work)")
        finally:
            smtp.stop()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    os.environ.pop("PRIVACY_BOT_CONFIG", None)
    asyncio.run(main())
