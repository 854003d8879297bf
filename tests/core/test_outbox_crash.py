"""Kill the worker process between send and mark, restart it, count what the recipients got."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.config import REPO_ROOT, Config
from bot.requests.service import RequestService
from bot.storage.db import Database
from tests.core.conftest import outbox_rows
from tests.core.outbox_crash_worker import CRASH_EXIT

SCRIPT = Path(__file__).with_name("outbox_crash_worker.py")


def _worker(config: Config, record: Path, mode: str, can_check: bool) -> int:
    done = subprocess.run([sys.executable, str(SCRIPT), str(config.database_path), str(record), mode,
                           "1" if can_check else "0"], cwd=REPO_ROOT, timeout=60, capture_output=True, text=True,
                          env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode in (0, CRASH_EXIT), done.stderr
    return done.returncode


def _deliveries(record: Path) -> Counter[str]:
    return Counter(json.loads(line)["key"] for line in record.read_text(encoding="utf-8").splitlines())


@pytest.mark.slow
@pytest.mark.parametrize("can_check", [True, False], ids=["was_sent-check", "no-check"])
async def test_crash_between_send_and_mark(tmp_path: Path, config: Config, db: Database, service: RequestService,
                                           create: Callable[..., Any], can_check: bool) -> None:
    for _ in range(3):
        await create()
    assert len(await outbox_rows(db)) == 6  # 3 to requesters, 3 to staff
    record = tmp_path / "delivered.jsonl"

    assert _worker(config, record, "crash", can_check) == CRASH_EXIT
    after_crash = _deliveries(record)
    assert sum(after_crash.values()) == 1  # it died right after the first delivery
    crashed_key = next(iter(after_crash))
    rows = await outbox_rows(db)
    assert [r["status"] for r in rows].count("sent") == 0  # ...and before marking it

    assert _worker(config, record, "normal", can_check) == 0
    delivered = _deliveries(record)
    rows = await outbox_rows(db)
    assert all(r["status"] == "sent" for r in rows)
    assert set(delivered) == {r["key"] for r in rows}  # every message reached its recipient
    if can_check:
        assert max(delivered.values()) == 1, "a duplicate despite was_sent()"
        request_id = next(r["request_id"] for r in rows if r["key"] == crashed_key)
        confirmed = [e for e in await service.audit_events(request_id) if e.details.get("confirmed_after_restart")]
        assert len(confirmed) == 1
    else:
        # at-least-once where the channel cannot check (documented in ARCHITECTURE.md)
        assert delivered[crashed_key] == 2
        assert sum(delivered.values()) == 7
