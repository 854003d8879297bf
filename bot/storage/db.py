"""The database: one aiosqlite connection, WAL, foreign keys, versioned migrations, serialised writes.

Migrations are ``migrations/NNNN_name.sql`` files; each is applied once, inside one transaction,
and recorded in ``schema_migrations``. Versions are applied in order; a version missing from the table
is applied even if a higher one already is (areas own number ranges: core 0001-0099, telegram
0100-0199, email 0200-0299). A file with a version none of the migrations has was written by a newer
privacy-bot and is refused (``DatabaseTooNew``); before migrations change a file that holds data, the
``before_upgrade`` hook (bot/backup.py) copies it.

A file that cannot be used (not a database, damaged, read-only, disk full, I/O errors) raises
``DatabaseUnusable`` with one line naming the file and the problem, from whichever statement meets it;
the first one is kept in ``Database.failure`` so the running bot can stop instead of failing every update.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import resource
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The first line of a migration that rebuilds a table: applied with foreign keys off, then checked.
REBUILDS_TABLES = "-- rebuilds tables"
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def discover_migrations(directory: Path | None = None) -> list[Migration]:
    """The migrations in ``directory``; by default the core's and every installed channel's (bot/channels.py)."""
    if directory is None:
        from bot.channels import installed
        directories = [MIGRATIONS_DIR, *(channel.migrations for channel in installed())]
    else:
        directories = [directory]
    migrations = []
    for folder in directories:
        for path in sorted(folder.glob("*.sql")):
            match = _MIGRATION_NAME.match(path.name)
            if not match:
                raise RuntimeError(f"{path}: migration files are named NNNN_name.sql")
            migrations.append(Migration(int(match.group(1)), match.group(2), path.read_text(encoding="utf-8")))
    versions = [m.version for m in migrations]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"{', '.join(map(str, directories))}: two migrations share a version number")
    return sorted(migrations, key=lambda m: m.version)


BUSY_TIMEOUT_MS = 10_000

# Primary SQLite result codes (the low byte of an extended code) that mean the file itself is unusable,
# and the two of a lock held by someone else (passing, so never fatal to a running bot).
_SQLITE_PERM = 3
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_IOERR = 10
_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14
_SQLITE_NOTADB = 26
_SQLITE_READONLY_DBMOVED = _SQLITE_READONLY | (4 << 8)
# An I/O error with less free space than this, or a file this close to the process's file size limit,
# is a full disk: SQLite reports a failed write past RLIMIT_FSIZE (EFBIG) as a plain I/O error.
_LOW_SPACE_BYTES = 1 << 20
_FILE_LIMIT_SLACK = 1 << 16


FORGOTTEN_PREFIX = "<sha256-"


def forgotten(value: str | None) -> str | None:
    if value is None or value.startswith(FORGOTTEN_PREFIX):
        return value
    return f"{FORGOTTEN_PREFIX}{hashlib.sha256(value.encode('utf-8', 'surrogatepass')).hexdigest()[:32]}@forgotten>"


class DatabaseUnusable(RuntimeError):
    """The database file cannot be used: one line, naming the file and the problem in plain words.

    A RuntimeError, as a failed migration always was, so callers that caught that still do.
    """

    def __init__(self, path: Path, problem: str, *, message_id: str | None = None, **args: str) -> None:
        super().__init__(f"database {path}: {problem}")
        self.path = path
        self.problem = problem
        # When set, the command line says it in the run's language (bot/locales/*/core.ftl, with ``database``).
        self.message_id = message_id
        self.message_args = args
        # the error behind it, when it has words of its own (a failed backup)
        self.detail: Exception | None = None


class DatabaseTooNew(DatabaseUnusable):
    """Written by a newer privacy-bot: it has schema versions this code does not know, and this code
    could misread or damage what they hold."""

    def __init__(self, path: Path, versions: list[int]) -> None:
        shown = ", ".join(f"{v:04d}" for v in versions)
        super().__init__(path, f"written by a newer version of privacy-bot (schema {shown} unknown to this "
                               "one): run that version, or restore a backup taken before the upgrade",
                         message_id="db-newer-version", versions=shown)
        self.versions = versions


def unusable_problem(error: sqlite3.Error, path: Path) -> str | None:
    """What ``error`` says about the file in plain words, or None for an ordinary error (a constraint,
    a busy lock, a bug in a statement) that leaves the file usable."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return None
    primary = code & 0xFF
    if primary == _SQLITE_NOTADB:
        return "file is not a database"
    if primary == _SQLITE_CORRUPT:
        return "file is damaged (database disk image is malformed)"
    if primary == _SQLITE_FULL:
        return "disk is full"
    if code == _SQLITE_READONLY_DBMOVED:
        return "the file was moved or deleted while in use"
    if primary == _SQLITE_READONLY:
        return "read-only (no permission to write the file or its folder)"
    if primary == _SQLITE_IOERR:
        return _io_problem(path)
    if primary == _SQLITE_CANTOPEN:
        return _open_problem(path)
    if primary == _SQLITE_PERM:
        return "permission denied"
    return None


def _passing_problem(error: sqlite3.Error) -> str:
    if getattr(error, "sqlite_errorcode", 0) & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return f"locked by another process for more than {BUSY_TIMEOUT_MS // 1000} s"
    return str(error)


def _companions(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"),
            path.with_name(path.name + "-journal")]


def _io_problem(path: Path) -> str:
    with contextlib.suppress(OSError):
        stat = os.statvfs(path.parent)
        if stat.f_bavail * stat.f_frsize < _LOW_SPACE_BYTES:
            return "disk is full"
    limit, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    if limit != resource.RLIM_INFINITY and max(map(_size, _companions(path))) + _FILE_LIMIT_SLACK >= limit:
        return f"disk is full for this process (file size limit of {limit} bytes, ulimit -f)"
    return "disk I/O error"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # a journal file that is not there (any more)
        return -_FILE_LIMIT_SLACK


def _open_problem(path: Path) -> str:
    if path.is_dir():
        return "is a folder, not a file"
    if not path.exists():
        if not os.access(path.parent, os.W_OK):
            return "read-only folder: cannot create the file"
        return "cannot create the file"
    if not os.access(path, os.R_OK):
        return "permission denied"
    if not os.access(path.parent, os.W_OK):
        return "read-only folder: cannot create the journal files beside it"
    return "cannot open the file"


T = TypeVar("T")


def _whole_transaction(fn: Callable[[sqlite3.Connection], T], connection: sqlite3.Connection) -> T:
    connection.execute("BEGIN IMMEDIATE")
    try:
        result = fn(connection)
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            # SQLite may have rolled back already (a full disk); the first error is the one that matters.
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
        raise
    return result


class _Connection(aiosqlite.Connection):
    """Every statement, on the connection or a cursor, goes through ``_execute``: an error that means the
    file is unusable becomes DatabaseUnusable there, once for all callers."""

    def __init__(self, connector: Callable[[], sqlite3.Connection],
                 on_error: Callable[[sqlite3.Error], DatabaseUnusable | None]) -> None:
        super().__init__(connector, 64)
        self._on_error = on_error

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return await super()._execute(fn, *args, **kwargs)
        except sqlite3.Error as exc:
            unusable = self._on_error(exc)
            if unusable is None:
                raise
            raise unusable from exc

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``fn(connection)`` on the database thread: several statements in one trip there."""
        result: T = await self._execute(fn, self._conn)
        return result

    async def stopped(self, within: float = 5.0) -> None:
        """Returns once the worker thread has ended. After a failed connect aiosqlite queues the thread's
        stop without waiting for it, and the event loop must outlive the thread, whose last act is a
        callback into the loop."""
        await asyncio.to_thread(self._thread.join, within)


class Database:
    """Owns the connection. Reads may run any time; writes go through ``transaction()``.

    aiosqlite runs every statement on one thread, but coroutines could interleave statements of two
    transactions on the shared connection; the lock keeps each write transaction whole.
    """

    def __init__(self, path: Path, *, before_upgrade: Callable[[Path, list[int]], None] | None = None) -> None:
        self.path = path
        # Called in a thread with the pending versions before migrations change a file that holds data
        # (bot/backup.py copies it); what it raises stops the upgrade.
        self._before_upgrade = before_upgrade
        self._conn: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        # The first DatabaseUnusable met by any statement; the running bot stops on it.
        self.failure: DatabaseUnusable | None = None
        self._failed = asyncio.Event()

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    def _unusable(self, error: sqlite3.Error) -> DatabaseUnusable | None:
        problem = unusable_problem(error, self.path)
        if problem is None:
            return None
        unusable = DatabaseUnusable(self.path, problem)
        if self.failure is None:
            self.failure = unusable
            self._failed.set()
        return unusable

    async def wait_unusable(self) -> DatabaseUnusable:
        """Returns the first DatabaseUnusable once a statement has met one."""
        await self._failed.wait()
        assert self.failure is not None
        return self.failure

    async def open(self, migrations: list[Migration] | None = None) -> Database:
        """Connect, set the pragmas and apply the migrations; on any failure the connection is closed
        again (its worker thread would otherwise keep the process from ever exiting)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnusable(self.path, f"cannot create its folder ({exc.strerror or exc})") from None
        location = str(self.path)
        connection = _Connection(lambda: sqlite3.connect(location, isolation_level=None), self._unusable)
        try:
            # Awaiting starts the worker thread; aiosqlite stops it again when connecting fails.
            self._conn = await connection
        except BaseException as exc:
            await connection.stopped()
            if isinstance(exc, sqlite3.Error):
                raise self._unusable(exc) or DatabaseUnusable(self.path, _passing_problem(exc)) from exc
            raise
        try:
            self._conn.row_factory = aiosqlite.Row
            # forgotten(text): what retention leaves of an identifier that may name a person (a Message-ID
            # like <1234.ivan.petrov@ivan-laptop>): a digest that still tells equal ones apart.
            await self._conn.create_function("forgotten", 1, forgotten, deterministic=True)
            await self._conn.execute("PRAGMA journal_mode=WAL")
            await self._conn.execute("PRAGMA foreign_keys=ON")
            await self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            await self._conn.execute("PRAGMA synchronous=NORMAL")
            # What retention or /forget deletes is overwritten in the file, not left in free pages.
            await self._conn.execute("PRAGMA secure_delete=ON")
            await self.apply_migrations(discover_migrations() if migrations is None else migrations)
            await self._check_writable()
        except BaseException as exc:
            await self.close()
            if isinstance(exc, sqlite3.Error):
                # Not opened is not opened: even an error that is passing (a lock held longer than the
                # busy timeout) ends here in one line rather than a traceback.
                raise DatabaseUnusable(self.path, _passing_problem(exc)) from exc
            raise
        return self

    async def _check_writable(self) -> None:
        """A write that changes nothing, rolled back. The bot writes on every path (even a listing is
        audited or exported), and a file it may only read would otherwise pass BEGIN IMMEDIATE and fail
        at the first real write, half-way through some piece of work. Without waiting for the lock: a
        file another process is writing right now is writable, and a listing must not queue behind it."""
        await self.conn.execute("PRAGMA busy_timeout=0")
        try:
            try:
                await self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if getattr(exc, "sqlite_errorcode", 0) & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED):
                    return
                raise
            try:
                await self.conn.execute("DELETE FROM schema_migrations WHERE 0")
            finally:
                await self._rollback()
        finally:
            await self.conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")

    async def checkpoint(self) -> bool:
        """Write the WAL back into the database file and empty it, so deleted data lingers in neither.
        Best effort: a statement still reading on this connection, or another process's reader, makes it
        wait for the next time (False)."""
        async with self._write_lock:
            try:
                async with self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cursor:
                    row = await cursor.fetchone()
            except sqlite3.OperationalError as exc:
                if getattr(exc, "sqlite_errorcode", 0) & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED):
                    return False
                raise
        return row is not None and row[0] == 0

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await conn.close()
        except Exception as exc:  # aiosqlite stops its thread even so; the error that brought us here matters
            log.debug("closing the database failed: %s", exc)
        if isinstance(conn, _Connection):
            await conn.stopped()

    async def __aenter__(self) -> Database:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def applied_versions(self) -> set[int]:
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        async with self.conn.execute("SELECT version FROM schema_migrations") as cursor:
            return {row[0] for row in await cursor.fetchall()}

    async def apply_migrations(self, migrations: list[Migration]) -> list[int]:
        applied = await self.applied_versions()
        unknown = sorted(applied - {m.version for m in migrations})
        if unknown:
            raise DatabaseTooNew(self.path, unknown)
        pending = [m.version for m in migrations if m.version not in applied]
        if pending and applied and self._before_upgrade is not None and await self._holds_data():
            await self._back_up_before(pending)
        done = []
        for migration in sorted(migrations, key=lambda m: m.version):
            if migration.version in applied:
                continue
            # A migration that rebuilds a table (SQLite's way to drop a constraint) runs with foreign keys
            # off, as SQLite prescribes, and commits only if every reference still holds afterwards.
            rebuilds = REBUILDS_TABLES in migration.sql
            try:
                if rebuilds:
                    await self.conn.execute("PRAGMA foreign_keys=OFF")
                # executescript commits first, so the BEGIN inside makes the migration one transaction.
                await self.conn.executescript(
                    "BEGIN IMMEDIATE;\n"
                    f"{migration.sql}\n;\n"
                    "INSERT INTO schema_migrations(version, name, applied_at) "
                    f"VALUES ({migration.version}, '{migration.name}', strftime('%Y-%m-%dT%H:%M:%fZ','now'));\n"
                )
                if rebuilds:
                    async with self.conn.execute("PRAGMA foreign_key_check") as cursor:
                        broken = await cursor.fetchone()
                    if broken is not None:
                        raise RuntimeError(f"a reference from {broken[0]} to {broken[2]} no longer holds")
                await self.conn.execute("COMMIT")
            except DatabaseUnusable:
                await self._rollback()
                raise
            except Exception as exc:
                await self._rollback()
                raise DatabaseUnusable(
                    self.path, f"migration {migration.version:04d}_{migration.name} failed: {exc}") from exc
            finally:
                if rebuilds:
                    await self.conn.execute("PRAGMA foreign_keys=ON")
            done.append(migration.version)
        return done

    async def _holds_data(self) -> bool:
        async with self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                     "AND name NOT LIKE 'sqlite_%' AND name != 'schema_migrations'") as cursor:
            tables = [row[0] for row in await cursor.fetchall()]
        for table in tables:
            async with self.conn.execute(f'SELECT 1 FROM "{table}" LIMIT 1') as cursor:
                if await cursor.fetchone() is not None:
                    return True
        return False

    async def _back_up_before(self, pending: list[int]) -> None:
        assert self._before_upgrade is not None
        try:
            await asyncio.to_thread(self._before_upgrade, self.path, pending)
        except Exception as exc:
            unusable = DatabaseUnusable(self.path, f"not upgraded: the copy before the upgrade failed ({exc})",
                                        message_id="db-upgrade-backup-failed", reason=str(exc))
            unusable.detail = exc
            raise unusable from None

    async def _rollback(self) -> None:
        """Roll back what is open, if anything: SQLite has already rolled back after some errors (a full
        disk, an I/O error), and a second error here must not hide the first."""
        if self._conn is not None and self._conn.in_transaction:
            with contextlib.suppress(DatabaseUnusable):
                await self._conn.execute("ROLLBACK")

    async def transact(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """A whole write transaction in one trip to the database thread: BEGIN IMMEDIATE, ``fn(connection)``
        (plain sqlite3), COMMIT, or ROLLBACK when ``fn`` raises; under the same lock as ``transaction()``.

        For short, hot writes whose statements need nothing awaited in between (the outbox's claims and
        "sent" marks, the mailbox bookkeeping): every trip wakes the database thread (0.2-0.3 ms each on
        the 2-core development machine), and ``transaction()`` makes at least three. Once started the thread
        finishes it, even if the caller is cancelled meanwhile.
        """
        async with self._write_lock:
            if self.failure is not None:
                raise DatabaseUnusable(self.path, self.failure.problem)
            conn = self.conn
            assert isinstance(conn, _Connection)
            return await conn.run(partial(_whole_transaction, fn))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction (BEGIN IMMEDIATE); rolled back on any exception.

        Once the file has failed nothing more is written, so work cut short by the failure is left whole
        for after a restart instead of half-recorded by a later transaction that happened to fit.
        """
        async with self._write_lock:
            if self.failure is not None:
                raise DatabaseUnusable(self.path, self.failure.problem)
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self._rollback()
                raise
            try:
                await self.conn.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise
