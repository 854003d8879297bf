"""The database: one aiosqlite connection, WAL, foreign keys, versioned migrations, serialised writes.

Migrations are ``migrations/NNNN_name.sql`` files; each is applied once, inside one transaction,
and recorded in ``schema_migrations``. Versions are applied in order; a version missing from the table
is applied even if a higher one already is (areas own number ranges: core 0001-0099, telegram
0100-0199, email 0200-0299).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def discover_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise RuntimeError(f"{path}: migration files are named NNNN_name.sql")
        migrations.append(Migration(int(match.group(1)), match.group(2), path.read_text(encoding="utf-8")))
    versions = [m.version for m in migrations]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"{directory}: two migrations share a version number")
    return migrations


class Database:
    """Owns the connection. Reads may run any time; writes go through ``transaction()``.

    aiosqlite runs every statement on one thread, but coroutines could interleave statements of two
    transactions on the shared connection; the lock keeps each write transaction whole.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    async def open(self, migrations: list[Migration] | None = None) -> Database:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = await aiosqlite.connect(self.path, isolation_level=None)
        self._conn.row_factory = aiosqlite.Row
        await self._conn.execute("PRAGMA journal_mode=WAL")
        await self._conn.execute("PRAGMA foreign_keys=ON")
        await self._conn.execute("PRAGMA busy_timeout=10000")
        await self._conn.execute("PRAGMA synchronous=NORMAL")
        # What retention or /forget deletes is overwritten in the file, not left in free pages.
        await self._conn.execute("PRAGMA secure_delete=ON")
        await self.apply_migrations(discover_migrations() if migrations is None else migrations)
        return self

    async def checkpoint(self) -> None:
        """Write the WAL back into the database file and empty it, so deleted data lingers in neither."""
        await self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

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
        done = []
        for migration in sorted(migrations, key=lambda m: m.version):
            if migration.version in applied:
                continue
            # executescript commits first, so the BEGIN/COMMIT inside makes the migration atomic.
            try:
                await self.conn.executescript(
                    "BEGIN IMMEDIATE;\n"
                    f"{migration.sql}\n;\n"
                    "INSERT INTO schema_migrations(version, name, applied_at) "
                    f"VALUES ({migration.version}, '{migration.name}', strftime('%Y-%m-%dT%H:%M:%fZ','now'));\n"
                    "COMMIT;"
                )
            except Exception as exc:
                if self.conn.in_transaction:
                    await self.conn.execute("ROLLBACK")
                raise RuntimeError(f"migration {migration.version:04d}_{migration.name} failed: {exc}") from exc
            done.append(migration.version)
        return done

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction (BEGIN IMMEDIATE); rolled back on any exception."""
        async with self._write_lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            else:
                await self.conn.execute("COMMIT")
