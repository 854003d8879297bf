"""The database file: WAL, foreign keys, migrations applied once each and atomically."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.storage.db import Database, Migration, discover_migrations


async def test_real_migrations_apply_to_a_fresh_file_and_are_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "bot.sqlite3"
    db = await Database(path).open()
    try:
        async with db.conn.execute("PRAGMA journal_mode") as cursor:
            assert (await cursor.fetchone())[0] == "wal"
        async with db.conn.execute("PRAGMA foreign_keys") as cursor:
            assert (await cursor.fetchone())[0] == 1
        applied = await db.applied_versions()
        assert applied == {m.version for m in discover_migrations()}
    finally:
        await db.close()
    again = await Database(path).open()
    try:
        assert await again.apply_migrations(discover_migrations()) == []
    finally:
        await again.close()


async def test_missing_lower_version_is_applied_later(tmp_path: Path) -> None:
    one = Migration(1, "one", "CREATE TABLE a (x INTEGER);")
    two = Migration(200, "two", "CREATE TABLE b (y INTEGER);")
    db = await Database(tmp_path / "t.sqlite3").open(migrations=[two])
    try:
        assert await db.apply_migrations([one, two]) == [1]
        assert await db.applied_versions() == {1, 200}
    finally:
        await db.close()


async def test_failed_migration_changes_nothing(tmp_path: Path) -> None:
    bad = Migration(5, "bad", "CREATE TABLE c (z INTEGER); INSERT INTO nowhere VALUES (1);")
    db = Database(tmp_path / "t.sqlite3")
    with pytest.raises(RuntimeError, match="migration 0005_bad failed"):
        await db.open(migrations=[bad])
    with pytest.raises(RuntimeError, match="not open"):  # a failed open leaves no connection behind
        db.conn  # noqa: B018
    again = await Database(tmp_path / "t.sqlite3").open(migrations=[])
    try:
        async with again.conn.execute("SELECT name FROM sqlite_master WHERE name = 'c'") as cursor:
            assert await cursor.fetchone() is None
        assert 5 not in await again.applied_versions()
    finally:
        await again.close()


async def test_transactions_do_not_interleave(tmp_path: Path) -> None:
    db = await Database(tmp_path / "t.sqlite3").open(migrations=[Migration(1, "t", "CREATE TABLE n (v INTEGER);")])
    try:
        async def add(value: int) -> None:
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO n VALUES (?)", (value,))
                await asyncio.sleep(0)
                if value % 2:
                    raise ValueError("roll back odd values")

        results = await asyncio.gather(*(add(i) for i in range(20)), return_exceptions=True)
        assert sum(isinstance(r, ValueError) for r in results) == 10
        async with db.conn.execute("SELECT v FROM n ORDER BY v") as cursor:
            assert [row[0] for row in await cursor.fetchall()] == list(range(0, 20, 2))
    finally:
        await db.close()
