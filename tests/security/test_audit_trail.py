"""The audit trail the running bot writes is append-only for real: no UPDATE, DELETE, REPLACE, upsert or
back-dated insert changes what is there; and it names no requester. (Issue #10, class 12.)"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.security.live import STAFF, live_bot, phone_request, staff_card
from tests.servers.dovecot import DovecotServer

pytestmark = pytest.mark.slow

PERSON = 5551234


async def test_the_trail_cannot_be_rewritten(tmp_path: Path, dovecot: DovecotServer) -> None:
    async with live_bot(tmp_path, dovecot) as bot:
        rid, _ = await phone_request(bot, PERSON, "+7 900 321-54-76")
        card = await staff_card(bot, rid, "Телефон проверен")
        mark = bot.api.mark()
        bot.press(STAFF, card, "Телефон проверен")
        await staff_card(bot, rid, "Одобрить", after=mark)
        bot.api.press(PERSON, card, f"st:approve:{rid}")  # not staff: refused, and in the trail
        await bot.wait_db("SELECT COUNT(*) FROM request_audit WHERE event = 'not_staff_press'",
                          lambda rows: rows[0][0] == 1)

    with sqlite3.connect(bot.database) as conn:
        trail = conn.execute("SELECT * FROM request_audit ORDER BY id").fetchall()
        assert len(trail) >= 4
        first, last = trail[0][0], trail[-1][0]
        attempts = {
            "UPDATE": "UPDATE request_audit SET actor = 'staff:nobody'",
            "DELETE": "DELETE FROM request_audit",
            "REPLACE INTO": f"REPLACE INTO request_audit(id, request_id, at, event, actor, details) "
                            f"VALUES ({first}, '{rid}', '2026-01-01', 'created', 'system', '{{}}')",
            "INSERT OR REPLACE of the last row": f"INSERT OR REPLACE INTO request_audit(id, request_id, at, event, "
                                                f"actor, details) VALUES ({last}, '{rid}', 'x', 'x', 'x', '{{}}')",
            "upsert": f"INSERT INTO request_audit(id, request_id, at, event, actor, details) VALUES ({first}, "
                      f"'{rid}', 'x', 'x', 'x', '{{}}') ON CONFLICT(id) DO UPDATE SET actor = 'x'",
            "back-dated insert into a gap": f"INSERT INTO request_audit(id, request_id, at, event, actor, details) "
                                            f"VALUES (-5, '{rid}', '2020-01-01', 'created', 'system', '{{}}')",
            "UPDATE OR REPLACE": f"UPDATE OR REPLACE request_audit SET id = {last + 100} WHERE id = {first}",
        }
        for what, sql in attempts.items():
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                conn.execute(sql)
            conn.rollback()
            assert conn.execute("SELECT * FROM request_audit ORDER BY id").fetchall() == trail, what
        # Appending stays possible, after everything else.
        conn.execute("INSERT INTO request_audit(request_id, at, event, actor, details) "
                     f"VALUES ('{rid}', '2026-12-06', 'exported', 'staff:test', '{{}}')")
        # The trail names roles and staff, never the requester (it is kept for good).
        assert str(PERSON) not in str(trail) and "900" not in str(trail).replace(rid, "")
