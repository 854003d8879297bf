"""Copies of the database file: taken while the bot runs, checked, and put back.

``copy_database`` uses SQLite's online backup API in one step inside a read transaction of the source: the
copy is the database as committed at one moment (WAL: writers go on meanwhile), and the row counts of every
table are read in that same transaction, so the copy can be checked against them (``PRAGMA
integrity_check``, then the counts). The copy is written to a hidden file created 0600 (it holds personal
data), switched to a single file (journal_mode DELETE, no WAL beside it), checked, and only then given its
name; a failed copy leaves nothing behind.

``settle_and_move`` takes an old database out of the way for a restore: it folds the WAL into the file and
leaves no WAL or SHM (switching out of WAL mode fails while any other connection has the file open, which
is how a process still using it is found), then renames the file with a timestamp.

Errors are ``BackupFailed``: a message id of bot/locales/*/core.ftl and its arguments (one line).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.storage.db import BUSY_TIMEOUT_MS, unusable_problem

_BUSY = 5
_LOCKED = 6
# Errors of a backup step that come from where the copy is written, not from the database read.
_TARGET_CODES = {3, 8, 10, 13, 14}  # PERM, READONLY, IOERR, FULL, CANTOPEN


class BackupFailed(Exception):
    """One line for people: ``message_id`` in the catalogs, with ``args``."""

    def __init__(self, message_id: str, **args: Any) -> None:
        self.message_id = message_id
        self.args_ = {key: str(value) for key, value in args.items()}
        super().__init__(message_id)

    def __str__(self) -> str:
        from bot.i18n import get_translator
        return get_translator()("en", self.message_id, **self.args_)


@dataclass(frozen=True)
class Snapshot:
    """What a database held: every table's row count, and its schema versions."""

    counts: dict[str, int]
    versions: frozenset[int]

    def count(self, table: str) -> int:
        return self.counts.get(table, 0)


def _problem(error: sqlite3.Error, path: Path) -> str:
    return unusable_problem(error, path) or str(error)


@contextlib.contextmanager
def _connect(path: Path, *, read_only: bool) -> Iterator[sqlite3.Connection]:
    """An existing file only: a URI mode that never creates one where a path is mistyped."""
    if not path.exists():
        raise BackupFailed("backup-missing", path=path)
    if path.is_dir():
        raise BackupFailed("backup-is-folder", path=path)
    mode = "ro" if read_only else "rw"
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True, isolation_level=None,
                               timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise BackupFailed("backup-unusable", path=path, problem=_problem(exc, path)) from None
    try:
        yield conn
    finally:
        conn.close()


def _snapshot(conn: sqlite3.Connection, path: Path) -> Snapshot:
    """Read inside the caller's transaction. A file without the table of applied migrations is not a
    privacy-bot database, whatever else it holds."""
    try:
        tables = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        if "schema_migrations" not in tables:
            raise BackupFailed("backup-not-ours", path=path)
        versions = frozenset(int(row[0]) for row in conn.execute("SELECT version FROM schema_migrations"))
        counts = {table: int(conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]) for table in tables}
    except sqlite3.Error as exc:
        raise BackupFailed("backup-unusable", path=path, problem=_problem(exc, path)) from None
    return Snapshot(counts, versions)


def read_snapshot(path: Path) -> Snapshot:
    """Check a copy: sound (integrity_check), a privacy-bot database; what it holds. Read only."""
    with _connect(path, read_only=True) as conn:
        try:
            conn.execute("BEGIN")
            result = [row[0] for row in conn.execute("PRAGMA integrity_check(5)")]
        except sqlite3.Error as exc:
            raise BackupFailed("backup-unusable", path=path, problem=_problem(exc, path)) from None
        if result != ["ok"]:
            raise BackupFailed("backup-damaged", path=path, problem="; ".join(result)[:300])
        snapshot = _snapshot(conn, path)
        conn.execute("COMMIT")
        return snapshot


def _partial(target: Path) -> Path:
    return target.with_name(f".{target.name}.partial")


def copy_database(source: Path, target: Path, *, read_only_source: bool = False) -> Snapshot:
    """Copy ``source`` to ``target`` (which must not exist) at one moment, check the copy and return what
    it holds. ``read_only_source``: never write to the source (a restore reads a backup so)."""
    if target.exists():
        raise BackupFailed("backup-exists", path=target)
    partial = _partial(target)
    with _connect(source, read_only=read_only_source) as src:
        try:
            src.execute("BEGIN")  # the read transaction: the counts and the copy see the same moment
        except sqlite3.Error as exc:
            raise BackupFailed("backup-unusable", path=source, problem=_problem(exc, source)) from None
        expected = _snapshot(src, source)
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise BackupFailed("backup-cannot-write", path=target.parent, problem=exc.strerror or str(exc)) from None
        os.close(fd)
        try:
            try:
                with contextlib.closing(sqlite3.connect(partial, isolation_level=None)) as dst:
                    try:
                        src.backup(dst)
                    except sqlite3.Error as exc:
                        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
                        if code in _TARGET_CODES:
                            raise BackupFailed("backup-cannot-write", path=target.parent,
                                               problem=_problem(exc, partial)) from None
                        raise BackupFailed("backup-unusable", path=source, problem=_problem(exc, source)) from None
                    # One self-contained file: no WAL beside the copy, readable read-only anywhere.
                    dst.execute("PRAGMA journal_mode=DELETE")
            except sqlite3.Error as exc:
                raise BackupFailed("backup-cannot-write", path=target.parent, problem=_problem(exc, partial)) from None
            src.execute("COMMIT")
            copied = read_snapshot(partial)
            if copied.counts != expected.counts or copied.versions != expected.versions:
                raise BackupFailed("backup-counts-differ", path=target)
            if target.exists():
                raise BackupFailed("backup-exists", path=target)
            os.rename(partial, target)
        except BaseException:
            for leftover in (partial, partial.with_name(partial.name + "-journal")):
                with contextlib.suppress(OSError):
                    leftover.unlink()
            raise
    _sync_folder(target.parent)
    return expected


def _sync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def companions(database: Path) -> dict[str, Path]:
    return {suffix: database.with_name(database.name + suffix) for suffix in ("-wal", "-shm", "-journal")}


def _has_header(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            return file.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def settle_and_move(database: Path, replaced: Path) -> None:
    """Rename ``database`` to ``replaced`` leaving no WAL or SHM of it at its path. A sound file gets its
    WAL folded in first; a file SQLite cannot read keeps its journal files under the new name too (they may
    hold what it lacks). Refused while another process has the file open."""
    sound = _has_header(database)
    if sound:  # SQLite would drop the journal files of a file it cannot read: those are only moved
        try:
            with contextlib.closing(sqlite3.connect(f"{database.resolve().as_uri()}?mode=rw", uri=True,
                                                    isolation_level=None, timeout=0)) as conn:
                conn.execute("PRAGMA journal_mode=DELETE").fetchone()
        except sqlite3.Error as exc:
            code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
            if code in (_BUSY, _LOCKED):
                raise BackupFailed("restore-in-use", database=database) from None
            sound = False
    os.rename(database, replaced)
    for suffix, path in companions(database).items():
        if not path.exists():
            continue
        if suffix == "-shm" or sound:  # the SHM is only an index of the WAL, rebuilt from it
            path.unlink()
        else:
            os.rename(path, replaced.with_name(replaced.name + suffix))
