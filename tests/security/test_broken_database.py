"""A broken database file (garbage, truncated, read-only, full) never hangs a command or the bot and never
prints a traceback: one line naming the file and the problem, exit status 1 (non-zero for ``run``).

Real files and real processes throughout; every process runs under a timeout, so a hang fails the test
instead of stalling the suite.

Read-only: root ignores file modes through CAP_DAC_OVERRIDE. As root the child drops that capability (and
the other file-permission ones) from its bounding set before exec, so it is still uid 0 and can read the
interpreter and the repository wherever they live (here under /root, closed to "nobody"), but the modes
bind it like any owner: a 0444 file in a 0555 folder cannot be written, nor can journal files be made
beside it. A precondition check proves the child really cannot write the file.

Full: CPython ignores SIGXFSZ, so with RLIMIT_FSIZE set in the child a write past the limit fails like a
full disk (SQLite sees EFBIG and reports an I/O error; the bot names the limit).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import hashlib
import os
import resource
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from bot.audit import staff_actor
from bot.config import REPO_ROOT, load_config
from bot.policy.loader import load_policy
from bot.policy.snapshot import snapshot_of
from bot.requests.models import Channel, Requester, RequestType, VerificationMethod
from bot.services import open_core
from bot.storage import policy_repo
from bot.storage.db import Database, DatabaseUnusable
from tests.servers.botapi import TEST_TOKEN, BotApiServer

CONFIG = REPO_ROOT / "config.toml"
TIMEOUT = 30.0  # per process; a hang fails here
WITHIN = 15.0  # what "well within the timeout" means: a failing command takes about a second
STAFF_CHAT = -1001234567890
SUPPORT = "support@jetbit.ru"

CREATE = ["requests", "create", "--type", "deletion", "--channel", "manual", "--phone", "+7 900 123-45-67",
          "--name", "Иван", "--details", "учётная запись", "--by", "anna"]
COMMANDS = {
    "requests list": ["requests", "list"],
    "requests show": ["requests", "show", "PR-2026-0001"],
    "requests create": CREATE,
    "requests export": ["requests", "export", "--format", "json"],
    "retention run": ["retention", "run"],
    "handoffs list": ["handoffs", "list"],
}


# -- helpers ---------------------------------------------------------------------------------------------

def _env(database: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRIVACY_BOT")}
    env["PRIVACY_BOT__STORAGE__DATABASE"] = str(database)
    env.update(extra)
    return env


def _bot(args: list[str], database: Path, *, preexec: Callable[[], None] | None = None,
         **extra: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "bot", "--config", str(CONFIG), *args],
                            env=_env(database, **extra), cwd=str(REPO_ROOT), capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=TIMEOUT, preexec_fn=preexec)
    return result, time.monotonic() - started


def _assert_one_line(result: subprocess.CompletedProcess[str], elapsed: float, database: Path,
                     *problem: str, status: int | None = 1) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith(f"privacy-bot: database {database}: "), line
    assert any(words in line for words in problem), line
    if status is None:
        assert result.returncode != 0
    else:
        assert result.returncode == status, (result.returncode, line)
    assert elapsed < WITHIN, elapsed
    return line


async def _fill(database: Path, count: int = 3) -> None:
    """A real bot database: the migrations, the policy a bot ran with (recorded at its first start,
    bot/policy_reload.py) and a few requests, closed cleanly (no WAL left behind)."""
    config = load_config(CONFIG, environ={"PRIVACY_BOT__STORAGE__DATABASE": str(database)})
    db, service = await open_core(config)
    try:
        async with db.transaction() as conn:
            await policy_repo.save_snapshot(conn, snapshot_of(load_policy(config.policy_directory)))
        for number in range(count):
            await service.create(type=RequestType.DELETION, channel=Channel.MANUAL, lang="ru",
                                 requester=Requester(phone=f"+7 900 123-45-6{number}"), details="x" * 3000,
                                 verified=VerificationMethod.STAFF, actor=staff_actor("anna"))
    finally:
        await db.close()


def _real_database(path: Path, count: int = 3) -> Path:
    asyncio.run(_fill(path, count))
    assert not path.with_name(path.name + "-wal").exists()
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _request_count(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return int(conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0])


# CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID: what lets root ignore modes.
_FILE_CAPABILITIES = (0, 1, 2, 3, 4)
_PR_CAPBSET_DROP = 24
_libc = ctypes.CDLL(None, use_errno=True)


def _without_file_capabilities() -> None:
    """preexec_fn: runs in the child between fork and exec (the parent keeps its capabilities)."""
    for capability in _FILE_CAPABILITIES:
        if _libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), f"prctl(PR_CAPBSET_DROP, {capability})")


READ_ONLY_CHILD = _without_file_capabilities if os.geteuid() == 0 else None


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[None]:
    folder = path.parent
    path.chmod(0o444)
    folder.chmod(0o555)
    try:
        # The precondition: the child really cannot write the file nor create files beside it.
        probe = subprocess.run(
            [sys.executable, "-c", f"open({str(path)!r}, 'r+b')"], capture_output=True, text=True,
            timeout=TIMEOUT, preexec_fn=READ_ONLY_CHILD)
        assert probe.returncode != 0 and "PermissionError" in probe.stderr, probe.stderr
        probe = subprocess.run(
            [sys.executable, "-c", f"open({str(folder / 'x')!r}, 'w')"], capture_output=True, text=True,
            timeout=TIMEOUT, preexec_fn=READ_ONLY_CHILD)
        assert probe.returncode != 0 and "PermissionError" in probe.stderr, probe.stderr
        yield
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)


def _file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


# -- damaged files ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_garbage_file_one_line_for_every_command(tmp_path: Path, command: str) -> None:
    database = tmp_path / "x.sqlite3"
    database.write_bytes(os.urandom(100_000))
    before = _digest(database)
    result, elapsed = _bot(COMMANDS[command], database)
    _assert_one_line(result, elapsed, database, "file is not a database")
    assert result.stdout == ""
    assert _digest(database) == before  # looked at, never written


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_truncated_database_one_line_for_every_command(tmp_path: Path, command: str) -> None:
    whole = _real_database(tmp_path / "whole.sqlite3")
    database = tmp_path / "x.sqlite3"
    database.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    result, elapsed = _bot(COMMANDS[command], database)
    _assert_one_line(result, elapsed, database, "damaged", "not a database")
    assert result.stdout == ""


@pytest.mark.parametrize("content", ["garbage", "truncated"])
def test_run_stops_at_once_on_a_damaged_file(tmp_path: Path, content: str) -> None:
    database = tmp_path / "x.sqlite3"
    if content == "garbage":
        database.write_bytes(os.urandom(50_000))
    else:
        whole = _real_database(tmp_path / "whole.sqlite3")
        database.write_bytes(whole.read_bytes()[: whole.stat().st_size - 8192])
    # The console chat (no channel configured), and the Telegram channel (pointed at nothing: the
    # database is opened first, before the engine loads and before any channel starts).
    for extra in ({}, {"PRIVACY_BOT_TELEGRAM_TOKEN": TEST_TOKEN,
                       "PRIVACY_BOT__TELEGRAM__API_BASE": "http://127.0.0.1:9"}):
        result, elapsed = _bot(["run"], database, **extra)
        _assert_one_line(result, elapsed, database, "damaged", "not a database", status=None)


async def test_a_failed_open_leaves_no_thread_behind(tmp_path: Path) -> None:
    """The hang was the aiosqlite worker thread of a connection nobody closed: the process waited for it.
    Failing after connecting (garbage) and failing to connect at all (a folder) both stop it."""
    garbage = tmp_path / "x.sqlite3"
    garbage.write_bytes(b"not a database at all" * 1000)
    folder = tmp_path / "folder.sqlite3"
    folder.mkdir()
    def workers() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if "_connection_worker_thread" in t.name]

    assert workers() == []
    for path, problem in [(garbage, "file is not a database"), (folder, "is a folder, not a file")] * 2:
        db = Database(path)
        with pytest.raises(DatabaseUnusable) as caught:
            await db.open()
        assert str(caught.value) == f"database {path}: {problem}"
        with pytest.raises(RuntimeError, match="not open"):
            db.conn  # noqa: B018
        assert workers() == []  # already gone when open() returns


async def test_a_damaged_page_met_while_running_is_fatal_and_stops_all_writes(tmp_path: Path) -> None:
    """Damage that shows only when a statement reads the page: the first statement to meet it records the
    failure (what the running bot waits on), and no transaction is begun after it."""
    path = tmp_path / "bot.sqlite3"
    await _fill(path, 3)
    db = await Database(path).open()
    try:
        waiting = asyncio.create_task(db.wait_unusable())
        await asyncio.sleep(0)
        assert not waiting.done()
        size = path.stat().st_size
        with path.open("r+b") as file:  # everything after the first two pages (the schema stays readable)
            for offset in range(8192, size, 4096):
                file.seek(offset)
                file.write(os.urandom(4096))
        with pytest.raises(DatabaseUnusable, match="file is damaged"):
            async with db.conn.execute("SELECT * FROM requests") as cursor:
                await cursor.fetchall()
        failure = await asyncio.wait_for(waiting, 1)
        assert failure is db.failure
        assert str(failure) == f"database {path}: file is damaged (database disk image is malformed)"
        with pytest.raises(DatabaseUnusable, match="file is damaged"):
            async with db.transaction():
                pytest.fail("a transaction began on a failed file")
    finally:
        await db.close()


# -- read-only -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["requests list", "requests create", "run"])
def test_read_only_database_one_line(tmp_path: Path, command: str) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    database = _real_database(folder / "bot.sqlite3")
    before = _digest(database)
    with _read_only(database):
        result, elapsed = _bot(COMMANDS.get(command, [command]), database, preexec=READ_ONLY_CHILD)
    _assert_one_line(result, elapsed, database, "read-only", status=None if command == "run" else 1)
    assert result.stdout == ""
    assert _digest(database) == before
    assert sorted(p.name for p in folder.iterdir()) == ["bot.sqlite3"]


def test_read_only_file_in_a_writable_folder_is_refused_at_open(tmp_path: Path) -> None:
    """SQLite would read it (and fail at the first write, half-way through some work): refused at once."""
    database = _real_database(tmp_path / "bot.sqlite3")
    database.chmod(0o444)
    try:
        probe = subprocess.run([sys.executable, "-c", f"open({str(database)!r}, 'r+b')"], capture_output=True,
                               text=True, timeout=TIMEOUT, preexec_fn=READ_ONLY_CHILD)
        assert "PermissionError" in probe.stderr, probe.stderr
        for command in ("requests list", "handoffs list"):
            result, elapsed = _bot(COMMANDS[command], database, preexec=READ_ONLY_CHILD)
            _assert_one_line(result, elapsed, database, "read-only")
    finally:
        database.chmod(0o644)


@pytest.mark.parametrize("where", ["new file", "new folder"])
def test_a_database_that_cannot_be_created_in_a_read_only_folder(tmp_path: Path, where: str) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    database = folder / "bot.sqlite3" if where == "new file" else folder / "sub" / "bot.sqlite3"
    folder.chmod(0o555)
    try:
        result, elapsed = _bot(COMMANDS["requests list"], database, preexec=READ_ONLY_CHILD)
    finally:
        folder.chmod(0o755)
    expected = "read-only folder: cannot create the file" if where == "new file" else \
        "cannot create its folder (Permission denied)"
    _assert_one_line(result, elapsed, database, expected)
    assert list(folder.iterdir()) == []


async def test_opening_does_not_queue_behind_another_writer(tmp_path: Path) -> None:
    """The writability check must not make a listing wait for a write lock held elsewhere."""
    path = tmp_path / "bot.sqlite3"
    await _fill(path, 1)
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        db = await Database(path).open()
        try:
            async with db.conn.execute("SELECT COUNT(*) FROM requests") as cursor:
                assert (await cursor.fetchone())[0] == 1
        finally:
            await db.close()
        assert time.monotonic() - started < 2.0  # not the 10 s busy timeout
    finally:
        writer.execute("ROLLBACK")
        writer.close()


# -- full ------------------------------------------------------------------------------------------------

FILE_LIMIT = 65_536  # room for the WAL index (32 KiB) and a few small transactions, not for a big one


def test_full_disk_write_command_one_line_and_nothing_half_written(tmp_path: Path) -> None:
    database = _real_database(tmp_path / "bot.sqlite3")
    limit = _file_size_limit(FILE_LIMIT)
    # Reading still works under the limit: the failure below is the write, not the opening.
    listing, _ = _bot(["requests", "list"], database, preexec=limit)
    assert listing.returncode == 0 and "PR-2026-0003" in listing.stdout, listing.stderr
    big = [*CREATE[:-2], "--details", "подробности " * 4_500, "--by", "anna"]
    result, elapsed = _bot(big, database, preexec=limit)
    _assert_one_line(result, elapsed, database, "disk is full")
    assert f"{FILE_LIMIT} bytes" in result.stderr
    assert result.stdout == ""
    assert _request_count(database) == 3  # the request is not there, and the file is whole
    # With room to write, the same command goes through.
    again, _ = _bot(big, database)
    assert again.returncode == 0, again.stderr
    assert _request_count(database) == 4


# -- the running bot -------------------------------------------------------------------------------------

class _Bot:
    """``privacy-bot run`` with the Telegram channel against the loopback Bot API server."""

    def __init__(self, api: BotApiServer, database: Path, preexec: Callable[[], None] | None = None) -> None:
        self.api, self.database, self.preexec = api, database, preexec
        self.proc: asyncio.subprocess.Process | None = None
        self.stderr = b""
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        mark = self.api.mark()
        env = _env(self.database, PRIVACY_BOT_TELEGRAM_TOKEN=TEST_TOKEN,
                   PRIVACY_BOT__TELEGRAM__API_BASE=self.api.base_url,
                   PRIVACY_BOT__TELEGRAM__STAFF_CHAT_ID=str(STAFF_CHAT),
                   PRIVACY_BOT__LOGGING__LEVEL="WARNING")
        # stderr through a pipe read as it comes: a log file would be subject to the file size limit.
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(CONFIG), "run", env=env, cwd=str(REPO_ROOT),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            preexec_fn=self.preexec)
        self._reader = asyncio.create_task(self._read())
        # Up when polling starts (right after deleteWebhook), unless it stopped already.
        up = asyncio.ensure_future(self.api.wait_for(lambda c: c.method == "deleteWebhook", after=mark,
                                                     within=40.0))
        exited = asyncio.ensure_future(self.proc.wait())
        done, _ = await asyncio.wait({up, exited}, return_when=asyncio.FIRST_COMPLETED)
        exited.cancel()
        if up in done:
            up.result()
        else:
            up.cancel()

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        while chunk := await self.proc.stderr.read(65536):
            self.stderr += chunk

    async def wait(self, within: float = TIMEOUT) -> int:
        assert self.proc is not None and self._reader is not None
        try:
            code = await asyncio.wait_for(self.proc.wait(), within)
        finally:
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()
        await self._reader
        return code

    async def stop(self) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.terminate()
        return await self.wait()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None


async def _reply_or_exit(bot: _Bot, api: BotApiServer, chat: int, after: int) -> bool:
    """True when the bot answered ``chat``, False when it exited first."""
    assert bot.proc is not None
    reply = asyncio.ensure_future(api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == chat,
                                               after=after, within=15.0))
    exited = asyncio.ensure_future(bot.proc.wait())
    done, _ = await asyncio.wait({reply, exited}, return_when=asyncio.FIRST_COMPLETED)
    for task in (reply, exited):
        if task not in done:
            task.cancel()
    if reply in done:
        reply.result()  # a timeout (no answer and no exit) fails here
        return True
    return False


async def _until_the_disk_fills(api: BotApiServer, database: Path, limit: int) -> tuple[int, int | None]:
    """Runs the bot under a file size limit while people start deletion flows (each saves its flow
    state), until it stops; checks the one line; returns how many were answered and the last person."""
    bot = _Bot(api, database, preexec=_file_size_limit(limit))
    started = time.monotonic()
    await bot.start()
    last: int | None = None
    answered = 0
    try:
        for person in range(9000, 9100):
            if not bot.running:
                break
            mark = api.mark()
            api.send_text(person, "Удалите мои данные, пожалуйста", language_code="ru")
            last = person
            if not await _reply_or_exit(bot, api, person, mark):
                break
            answered += 1
        code = await bot.wait()
        elapsed = time.monotonic() - started
    finally:
        if bot.running:
            await bot.stop()
    stderr = bot.stderr.decode(errors="replace")
    assert code != 0, stderr
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"privacy-bot: database {database}: disk is full"), stderr
    assert elapsed < TIMEOUT + 10.0, elapsed  # the start alone takes several seconds on a busy machine
    return answered, last


async def test_running_bot_stops_with_one_line_when_the_disk_fills_and_loses_no_update(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    await _fill(database, 0)
    async with BotApiServer() as api:
        # The fresh file's own size: every page it has can be written again in place, nothing can be added
        # (a fixed 128 KiB stopped fitting the pages of the Telegram tables once a migration came before them).
        answered, last = await _until_the_disk_fills(api, database, database.stat().st_size)
        assert answered >= 1  # it worked under the limit before a write no longer fitted
        assert _request_count(database) == 0  # the file is whole
        # The update it could not finish was not confirmed to Telegram ...
        assert [u["message"]["from"]["id"] for u in api._updates] == [last]
        # ... so the bot, restarted with room to write, handles it.
        mark = api.mark()
        again = _Bot(api, database)
        await again.start()
        try:
            assert last is not None
            answer = await api.wait_for_message(last, "", after=mark, within=20.0)
            assert "удал" in answer.text.lower(), answer.text
        finally:
            code = await again.stop()
        assert code == 0, again.stderr.decode(errors="replace")
        assert api._updates == []  # and now it is confirmed


async def test_running_bot_stops_with_one_line_when_outbox_marks_no_longer_fit(tmp_path: Path) -> None:
    """Requests wait for their staff cards: the worker claims them, sends, and cannot mark them sent."""
    database = tmp_path / "bot.sqlite3"
    await _fill(database, 3)
    async with BotApiServer() as api:
        _, last = await _until_the_disk_fills(api, database, 65_536)
        assert [u["message"]["from"]["id"] for u in api._updates] == [last]  # never confirmed
        cards = [c.text for c in api.calls_of("sendMessage", STAFF_CHAT)]
    assert _request_count(database) == 3  # the file is whole
    with contextlib.closing(sqlite3.connect(database)) as conn:
        rows = conn.execute("SELECT request_id, status, attempts FROM outbox WHERE channel = 'staff'").fetchall()
    assert len(rows) == 3, rows
    # A mark that did not fit leaves its message pending and claimed, never failed: after a restart the
    # worker sends it again, as after a crash between send and mark (tests/core/test_outbox_crash.py).
    assert {status for _, status, _ in rows} <= {"sent", "pending"}, rows
    assert any(status == "pending" and attempts >= 1 for _, status, attempts in rows), rows
    for request_id, status, _ in rows:
        if status == "sent":
            assert any(request_id in card for card in cards), (request_id, cards)


# -- the polling loop's offset ----------------------------------------------------------------------------

async def test_polling_never_confirms_an_update_in_flight_or_one_handled_while_the_database_failed() -> None:
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message

    from handlers.telegram.polling import Poller

    async with BotApiServer() as api:
        bot = Bot(TEST_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api.base_url)))
        dp = Dispatcher()
        failing = False
        release = asyncio.Event()
        handled: list[str] = []

        @dp.message()
        async def handle(message: Message, **_: Any) -> None:
            nonlocal failing
            if message.text == "slow":
                await release.wait()
            if message.text == "breaks the database":
                failing = True
            handled.append(message.text or "")

        stop = asyncio.Event()
        poller = Poller(dp, bot, polling_timeout=5, healthy=lambda: not failing)
        polling = asyncio.create_task(poller.run(stop))
        try:
            api.send_text(1, "slow")
            api.send_text(2, "quick")
            for _ in range(200):
                if handled == ["quick"]:
                    break
                await asyncio.sleep(0.01)
            assert handled == ["quick"]
            mark = api.mark()
            await asyncio.sleep(1.5)
            # The slow one is still being handled: not confirmed (Telegram would forget it on a crash),
            # and the loop waits instead of asking in a tight loop while Telegram repeats it.
            assert [u["message"]["text"] for u in api._updates] == ["slow", "quick"]
            assert len(api.calls_of("getUpdates")[mark:]) <= 4
            assert handled == ["quick"]  # not handed to the dispatcher twice
            release.set()
            for _ in range(200):
                if not api._updates:
                    break
                await asyncio.sleep(0.02)
            assert api._updates == []  # both done: confirmed
            api.send_text(3, "breaks the database")
            api.send_text(4, "after")
            for _ in range(200):
                if len(handled) == 4:
                    break
                await asyncio.sleep(0.01)
        finally:
            stop.set()
            await asyncio.wait_for(polling, 15)
            await bot.session.close()
        # Handled while the database was failing: left for the next start, with everything after it.
        assert [u["message"]["text"] for u in api._updates] == ["breaks the database", "after"]


# -- the running bot, email channel ------------------------------------------------------------------------

def _mail_with_attachment() -> bytes:
    mail = EmailMessage()
    mail["From"] = "Ivan <ivan@example.com>"
    mail["To"] = SUPPORT
    mail["Subject"] = "Вопрос о данных"
    mail["Message-ID"] = MESSAGE_ID
    mail["Date"] = "Mon, 07 Dec 2026 10:00:00 +0300"
    mail.set_content("Передаёте ли вы мои персональные данные другим компаниям?")
    # Stored whole (up to max_message_bytes): a write far past the file size limit.
    mail.add_attachment(os.urandom(150_000), maintype="application", subtype="octet-stream", filename="scan.bin")
    return mail.as_bytes()


MESSAGE_ID = "<full-disk-1@example.com>"


def _flags(maildir: Path) -> list[str]:
    """The IMAP flag letters of the test mail, per copy in the Maildir ("" once a client saw it arrive,
    without \\Seen); our own replies' copies, delivered there too, are left out."""
    paths = [p for sub in ("new", "cur") for p in (maildir / sub).iterdir()]
    ours = [p.name for p in paths if f"Message-ID: {MESSAGE_ID}".encode() in p.read_bytes()]
    return [name.split(":2,", 1)[1] if ":2," in name else "" for name in ours]


def test_running_email_bot_stops_with_one_line_when_the_disk_fills_and_leaves_the_mail_unseen(
        tmp_path: Path, dovecot: Any) -> None:
    from tests.email.conftest import email_overrides
    from tests.servers.smtp import SmtpServer

    dovecot.reset_mailbox()
    database = tmp_path / "bot.sqlite3"
    asyncio.run(_fill(database, 0))
    dovecot.deliver(_mail_with_attachment())
    with SmtpServer(local_maildirs={SUPPORT: dovecot.maildir}) as smtp:
        env = _env(database, PRIVACY_BOT_IMAP_PASSWORD=dovecot.password, PRIVACY_BOT__LOGGING__LEVEL="WARNING",
                   **email_overrides(dovecot.port, smtp.port, PRIVACY_BOT__EMAIL__IMAP_POLL_SECONDS="1"))
        command = [sys.executable, "-m", "bot", "--config", str(CONFIG), "run"]
        started = time.monotonic()
        full = subprocess.run(command, env=env, cwd=str(REPO_ROOT), capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=TIMEOUT + 20,
                              preexec_fn=_file_size_limit(FILE_LIMIT))
        elapsed = time.monotonic() - started
        assert full.returncode != 0, full.stderr
        assert "Traceback" not in full.stderr, full.stderr
        assert full.stderr.splitlines() == [
            f"privacy-bot: database {database}: disk is full for this process "
            f"(file size limit of {FILE_LIMIT} bytes, ulimit -f)"], full.stderr
        assert elapsed < TIMEOUT + 20, elapsed
        # Not stored, not answered, not flagged \Seen: the mailbox still offers it.
        assert _flags(dovecot.maildir) == [""]  # one copy, not seen
        assert not [m for m in smtp.messages if "ivan@example.com" in m.rcpt_tos]
        assert _request_count(database) == 0

        # Restarted with room to write: the mail is stored, answered and flagged.
        log = tmp_path / "bot.log"
        with log.open("wb") as sink:
            bot = subprocess.Popen(command, env=env, cwd=str(REPO_ROOT), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=sink)
            try:
                deadline = time.monotonic() + 40.0
                while not [m for m in smtp.messages if "ivan@example.com" in m.rcpt_tos]:
                    assert bot.poll() is None, log.read_text(errors="replace")
                    assert time.monotonic() < deadline, log.read_text(errors="replace")
                    time.sleep(0.1)
                while _flags(dovecot.maildir) != ["S"] and time.monotonic() < deadline:
                    time.sleep(0.1)
            finally:
                bot.terminate()
                code = bot.wait(TIMEOUT)
        assert code == 0, log.read_text(errors="replace")
        reply = next(m for m in smtp.messages if "ivan@example.com" in m.rcpt_tos).message()
        assert reply["In-Reply-To"] == MESSAGE_ID
        assert _flags(dovecot.maildir) == ["S"]


# -- webhook mode ----------------------------------------------------------------------------------------

async def test_webhook_answers_500_while_the_database_fails_so_telegram_delivers_again(tmp_path: Path) -> None:
    import socket

    import aiohttp

    from bot.services import build_services
    from handlers.telegram.channel import TelegramChannel, webhook_secret

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with BotApiServer() as api:
        config = load_config(CONFIG, environ={
            "PRIVACY_BOT__STORAGE__DATABASE": str(tmp_path / "bot.sqlite3"),
            "PRIVACY_BOT__TELEGRAM__MODE": "webhook", "PRIVACY_BOT__TELEGRAM__WEBHOOK_PORT": str(port),
            "PRIVACY_BOT__TELEGRAM__WEBHOOK_URL": "https://bot.example/telegram/webhook",
            "PRIVACY_BOT__TELEGRAM__API_BASE": api.base_url,
            "PRIVACY_BOT__TELEGRAM__STAFF_CHAT_ID": str(STAFF_CHAT), "PRIVACY_BOT_TELEGRAM_TOKEN": TEST_TOKEN})
        services = await build_services(config)
        stop = asyncio.Event()
        running: asyncio.Task[None] | None = None
        try:
            running = asyncio.create_task(TelegramChannel(services).run(stop))
            await api.wait_for(lambda c: c.method == "setWebhook", within=10)
            # From here SQLite itself refuses every write of this connection, as for a read-only file.
            await services.db.conn.execute("PRAGMA query_only = ON")
            update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "Удалите мои данные",
                                                  "chat": {"id": 4242, "type": "private"},
                                                  "from": {"id": 4242, "is_bot": False, "first_name": "A",
                                                           "language_code": "ru"}}}
            url = f"http://127.0.0.1:{port}/telegram/webhook"
            headers = {"X-Telegram-Bot-Api-Secret-Token": webhook_secret(TEST_TOKEN)}
            async with aiohttp.ClientSession() as http, http.post(url, json=update, headers=headers) as resp:
                assert resp.status == 500  # not 200: Telegram keeps the update and sends it again
            assert services.db.failure is not None
            assert str(services.db.failure) == f"database {config.database_path}: read-only " \
                                               "(no permission to write the file or its folder)"
            # No "something went wrong" to the person: the update is handled for real once it comes again.
            assert api.calls_of("sendMessage", 4242) == []
        finally:
            stop.set()
            if running is not None:
                await asyncio.wait_for(running, 15)
            await services.close()
