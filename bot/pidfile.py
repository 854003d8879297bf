"""How ``privacy-bot policy reload`` finds the running bot: a pid file in the bot's data folder.

The running bot writes its pid to ``privacy-bot.pid`` beside its database and holds an exclusive
``flock`` on the file for as long as it runs; it removes the file when it stops. The lock, not the file,
says whether a bot runs: the kernel drops it when the process ends however it ends (SIGKILL, a crash),
so a file left behind is recognised as stale and a reused pid is never signalled.

The outcome of each reload the bot attempts is written beside it, ``privacy-bot.reload.json`` (replaced
atomically), for the command that asked for it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PID_FILE = "privacy-bot.pid"
RELOAD_STATUS_FILE = "privacy-bot.reload.json"


def pid_path(database: Path) -> Path:
    return database.parent / PID_FILE


def status_path(database: Path) -> Path:
    return database.parent / RELOAD_STATUS_FILE


class PidFile:
    """Held by the running bot: ``acquire()`` at start, ``release()`` on the way out."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        """Write our pid and lock the file; False (and nothing written) when another live bot holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        previous = os.read(fd, 64).decode("ascii", "replace").strip()
        if previous and previous != str(os.getpid()):
            log.info("a stale pid file (process %s, not running) was replaced: %s", previous, self.path)
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        os.fsync(fd)
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # unlinked while still locked: no other bot can have taken it meanwhile
        os.close(self._fd)
        self._fd = None


@dataclass(frozen=True)
class BotLookup:
    """``pid`` when a bot runs; otherwise ``stale_pid`` is the pid a file left behind still names."""

    path: Path
    pid: int | None = None
    stale_pid: int | None = None


def find_running_bot(path: Path) -> BotLookup:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return BotLookup(path)
    try:
        text = os.read(fd, 64).decode("ascii", "replace").strip()
        written = int(text) if text.isdigit() else None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            if written is None:  # just created, pid not written yet: read it again
                os.lseek(fd, 0, os.SEEK_SET)
                text = os.read(fd, 64).decode("ascii", "replace").strip()
                written = int(text) if text.isdigit() else None
            return BotLookup(path, pid=written)
        return BotLookup(path, stale_pid=written)
    finally:
        os.close(fd)


def write_status(path: Path, status: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(status, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def read_status(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
