"""Backups of the database: ``privacy-bot backup``, the running bot's daily copy, the copy taken before
migrations change an existing database, and ``privacy-bot restore``.

Copies live in ``[backup] folder`` (made readable by this user only; each file 0600), named
``privacy-bot-<UTC time>[-<label>].sqlite3``; after each copy the newest ``keep`` are kept and older ones
deleted, so personal data in old copies ages out with them. A restore refuses while a bot holds the pid
file beside the database (bot/pidfile.py) or another process has the file open, checks the copy (sound,
a privacy-bot database, no schema version this code lacks), keeps the replaced file beside it as
``<name>.replaced-<UTC time>`` and leaves no WAL or SHM of it behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import re
import stat
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.pidfile import pid_path
from bot.storage.backup import BackupFailed, Snapshot, copy_database, read_snapshot, settle_and_move
from bot.storage.db import Database, discover_migrations

log = logging.getLogger(__name__)

PREFIX = "privacy-bot-"
_NAME = re.compile(r"^privacy-bot-(\d{8}T\d{6}Z)(-[a-z0-9+-]+)?\.sqlite3$")
_STALE_PARTIAL_SECONDS = 3600.0


@dataclass(frozen=True)
class BackupResult:
    path: Path
    snapshot: Snapshot
    removed: tuple[Path, ...] = ()


def _stamp(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def prepare_folder(folder: Path) -> None:
    """The folder exists and only this user may enter it (the copies hold personal data)."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if stat.S_IMODE(folder.stat().st_mode) & 0o077:
            folder.chmod(0o700)
    except OSError as exc:
        raise BackupFailed("backup-cannot-write", path=folder, problem=exc.strerror or str(exc)) from None


def _free_name(folder: Path, label: str) -> Path:
    base = f"{PREFIX}{_stamp()}{'-' + label if label else ''}"
    path = folder / f"{base}.sqlite3"
    number = 2
    while path.exists() or path.with_name(f".{path.name}.partial").exists():
        path = folder / f"{base}-{number}.sqlite3"
        number += 1
    return path


def backups_in(folder: Path) -> list[Path]:
    """The copies in the folder, oldest first."""
    try:
        found = [path for path in folder.iterdir() if _NAME.match(path.name) and path.is_file()]
    except OSError:
        return []
    return sorted(found, key=lambda path: (_NAME.match(path.name).group(1), path.stat().st_mtime_ns))  # type: ignore[union-attr]


def rotate(folder: Path, keep: int) -> tuple[Path, ...]:
    """Delete all but the newest ``keep`` copies, and partial copies a crash left behind."""
    copies = backups_in(folder)
    removed = copies[:-keep] if len(copies) > keep else []
    with contextlib.suppress(OSError):
        for path in folder.glob(f".{PREFIX}*.partial*"):
            if time.time() - path.stat().st_mtime > _STALE_PARTIAL_SECONDS:
                removed.append(path)
    for path in removed:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return tuple(removed)


def back_up(config: Config, target: Path | None = None, *, label: str = "") -> BackupResult:
    """A checked copy of the database: to ``target`` (a file, or a folder to name it in), else into the
    backup folder, which is then rotated. Blocking: call it through asyncio.to_thread in the bot."""
    if target is None:
        folder = config.backup_folder
        prepare_folder(folder)
        path = _free_name(folder, label)
        snapshot = copy_database(config.database_path, path)
        return BackupResult(path, snapshot, rotate(folder, config.backup.keep))
    if target.is_dir():
        target = _free_name(target, label)
    if not target.parent.is_dir():
        raise BackupFailed("backup-no-folder", path=target.parent)
    return BackupResult(target, copy_database(config.database_path, target))


def upgrade_label(pending: Collection[int]) -> str:
    """Named for the migrations the copy precedes: before-0010, before-0010-0104."""
    versions = sorted(pending)
    if len(versions) == 1:
        return f"before-{versions[0]:04d}"
    return f"before-{versions[0]:04d}-{versions[-1]:04d}"


def backup_before_upgrade(config: Config, database: Path, pending: Collection[int]) -> None:
    """Database's hook: called (in a thread) before migrations change an existing database with data."""
    result = back_up(config, label=upgrade_label(pending))
    log.info("before upgrading the database: copied to %s", result.path)


def database(config: Config) -> Database:
    """The configured database, copied into the backup folder before any migration changes it."""
    return Database(config.database_path, before_upgrade=partial(backup_before_upgrade, config))


# -- restore ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RestoreResult:
    database: Path
    snapshot: Snapshot
    replaced: Path | None
    # migrations the next start applies (the copy is from an older version)
    pending: tuple[int, ...]


def restore(config: Config, source: Path) -> RestoreResult:
    database_path = config.database_path
    known = {m.version for m in discover_migrations()}
    checked = read_snapshot(source)
    newer = sorted(checked.versions - known)
    if newer:
        raise BackupFailed("restore-newer", path=source, versions=", ".join(f"{v:04d}" for v in newer))
    pid_file = pid_path(database_path)
    try:
        database_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(pid_file, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise BackupFailed("backup-cannot-write", path=database_path.parent, problem=exc.strerror or str(exc)) from None
    try:
        try:
            # Held while the file is replaced: a bot starting meanwhile finds it taken.
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.read(fd, 64).decode("ascii", "replace").strip()
            raise BackupFailed("restore-running", database=database_path, pid=text or "?") from None
        try:
            return _replace(database_path, source, known)
        finally:
            with contextlib.suppress(FileNotFoundError):
                pid_file.unlink()  # unlinked while locked, as the bot does
    finally:
        os.close(fd)


def _replace(database_path: Path, source: Path, known: set[int]) -> RestoreResult:
    incoming = database_path.with_name(f".{database_path.name}.restoring")
    with contextlib.suppress(FileNotFoundError):
        incoming.unlink()  # left by a restore that was killed
    snapshot = copy_database(source, incoming, read_only_source=True)
    replaced = None
    try:
        if database_path.exists():
            replaced = database_path.with_name(f"{database_path.name}.replaced-{_stamp()}")
            settle_and_move(database_path, replaced)
        os.rename(incoming, database_path)
    except OSError as exc:
        raise BackupFailed("backup-cannot-write", path=database_path.parent, problem=exc.strerror or str(exc)) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            incoming.unlink()
    return RestoreResult(database_path, snapshot, replaced, tuple(sorted(known - snapshot.versions)))


# -- the running bot's daily copy -------------------------------------------------------------------------

def seconds_until(hour: int, timezone: str, now: datetime | None = None) -> float:
    """Until the next ``hour``:00 in ``timezone`` (a whole day when it is that moment now)."""
    zone = ZoneInfo(timezone)
    here = (now or datetime.now(UTC)).astimezone(zone)
    due = here.replace(hour=hour, minute=0, second=0, microsecond=0)
    if due <= here:
        due = (due + timedelta(days=1)).replace(hour=hour)
    # Through UTC: a day across a clock change is not 24 hours of wall time.
    return max(0.0, (due.astimezone(UTC) - here.astimezone(UTC)).total_seconds())


class BackupJob:
    """One copy a day at ``[backup] hour``; a failed copy is logged and the next day tries again."""

    def __init__(self, config: Config, *, wait: Callable[[], float] | None = None) -> None:
        self.config = config
        self._wait = wait or (lambda: seconds_until(config.backup.hour, config.requests.timezone))
        self.last: BackupResult | None = None
        self.last_error: str | None = None

    async def run_once(self) -> BackupResult | None:
        try:
            result = await asyncio.to_thread(back_up, self.config)
        except BackupFailed as exc:
            self.last_error = str(exc)
            log.error("daily backup failed: %s", exc)
            return None
        except Exception as exc:  # never the bot's end: the copy is a side job
            self.last_error = str(exc)
            log.exception("daily backup failed")
            return None
        self.last, self.last_error = result, None
        log.info("daily backup: %s (%d requests, %d audit events; %d old copies removed)", result.path,
                 result.snapshot.count("requests"), result.snapshot.count("request_audit"), len(result.removed))
        return result

    async def run(self, stop: asyncio.Event) -> None:
        if not self.config.backup.enabled:
            return
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._wait())
                return
            await self.run_once()
