"""Memory per person is bounded: thousands of distinct people leave no trace in the process's memory.

The end-to-end test measures the real ``privacy-bot run`` process (VmRSS from /proc) while thousands of
distinct Telegram users write to it through the loopback Bot API server.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.servers.botapi import BotApiServer, Call
from tests.servers.botprocess import running
from tests.servers.smtp import SmtpServer

FIRST_USER = 30_000_000
# More than any per-person cache holds (1,024), so every cache is full before measuring; the process
# settles after about 3,000 people (SQLite's page cache and the allocator's arenas fill up, we think:
# the traced Python heap is flat, see test_memory_bounds_fast.py), measured as flat from there to 12,000.
WARM_UP_USERS = 4_000
MEASURED_USERS = 4_500
# Before the caches were bounded this test measured 1,126 bytes per distinct person (1,176 and 1,183 with
# 1,500 + 6,000 people); after, 25 to 87 bytes over six runs.
MAX_GROWTH_PER_USER_BYTES = 150


async def _distinct_users_write(api: BotApiServer, first: int, count: int, text: str, within: float) -> None:
    """``count`` people who never wrote before send ``text``; returns when each has had a reply."""
    waiting = set(range(first, first + count))
    done = asyncio.Event()

    def on_call(call: Call) -> None:
        if call.method == "sendMessage" and call.chat_id in waiting:
            waiting.discard(call.chat_id)
            if not waiting:
                done.set()

    api.on_call = on_call
    try:
        for user_id in range(first, first + count):
            api.send_text(user_id, text, language_code="en" if user_id % 2 else "ru")
        await asyncio.wait_for(done.wait(), within)
    finally:
        api.on_call = None


@pytest.mark.slow
async def test_rss_growth_per_distinct_user_is_tiny(tmp_path: Path) -> None:
    with SmtpServer() as smtp:
        async with BotApiServer() as api:
            async with running(api, smtp, tmp_path / "bot.sqlite3") as bot:
                await _distinct_users_write(api, FIRST_USER, WARM_UP_USERS, "/start", within=60)
                await asyncio.sleep(0.5)
                before = bot.rss_kib()
                started = time.monotonic()
                await _distinct_users_write(api, FIRST_USER + WARM_UP_USERS, MEASURED_USERS, "/start", within=90)
                elapsed = time.monotonic() - started
                await asyncio.sleep(0.5)
                after = bot.rss_kib()
    per_user = (after - before) * 1024 / MEASURED_USERS
    print(f"RSS {before} KiB -> {after} KiB after {MEASURED_USERS} distinct users in {elapsed:.1f} s: "
          f"{per_user:.0f} bytes per user")
    assert per_user < MAX_GROWTH_PER_USER_BYTES, f"{per_user:.0f} bytes per distinct user"
