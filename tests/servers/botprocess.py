"""``privacy-bot run`` as a real process against the loopback Bot API server and the SMTP test server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from bot.config import REPO_ROOT
from tests.servers.botapi import TEST_TOKEN, BotApiServer
from tests.servers.smtp import SmtpServer

STAFF_CHAT = -1001234567890
STAFF_USER = 777
START_WITHIN = 40.0  # loading the policy engine takes a few seconds on a busy machine


class BotProcess:
    def __init__(self, api: BotApiServer, smtp: SmtpServer, database: Path,
                 extra_env: dict[str, str] | None = None) -> None:
        self.api = api
        # A file, not a pipe: an unread pipe fills up and then blocks the bot on its next log line.
        self.log_path = database.with_suffix(".log")
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PRIVACY_BOT")},
            "PRIVACY_BOT_TELEGRAM_TOKEN": TEST_TOKEN,
            "PRIVACY_BOT__TELEGRAM__API_BASE": api.base_url,
            "PRIVACY_BOT__TELEGRAM__STAFF_CHAT_ID": str(STAFF_CHAT),
            "PRIVACY_BOT__TELEGRAM__STAFF_USER_IDS": f"[{STAFF_USER}]",
            "PRIVACY_BOT__STORAGE__DATABASE": str(database),
            "PRIVACY_BOT__EMAIL__SMTP_HOST": "127.0.0.1",
            "PRIVACY_BOT__EMAIL__SMTP_PORT": str(smtp.port),
            "PRIVACY_BOT__EMAIL__SMTP_SECURITY": "none",
            "PRIVACY_BOT__OUTBOX__POLL_SECONDS": "0.2",
            "PRIVACY_BOT__OUTBOX__BASE_BACKOFF_SECONDS": "0.2",
            **(extra_env or {}),
        }
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> None:
        mark = self.api.mark()
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(REPO_ROOT / "config.toml"), "run",
            env=self.env, cwd=str(REPO_ROOT), stdout=asyncio.subprocess.DEVNULL, stderr=self.log_path.open("ab"))
        # Polling starts right after deleteWebhook: the bot is up.
        await self.api.wait_for(lambda c: c.method == "deleteWebhook", after=mark, within=START_WITHIN)

    async def stop(self) -> tuple[int, str]:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        return int(self.proc.returncode or 0), self.log_path.read_text(errors="replace")

    def rss_kib(self) -> int:
        """The process's resident set size (VmRSS of /proc/<pid>/status), in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS line in /proc/<pid>/status")


@contextlib.asynccontextmanager
async def running(api: BotApiServer, smtp: SmtpServer, database: Path,
                  extra_env: dict[str, str] | None = None) -> AsyncIterator[BotProcess]:
    """The bot runs inside the block; on leaving it must stop cleanly, with no traceback in its log, and
    the Bot API server must have refused nothing it sent (Telegram's limits, HTML it cannot parse)."""
    bot = BotProcess(api, smtp, database, extra_env)
    mark = api.mark()
    await bot.start()
    try:
        yield bot
    finally:
        code, stderr = await bot.stop()
        print(stderr[-6000:], file=sys.stderr)  # shown by pytest when the test fails
        assert code == 0, stderr[-3000:]
        assert "Traceback" not in stderr, stderr[-3000:]
        refused = [(c.method, c.refused, c.text[:80]) for c in api.refusals(after=mark)]
        assert not refused, refused
