"""Two staff deciding the same request at once: one wins, the other is told who decided."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from bot.config import REPO_ROOT, Config
from bot.requests.errors import AlreadyDecided
from bot.requests.models import RequestStatus
from bot.requests.service import RequestService
from bot.storage.db import Database


async def test_two_connections_on_one_file(config: Config, service: RequestService,
                                           create: Callable[..., Any]) -> None:
    ids = [(await create()).request.id for _ in range(5)]
    first = await Database(config.database_path).open()
    second = await Database(config.database_path).open()
    try:
        anna, boris = RequestService(first, config), RequestService(second, config)
        for rid in ids:
            outcomes = await asyncio.gather(anna.approve(rid, "staff:anna"),
                                            boris.reject(rid, "staff:boris", "not the owner"),
                                            return_exceptions=True)
            winners = [o for o in outcomes if not isinstance(o, BaseException)]
            losers = [o for o in outcomes if isinstance(o, BaseException)]
            assert len(winners) == 1 and len(losers) == 1, outcomes
            loser = losers[0]
            assert isinstance(loser, AlreadyDecided)
            winner = winners[0]
            assert loser.status == winner.status.value
            assert loser.decided_by == winner.decided_by
            assert loser.decided_by in str(loser)
            final = await service.get(rid)
            assert final.status is winner.status
            changes = [e for e in await service.audit_events(rid) if e.event == "status_changed"]
            assert len(changes) == 1  # the loser left no trace
    finally:
        await first.close()
        await second.close()


async def test_many_coroutines_one_connection(service: RequestService, create: Callable[..., Any]) -> None:
    rid = (await create()).request.id
    staff = [f"staff:s{i}" for i in range(8)]
    outcomes = await asyncio.gather(*(service.approve(rid, who) for who in staff), return_exceptions=True)
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 1
    assert all(isinstance(o, AlreadyDecided) for o in outcomes if isinstance(o, BaseException))
    assert (await service.get(rid)).status is RequestStatus.APPROVED


@pytest.mark.slow
async def test_two_staff_command_lines_at_once(config: Config, service: RequestService,
                                               create: Callable[..., Any]) -> None:
    rid = (await create()).request.id
    env = {**os.environ, "PRIVACY_BOT__STORAGE__DATABASE": str(config.database_path)}
    base = [sys.executable, "-m", "bot", "requests"]

    async def cli(*args: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(*base, *args, env=env, cwd=REPO_ROOT,
                                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        return proc.returncode or 0, out.decode(), err.decode()

    results = await asyncio.gather(cli("approve", rid, "--by", "anna"),
                                   cli("reject", rid, "--by", "boris", "--reason", "not the owner"))
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1], results
    final = await service.get(rid)
    winner = "staff:anna" if final.status is RequestStatus.APPROVED else "staff:boris"
    assert final.decided_by == winner
    loser_err = next(err for code, _, err in results if code == 1)
    assert len(loser_err.strip().splitlines()) == 1
    assert winner in loser_err and "уже принято решение" in loser_err
