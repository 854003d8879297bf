"""Backups and restores (bot/backup.py, bot/storage/backup.py): real files, the real command line as a
process, a real writer process committing while the copy is taken."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.backup import BackupJob, back_up, backups_in, database, rotate, seconds_until
from bot.cli import main
from bot.config import Config
from bot.pidfile import PidFile, pid_path
from bot.storage.db import Database, DatabaseTooNew, DatabaseUnusable, discover_migrations
from tests.security.test_broken_database import (
    READ_ONLY_CHILD,
    TIMEOUT,
    _bot,
    _digest,
    _file_size_limit,
    _fill,
    _read_only,
    _real_database,
)

WRITER = Path(__file__).resolve().parent / "backup_writer.py"
NEWEST = max(m.version for m in discover_migrations())


def _ids(path: Path) -> tuple[set[str], set[int]]:
    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=10)) as conn:
        conn.execute("BEGIN")
        requests = {row[0] for row in conn.execute("SELECT id FROM requests")}
        events = {row[0] for row in conn.execute("SELECT id FROM request_audit")}
        conn.execute("COMMIT")
    return requests, events


def _one_line(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and result.returncode == 1, (result.returncode, result.stderr)
    assert all(word in lines[0] for word in words), lines[0]
    return lines[0]


def _companions(path: Path) -> list[Path]:
    return [p for p in (path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal")) if p.exists()]


def _en(**extra: str) -> dict[str, str]:
    return {"PRIVACY_BOT__POLICY__DEFAULT_LANGUAGE": "en", **extra}


def test_a_backup_taken_under_write_load_restores_everything_committed_before_it(tmp_path: Path) -> None:
    db_path = _real_database(tmp_path / "data" / "bot.sqlite3", count=80)  # the copy takes a while
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, str(WRITER), str(db_path), str(stop)], stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "")})
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        time.sleep(0.3)
        committed_requests, committed_events = _ids(db_path)  # everything committed before the backup began
        copy = tmp_path / "copy.sqlite3"
        result, _ = _bot(["backup", str(copy)], db_path, **_en())
        assert result.returncode == 0, result.stderr
        assert "checked" in result.stdout
        later_requests, _ = _ids(db_path)
        assert len(later_requests) > len(committed_requests)  # the writer went on meanwhile
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        assert _companions(copy) == []  # one self-contained file
        # the writer still has the file open: a restore is refused, nothing replaced
        refused, _ = _bot(["restore", str(copy)], db_path, **_en())
        _one_line(refused, "open in another process")
        assert sorted(p.name for p in db_path.parent.iterdir() if "replaced" in p.name) == []
    finally:
        stop.touch()
        writer.wait(TIMEOUT)
    assert writer.returncode == 0
    final_requests, _ = _ids(db_path)
    result, _ = _bot(["restore", str(copy)], db_path, **_en())
    assert result.returncode == 0, result.stderr
    restored_requests, restored_events = _ids(db_path)
    assert committed_requests <= restored_requests and committed_events <= restored_events
    assert restored_requests < final_requests  # really the copy, not the file the writer left
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # one moment: no request without its trail, no trail without its request
        assert conn.execute("SELECT COUNT(*) FROM requests r WHERE NOT EXISTS "
                            "(SELECT 1 FROM request_audit a WHERE a.request_id = r.id)").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM request_audit a WHERE NOT EXISTS "
                            "(SELECT 1 FROM requests r WHERE r.id = a.request_id)").fetchone()[0] == 0
    # the restored file is the bot's again: commands work on it
    listed, _ = _bot(["requests", "list"], db_path, **_en())
    assert listed.returncode == 0 and "PR-" in listed.stdout


def test_restore_keeps_the_replaced_file_and_leaves_no_wal_of_it(tmp_path: Path) -> None:
    db_path = _real_database(tmp_path / "data" / "bot.sqlite3", count=2)
    copy = tmp_path / "copy.sqlite3"
    assert _bot(["backup", str(copy)], db_path)[0].returncode == 0
    # A process that committed and died: its last commit lives only in the WAL beside the file.
    subprocess.run([sys.executable, "-c", (
        "import os, sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
        "c.execute(\"INSERT INTO meta(key, value) VALUES ('only-in-wal', 'x')\"); c.commit(); os._exit(0)"),
        str(db_path)], check=True, timeout=TIMEOUT)
    assert {p.name for p in _companions(db_path)} == {"bot.sqlite3-wal", "bot.sqlite3-shm"}
    result, _ = _bot(["restore", str(copy)], db_path, **_en())
    assert result.returncode == 0, result.stderr
    assert _companions(db_path) == []
    replaced = [p for p in db_path.parent.iterdir() if p.name.startswith("bot.sqlite3.replaced-")]
    assert len(replaced) == 1 and str(replaced[0]) in result.stdout
    assert _companions(replaced[0]) == []
    with contextlib.closing(sqlite3.connect(replaced[0])) as conn:  # the WAL's commit was folded into it
        assert conn.execute("SELECT value FROM meta WHERE key = 'only-in-wal'").fetchone() == ("x",)
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'only-in-wal'").fetchone() is None


def test_restore_over_a_garbage_file_keeps_it_with_its_journal(tmp_path: Path) -> None:
    good = _real_database(tmp_path / "good.sqlite3", count=1)
    db_path = tmp_path / "data" / "bot.sqlite3"
    db_path.parent.mkdir()
    db_path.write_bytes(os.urandom(20_000))
    db_path.with_name("bot.sqlite3-wal").write_bytes(b"w" * 100)
    db_path.with_name("bot.sqlite3-shm").write_bytes(b"s" * 100)
    result, _ = _bot(["restore", str(good)], db_path, **_en())
    assert result.returncode == 0, result.stderr
    assert _companions(db_path) == []
    names = sorted(p.name for p in db_path.parent.iterdir())
    assert len(names) == 3 and names[0] == "bot.sqlite3" and names[2].endswith("-wal"), names
    assert _ids(db_path)[0] == _ids(good)[0]


def test_restore_refused_while_a_bot_runs(tmp_path: Path) -> None:
    db_path = _real_database(tmp_path / "data" / "bot.sqlite3", count=1)
    copy = tmp_path / "copy.sqlite3"
    assert _bot(["backup", str(copy)], db_path)[0].returncode == 0
    before = _digest(db_path)
    running = PidFile(pid_path(db_path))
    assert running.acquire()
    try:
        result, _ = _bot(["restore", str(copy)], db_path, **_en())
    finally:
        running.release()
    _one_line(result, "a bot is running", f"pid {os.getpid()}")
    assert _digest(db_path) == before
    assert sorted(p.name for p in db_path.parent.iterdir()) == ["bot.sqlite3"]


def test_restore_refuses_a_copy_of_a_newer_version(tmp_path: Path) -> None:
    db_path = _real_database(tmp_path / "data" / "bot.sqlite3", count=1)
    newer = _real_database(tmp_path / "newer.sqlite3", count=2)
    with contextlib.closing(sqlite3.connect(newer)) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (?, 'from_the_future', 'x')", (NEWEST + 1,))
        conn.commit()
    before = _digest(db_path)
    result, _ = _bot(["restore", str(newer)], db_path, **_en())
    _one_line(result, str(newer), "newer version", f"{NEWEST + 1:04d}")
    assert _digest(db_path) == before


@pytest.mark.parametrize("what", ["missing", "not a database", "damaged", "someone else's database", "folder"])
def test_restore_of_what_is_not_a_sound_backup_is_one_line(tmp_path: Path, what: str) -> None:
    db_path = _real_database(tmp_path / "data" / "bot.sqlite3", count=1)
    source = tmp_path / "source.sqlite3"
    if what == "not a database":
        source.write_bytes(b"hello" * 5000)
    elif what == "damaged":
        whole = _real_database(tmp_path / "whole.sqlite3", count=20)
        data = bytearray(whole.read_bytes())
        for offset in range(8192, len(data) - 4096, 8192):
            data[offset:offset + 4096] = os.urandom(4096)
        source.write_bytes(bytes(data))
    elif what == "someone else's database":
        with contextlib.closing(sqlite3.connect(source)) as conn:
            conn.execute("CREATE TABLE requests (id TEXT)")
            conn.commit()
    elif what == "folder":
        source.mkdir()
    before = _digest(db_path)
    result, _ = _bot(["restore", str(source)], db_path, **_en())
    words = {"missing": "no such file", "not a database": "not a database", "damaged": "damaged",
             "someone else's database": "not a privacy-bot database", "folder": "is a folder"}[what]
    _one_line(result, str(source), words)
    assert _digest(db_path) == before
    assert sorted(p.name for p in db_path.parent.iterdir()) == ["bot.sqlite3"]


@pytest.mark.parametrize("what", ["missing", "garbage", "damaged"])
def test_backup_of_a_broken_database_is_one_line_and_leaves_nothing(tmp_path: Path, what: str) -> None:
    db_path = tmp_path / "data" / "bot.sqlite3"
    if what == "garbage":
        db_path.parent.mkdir()
        db_path.write_bytes(os.urandom(50_000))
    elif what == "damaged":
        whole = _real_database(tmp_path / "whole.sqlite3", count=20)
        db_path.parent.mkdir()
        data = bytearray(whole.read_bytes())
        for offset in range(8192, len(data) - 4096, 8192):
            data[offset:offset + 4096] = os.urandom(4096)
        db_path.write_bytes(bytes(data))
    result, _ = _bot(["backup"], db_path, **_en())
    _one_line(result, str(db_path), {"missing": "no such file", "garbage": "not a database",
                                     "damaged": "damaged"}[what])
    assert not db_path.exists() if what == "missing" else True  # never created by looking
    folder = db_path.parent / "backups"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_backup_into_a_read_only_folder_is_one_line(tmp_path: Path) -> None:
    db_path = _real_database(tmp_path / "data" / "bot.sqlite3", count=1)
    folder = tmp_path / "ro"
    folder.mkdir()
    placeholder = folder / "keep"
    placeholder.write_text("x")
    with _read_only(placeholder):
        result, _ = _bot(["backup", str(folder)], db_path, preexec=READ_ONLY_CHILD, **_en())
        _one_line(result, f"cannot write a backup in {folder}")
        assert sorted(p.name for p in folder.iterdir()) == ["keep"]
        # the configured folder, read-only too
        result, _ = _bot(["backup"], db_path, preexec=READ_ONLY_CHILD,
                         **_en(PRIVACY_BOT__BACKUP__FOLDER=str(folder / "sub")))
        _one_line(result, "cannot write a backup in")


def test_backup_into_a_full_folder_is_one_line_and_leaves_no_partial_copy(tmp_path: Path) -> None:
    db_path = _real_database(tmp_path / "data" / "bot.sqlite3", count=40)
    size = db_path.stat().st_size
    folder = tmp_path / "backups"
    result, _ = _bot(["backup"], db_path, preexec=_file_size_limit(size // 2),
                     **_en(PRIVACY_BOT__BACKUP__FOLDER=str(folder)))
    _one_line(result, f"cannot write a backup in {folder}", "full")
    assert list(folder.iterdir()) == []


def test_backups_are_private_and_rotated(make_config: Callable[..., Config], tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    config = make_config({"PRIVACY_BOT__BACKUP__FOLDER": str(folder), "PRIVACY_BOT__BACKUP__KEEP": "2"})
    _real_database(config.database_path, count=1)
    stray = folder / "notes.txt"
    stray.write_text("mine")
    made = [back_up(config).path for _ in range(4)]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    kept = backups_in(folder)
    assert kept == made[-2:]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in kept)
    assert stray.exists()  # only its own copies are rotated
    assert rotate(folder, 1) == (made[-2],)


async def _older_database_with_data(path: Path) -> None:
    """As the code before the newest migration left it, holding data."""
    older = [m for m in discover_migrations() if m.version != NEWEST]
    db = await Database(path).open(migrations=older)
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO meta(key, value) VALUES ('data', 'kept')")
    await db.close()


async def test_migrations_take_a_backup_first_named_for_the_versions(make_config: Callable[..., Config]) -> None:
    config = make_config()
    await _older_database_with_data(config.database_path)
    older = [m for m in discover_migrations() if m.version != NEWEST]
    db = await database(config).open(migrations=older)  # nothing to apply: no copy
    await db.close()
    assert backups_in(config.backup_folder) == []
    db = await database(config).open()
    try:
        assert NEWEST in await db.applied_versions()
    finally:
        await db.close()
    copies = backups_in(config.backup_folder)
    assert [p.name.split("-", 3)[-1] for p in copies] == [f"before-{NEWEST:04d}.sqlite3"]
    assert stat.S_IMODE(copies[0].stat().st_mode) == 0o600
    with contextlib.closing(sqlite3.connect(copies[0])) as conn:
        assert NEWEST not in {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        assert conn.execute("SELECT value FROM meta WHERE key = 'data'").fetchone() == ("kept",)
    db = await database(config).open()  # upgraded now: no further copy
    await db.close()
    assert len(backups_in(config.backup_folder)) == 1


async def test_a_new_or_empty_database_is_not_copied(make_config: Callable[..., Config]) -> None:
    config = make_config()
    older = [m for m in discover_migrations() if m.version != NEWEST]
    db = await database(config).open(migrations=older)  # an existing database without data
    await db.close()
    db = await database(config).open()
    await db.close()
    assert not config.backup_folder.exists() or backups_in(config.backup_folder) == []


async def test_no_upgrade_without_its_backup(make_config: Callable[..., Config], tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    config = make_config({"PRIVACY_BOT__BACKUP__FOLDER": str(blocker / "backups")})
    await _older_database_with_data(config.database_path)
    with pytest.raises(DatabaseUnusable, match="not upgraded: the copy before the upgrade failed"):
        await database(config).open()
    with contextlib.closing(sqlite3.connect(config.database_path)) as conn:
        assert NEWEST not in {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}


COMMANDS = {
    "requests list": ["requests", "list"],
    "requests show": ["requests", "show", "PR-2026-0001"],
    "requests export": ["requests", "export", "--format", "json"],
    "retention run": ["retention", "run"],
    "handoffs list": ["handoffs", "list"],
    "examples list": ["examples", "list"],
    "run": ["run"],
}


def test_a_database_of_a_newer_version_is_refused_by_every_command(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    db_path = _real_database(tmp_path / "data" / "bot.sqlite3", count=1)
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (?, 'from_the_future', 'x')", (NEWEST + 1,))
        conn.commit()
    before = _digest(db_path)
    expected = f"database {db_path}: written by a newer version"
    # `run` as the real process (it is the bot's start), the others as the command line runs them
    result, _ = _bot(COMMANDS["run"], db_path, **_en())
    assert "privacy-bot restore" in _one_line(result, expected, f"{NEWEST + 1:04d}") and result.stdout == ""
    monkeypatch.setenv("PRIVACY_BOT__STORAGE__DATABASE", str(db_path))
    monkeypatch.delenv("PRIVACY_BOT_CONFIG", raising=False)
    for command in sorted(set(COMMANDS) - {"run"}):
        code = main(COMMANDS[command])
        out, err = capsys.readouterr()
        assert code == 1 and out == "", (command, out, err)
        lines = err.splitlines()
        assert len(lines) == 1 and f"версией privacy-bot (версии схемы {NEWEST + 1:04d}" in lines[0], (command, err)
    assert _digest(db_path) == before
    assert not (db_path.parent / "backups").exists()


async def test_newer_version_refused_in_process(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    await _fill(path, 1)
    older = [m for m in discover_migrations() if m.version != NEWEST]
    with pytest.raises(DatabaseTooNew) as caught:
        await Database(path).open(migrations=older)
    assert caught.value.versions == [NEWEST]


def test_the_daily_hour_is_counted_in_the_configured_zone() -> None:
    # 02:30 in Moscow (23:30 UTC the day before): the 03:00 copy is half an hour away
    assert seconds_until(3, "Europe/Moscow", datetime(2026, 3, 1, 23, 30, tzinfo=UTC)) == 1800
    # exactly at the hour: the next day's
    assert seconds_until(3, "Europe/Moscow", datetime(2026, 3, 2, 0, 0, tzinfo=UTC)) == 86400
    # across a clock change (Berlin, 29 March 2026: 02:00 -> 03:00): 23 hours of real time
    assert seconds_until(4, "Europe/Berlin", datetime(2026, 3, 28, 3, 0, tzinfo=UTC)) == 23 * 3600


async def test_the_daily_job_copies_and_a_failure_never_stops_it(make_config: Callable[..., Config],
                                                                 tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    config = make_config({"PRIVACY_BOT__BACKUP__FOLDER": str(tmp_path / "daily")})
    await _fill(config.database_path, 1)
    stop = asyncio.Event()
    job = BackupJob(config, wait=lambda: 0.05)
    task = asyncio.create_task(job.run(stop))
    for _ in range(100):
        if len(backups_in(tmp_path / "daily")) >= 2:
            break
        await asyncio.sleep(0.05)
    assert len(backups_in(tmp_path / "daily")) >= 2
    # the database goes bad: each pass logs one line and the job goes on
    config.database_path.rename(tmp_path / "elsewhere.sqlite3")
    with caplog.at_level(logging.ERROR, logger="bot.backup"):
        await asyncio.sleep(0.3)
        assert not task.done()
        failures = [r for r in caplog.records if "daily backup failed" in r.getMessage()]
        assert len(failures) >= 2 and "no such file" in failures[0].getMessage()
        assert job.last_error is not None
    stop.set()
    await asyncio.wait_for(task, 2)


async def test_the_daily_job_is_off_when_disabled(make_config: Callable[..., Config]) -> None:
    config = make_config({"PRIVACY_BOT__BACKUP__ENABLED": "false"})
    job = BackupJob(config, wait=lambda: 0.0)
    await asyncio.wait_for(job.run(asyncio.Event()), 1)  # returns at once
    assert job.last is None
