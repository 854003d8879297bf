"""Email channel speed: single-mail latency and a 1,000-mail burst, each against a bare pipeline in the same run.

Starts a private Dovecot (IDLE) and the aiosmtpd test server, each in its own process, on loopback. Times are
taken from the mail being APPENDed to the mailbox (just before the command is sent) to the reply being
accepted by the SMTP server (the server's own clock, written into each spooled file's name before "250").

(1) Single mails, one at a time with a pause between them (``--singles``, ``--gap``):
    bare  a bare aioimaplib client in IDLE that, on the server's push, UID FETCHes the new mail and sends
          one reply (plus the self-copy recipient) over an already open aiosmtplib session;
    bot   the email channel and its outbox worker (IDLE, store, understand, enqueue, deliver).
    Prints p50 and p99 of each (target for the bot: p50 < 300 ms, p99 < 1 s).
(2) A burst of ``--messages`` mails already in the mailbox:
    bare  a bare aioimaplib UID FETCH of all of them in chunks, plus a bare aiosmtplib send of as many
          replies (reply + self-copy recipient, as many sessions as the bot uses) to the same test server;
    bot   the channel from its first connection until the last reply is accepted.
    Prints the ratio of the two times (target: within 2x).

Dovecot tells an IDLE client of new mail 500 ms after it sees the change (NOTIFY_DELAY_MSECS in its
src/lib-storage/mailbox-watch.c): the bare IDLE pipeline measures that floor in the same run.

    .venv/bin/python bench/email_throughput.py [--messages 1000] [--singles 50] [--gap 1.0]   (about 4 minutes)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
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


def question(index: int, tag: str = "bench") -> bytes:
    return (f"From: Person {index} <person{index}@example.com>\r\nTo: {SUPPORT}\r\nSubject: Question {index}\r\n"
            f"Message-ID: <{tag}-{index}@example.com>\r\nDate: Mon, 12 Oct 2026 10:00:00 +0300\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{QUESTIONS[index % 4]}\r\n").encode()


def reply(index: int) -> bytes:
    return (f"From: {SUPPORT}\r\nTo: person{index}@example.com\r\nSubject: Re: Question\r\n"
            f"Message-ID: <bare-{index}@bench>\r\n\r\nAnswer\r\n").encode()


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


async def mark_all_seen(server: DovecotServer) -> None:
    """What one phase left unread must not be new mail to the next one."""
    client = await connect(server)
    await asyncio.wait_for(client.uid("store", "1:*", "+FLAGS.SILENT", r"(\Seen)"), 30)
    await client.logout()


async def bare_fetch(server: DovecotServer, count: int, chunk: int) -> float:
    client = await connect(server)
    started = time.perf_counter()
    response = await asyncio.wait_for(client.uid_search("UNSEEN", charset=None), 30)
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


async def smtp_session(smtp: SmtpProcess) -> aiosmtplib.SMTP:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=smtp.port, local_hostname="bench", timeout=30)
    await client.connect()
    return client


async def send_reply(client: aiosmtplib.SMTP, index: int) -> None:
    await client.mail(SUPPORT)
    await client.rcpt(f"person{index}@example.com")
    await client.rcpt(SUPPORT)
    await client.data(reply(index))


async def bare_send(smtp: SmtpProcess, count: int, sessions: int) -> float:
    """Seconds for ``count`` minimal SMTP transactions (reply + self-copy) over ``sessions`` connections."""
    todo = list(range(count))

    async def session() -> None:
        client = await smtp_session(smtp)
        while todo:
            await send_reply(client, todo.pop(0))
        await client.quit()

    started = time.perf_counter()
    await asyncio.gather(*(session() for _ in range(sessions)))
    return time.perf_counter() - started


def start_server(argv: list[str], name: str) -> tuple[subprocess.Popen[str], int]:
    """Start a server process that prints "PORT <n>" once it listens; its process and port."""
    process = subprocess.Popen(argv, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("PORT "):
        raise RuntimeError(f"{name} did not start: {line!r}")
    return process, int(line.split()[1])


class SmtpProcess:
    """The aiosmtpd test server in its own process, as a real MTA would be (no GIL shared with the bot)."""

    def __init__(self, spool: Path, maildir: Path) -> None:
        self.spool = spool
        self.process, self.port = start_server(
            [sys.executable, "-m", "tests.servers.smtp", "--spool", str(spool), "--local", f"{SUPPORT}={maildir}"],
            "SMTP test server")

    def accepted(self) -> list[float]:
        """When each transaction so far was accepted (the server's wall clock, seconds), oldest first.

        One file per transaction, named "<time_ns>-<uuid>.eml" by the server before it answers "250" (the
        self-copy rides in the same transaction). os.listdir: a pathlib glob cost the bot's loop seconds."""
        try:
            names = os.listdir(self.spool)
        except FileNotFoundError:
            return []
        return sorted(int(name.split("-", 1)[0]) / 1e9 for name in names if name.endswith(".eml"))

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


async def wait_accepted(smtp: SmtpProcess, count: int, seconds: float, poll: float) -> list[float]:
    deadline = time.perf_counter() + seconds
    while len(accepted := smtp.accepted()) < count:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"only {len(accepted)} of {count} replies accepted in {seconds:.0f}s")
        await asyncio.sleep(poll)
    return accepted


async def singles(server: DovecotServer, smtp: SmtpProcess, count: int, gap: float, tag: str,
                  first: int) -> list[float]:
    """Append ``count`` mails one at a time; for each, seconds from the APPEND to its reply's acceptance."""
    appender = await connect(server)
    latencies = []
    try:
        for n in range(count):
            before = len(smtp.accepted())
            appended_at = time.time()
            await asyncio.wait_for(appender.append(question(first + n, tag), mailbox="INBOX"), 30)
            accepted = await wait_accepted(smtp, before + 1, 30, 0.002)
            latencies.append(accepted[-1] - appended_at)
            await asyncio.sleep(gap)
    finally:
        await appender.logout()
    return latencies


async def bare_idle_pipeline(server: DovecotServer, smtp: SmtpProcess, ready: asyncio.Event) -> None:
    """IDLE -> push -> DONE -> UID FETCH the new mail -> one SMTP transaction each, until cancelled."""
    client = await connect(server)
    sender = await smtp_session(smtp)
    response = await client.uid_search("ALL", charset=None)
    last = max((int(u) for u in response.lines[0].split()), default=0)
    try:
        while True:
            idle = await client.idle_start(timeout=60)
            ready.set()
            await client.wait_server_push(timeout=60)
            client.idle_done()
            await asyncio.wait_for(idle, 30)
            result = await asyncio.wait_for(client.uid("fetch", f"{last + 1}:*", "(UID BODY.PEEK[])"), 30)
            for line in result.lines:
                if isinstance(line, bytes) and b"FETCH (" in line and b"UID " in line:
                    uid = int(line.split(b"UID ", 1)[1].split()[0].rstrip(b")"))
                    if uid > last:
                        last = uid
                        await send_reply(sender, uid)
    finally:
        with contextlib.suppress(Exception):
            await client.logout()
        with contextlib.suppress(Exception):
            await sender.quit()


def bot_environ(server: DovecotServer, smtp: SmtpProcess, database: Path) -> dict[str, str]:
    environ = email_overrides(server.port, smtp.port, PRIVACY_BOT__EMAIL__REPLIES_PER_SENDER_PER_HOUR="100",
                              PRIVACY_BOT__EMAIL__IMAP_POLL_SECONDS="600")
    environ.update({"PRIVACY_BOT__STORAGE__DATABASE": str(database), "PRIVACY_BOT_IMAP_PASSWORD": server.password,
                    "PRIVACY_BOT__LOGGING__LEVEL": "WARNING"})
    return environ


@contextlib.asynccontextmanager
async def running_bot(server: DovecotServer, smtp: SmtpProcess, database: Path) -> AsyncIterator[EmailChannel]:
    """The email channel and its outbox worker, as bot/app.py runs them; yields once they are started."""
    config = load_config(REPO_ROOT / "config.toml", environ=bot_environ(server, smtp, database))
    services = await build_services(config)
    channel = EmailChannel(services, housekeeping_seconds=3600)
    worker = OutboxWorker(services.db, {"email": channel.sender}, config, repository=services.outbox)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(channel.run(stop)), asyncio.create_task(worker.run(stop))]
    try:
        yield channel
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await services.close()


def processed_until(database: Path) -> float:
    """Wall-clock time at which the last answered mail was marked processed (its reply queued)."""
    with contextlib.closing(sqlite3.connect(database)) as conn:
        last = conn.execute("SELECT MAX(processed_at) FROM email_inbound WHERE outcome = 'answered'").fetchone()[0]
    return datetime.strptime(last, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


async def burst(server: DovecotServer, smtp: SmtpProcess, database: Path, count: int) -> tuple[float, float]:
    """Seconds from the channel's start until every mail was processed, and until the last reply was accepted."""
    before = len(smtp.accepted())
    config_started = time.time()
    async with running_bot(server, smtp, database):
        started = time.time()
        accepted = await wait_accepted(smtp, before + count, 300, 0.05)
    assert started - config_started < 30
    return processed_until(database) - started, accepted[-1] - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000, help="mails in the burst")
    parser.add_argument("--singles", type=int, default=50, help="single mails timed one at a time, per pipeline")
    # Over Dovecot's 500 ms notification delay: the copy of the previous reply must not wake the bot just
    # before the next mail arrives, which would hide the delay from the measure.
    parser.add_argument("--gap", type=float, default=1.0, help="pause after each single mail's reply (seconds)")
    args = parser.parse_args()
    count = args.messages
    root = Path(tempfile.mkdtemp(prefix="privacy-bot-bench-"))
    os.chmod(root, 0o755)  # Dovecot's unprivileged processes must reach the mail below it
    server = DovecotServer(root / "dovecot").start()
    smtp = bare_smtp = None
    try:
        # The bot's server delivers the self-copies into the mailbox, as in production (they are fetched too);
        # the bare pipelines' server delivers its copies elsewhere, so the bot never sees them.
        smtp = SmtpProcess(root / "spool", server.maildir)
        bare_smtp = SmtpProcess(root / "bare-spool", root / "bare-maildir")

        # (1) single mails
        ready = asyncio.Event()
        pipeline = asyncio.create_task(bare_idle_pipeline(server, bare_smtp, ready))
        await asyncio.wait_for(ready.wait(), 30)
        bare_single = await singles(server, bare_smtp, args.singles, args.gap, "bare-single", 100_000)
        pipeline.cancel()
        await asyncio.gather(pipeline, return_exceptions=True)
        await mark_all_seen(server)
        async with running_bot(server, smtp, root / "singles.sqlite3") as channel:
            await asyncio.wait_for(channel.receiver.connected.wait(), 30)
            await asyncio.sleep(0.5)  # its first sync done, the receiver is in IDLE
            bot_single = await singles(server, smtp, args.singles, args.gap, "bot-single", 200_000)
        await mark_all_seen(server)

        # (2) the burst
        started = time.perf_counter()
        await append_all(server, count)
        print(f"appended {count} messages in {time.perf_counter() - started:.1f}s")
        chunk = load_config(REPO_ROOT / "config.toml", environ={}).email.imap_fetch_chunk
        fetch = await bare_fetch(server, count, chunk)
        send = await bare_send(bare_smtp, count, SMTP_CONNECTIONS)
        processed, full = await burst(server, smtp, root / "burst.sqlite3", count)

        print(f"single mails ({args.singles} each, {args.gap:g}s apart), mailbox -> reply accepted:")
        for name, values in (("bare IDLE+fetch+send", bare_single), ("privacy-bot", bot_single)):
            print(f"  {name:<22} p50 {percentile(values, 0.5) * 1000:7.1f} ms   p99 {percentile(values, 0.99) * 1000:7.1f} ms"
                  f"   max {max(values) * 1000:7.1f} ms")
        print("  target for privacy-bot: p50 < 300 ms, p99 < 1000 ms")
        bare = fetch + send
        print(f"burst of {count} mails:")
        print(f"  bare aioimaplib fetch     {count / fetch:8.1f} mails/s   ({fetch:.2f}s, chunks of {chunk})")
        print(f"  bare aiosmtplib send      {count / send:8.1f} replies/s ({send:.2f}s, {SMTP_CONNECTIONS} sessions)")
        print(f"  bare pipeline (both)      {count / bare:8.1f} mails/s   ({bare:.2f}s)")
        print(f"  privacy-bot, reply queued {count / processed:8.1f} mails/s   ({processed:.2f}s)")
        print(f"  privacy-bot, accepted     {count / full:8.1f} mails/s   ({full:.2f}s)")
        print(f"  ratio privacy-bot / bare pipeline: {full / bare:.2f}x  (target: within 2x)")
    finally:
        for process in (smtp, bare_smtp):
            if process is not None:
                process.stop()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    os.environ.pop("PRIVACY_BOT_CONFIG", None)
    asyncio.run(main())
