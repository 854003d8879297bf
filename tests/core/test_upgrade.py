"""A database written by an earlier release opens with today's code: its data kept, its schema the same as a
new database's. ``tests/data/db/main-2026-12-06.sqlite`` was written by main at cdcab01 (before the
channels declared their own tables): three requests, a handoff and a verification code."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.storage.db import Database
from tests.conftest import REPO_ROOT

WRITTEN_BY_EARLIER_MAIN = REPO_ROOT / "tests" / "data" / "db" / "main-2026-12-06.sqlite"


async def _schema(db: Database) -> dict[str, str]:
    async with db.conn.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                               "AND name NOT LIKE 'sqlite_%' ORDER BY name") as cursor:
        return {str(name): " ".join(str(sql).split()) for name, sql in await cursor.fetchall()}


async def test_an_earlier_database_is_upgraded_with_its_data(tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite"
    shutil.copy(WRITTEN_BY_EARLIER_MAIN, old)
    fresh = await Database(tmp_path / "new.sqlite").open()
    upgraded = await Database(old).open()
    try:
        assert await _schema(upgraded) == await _schema(fresh)
        async with upgraded.conn.execute("SELECT id, status, tg_user_id, email FROM requests ORDER BY id") as cur:
            rows = [tuple(r) for r in await cur.fetchall()]
        assert rows == [("PR-2026-0001", "pending_review", 7001, "anna@example.ru"),
                        ("PR-2026-0002", "awaiting_verification", None, "bob@example.com"),
                        ("PR-2026-0003", "awaiting_verification", 7002, None)]
        async with upgraded.conn.execute("SELECT sender FROM handoffs") as cur:
            assert [r[0] for r in await cur.fetchall()] == ["carol@example.com"]
        async with upgraded.conn.execute("SELECT subject, email FROM verification_codes") as cur:
            assert [tuple(r) for r in await cur.fetchall()] == [("tg:7001", "anna@example.ru")]
        async with upgraded.conn.execute("SELECT COUNT(*) FROM request_audit") as cur:
            assert (await cur.fetchone())[0] >= 4
    finally:
        await upgraded.close()
        await fresh.close()
