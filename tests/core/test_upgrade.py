"""A database written by an earlier release opens with today's code: its data kept, its schema the same as a
new database's. ``tests/data/db/main-2026-12-06.sqlite`` was written by main at cdcab01 (before the
channels declared their own tables): three requests, a handoff and a verification code."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.config import load_config
from bot.requests.models import Channel, Requester, RequestType
from bot.requests.service import RequestService
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
        async with upgraded.conn.execute("SELECT id, status FROM requests ORDER BY id") as cur:
            rows = [tuple(r) for r in await cur.fetchall()]
        assert rows == [("PR-2026-0001", "pending_review"), ("PR-2026-0002", "awaiting_verification"),
                        ("PR-2026-0003", "awaiting_verification")]
        # The per-channel columns became identity rows, each proven as the core had taken it.
        async with upgraded.conn.execute("SELECT request_id, kind, address, shown, route, name, verified_by "
                                         "FROM request_identities ORDER BY request_id, kind") as cur:
            identities = [tuple(r) for r in await cur.fetchall()]
        assert identities == [
            ("PR-2026-0001", "email", "anna@example.ru", None, "anna@example.ru", None, "email_code"),
            ("PR-2026-0001", "telegram", "7001", None, "7001", "Анна", "channel"),
            ("PR-2026-0002", "email", "bob@example.com", None, "bob@example.com", None, None),
            ("PR-2026-0003", "phone", "79000000009", "+7 900 000-00-09", None, None, None),
            ("PR-2026-0003", "telegram", "7002", None, "7002", None, "channel"),
        ]
        service = RequestService(upgraded, load_config())
        anna = await service.get("PR-2026-0001")
        assert anna.requester == Requester(telegram_user_id=7001, telegram_chat_id=7001, telegram_name="Анна",
                                           email="anna@example.ru")
        assert [r.id for r in await service.for_telegram_user(7001)] == ["PR-2026-0001"]
        assert [r.id for r in await service.for_email("BOB@example.com")] == ["PR-2026-0002"]
        # A later request by the same proven Telegram account is the same request.
        again = await service.create(type=RequestType.DELETION, channel=Channel.TELEGRAM, lang="ru",
                                     requester=Requester(telegram_user_id=7001, telegram_chat_id=7001),
                                     actor="requester")
        assert again.duplicate_of == "PR-2026-0001"
        async with upgraded.conn.execute("SELECT sender FROM handoffs") as cur:
            assert [r[0] for r in await cur.fetchall()] == ["carol@example.com"]
        async with upgraded.conn.execute("SELECT subject, email FROM verification_codes") as cur:
            assert [tuple(r) for r in await cur.fetchall()] == [("tg:7001", "anna@example.ru")]
        async with upgraded.conn.execute("SELECT COUNT(*) FROM request_audit") as cur:
            assert (await cur.fetchone())[0] >= 4
    finally:
        await upgraded.close()
        await fresh.close()
