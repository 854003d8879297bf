"""The console chat as a real process: ``privacy-bot run`` with no channel, then ``chat --as-staff``."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from bot.config import REPO_ROOT

pytestmark = pytest.mark.slow

WITHIN = 40.0


class Console:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.seen = ""

    async def expect(self, pattern: str, within: float = WITHIN) -> re.Match[str]:
        assert self.proc.stdout is not None
        regex = re.compile(pattern)
        deadline = asyncio.get_running_loop().time() + within
        while True:
            found = regex.search(self.seen)
            if found:
                self.seen = self.seen[found.end():]
                return found
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"{pattern!r} not printed within {within}s; output: {self.seen[-2000:]}")
            try:
                line = await asyncio.wait_for(self.proc.stdout.readline(), left)
            except TimeoutError:
                continue
            if not line:
                raise AssertionError(f"the console ended before {pattern!r}; output: {self.seen[-2000:]}")
            self.seen += line.decode()

    async def type(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((line + "\n").encode())
        await self.proc.stdin.drain()

    async def finish(self, signal_number: int | None = None) -> tuple[int, str]:
        """End of input (Ctrl-D), or a signal while the console waits for a line."""
        assert self.proc.stdin is not None
        if signal_number is None:
            self.proc.stdin.close()
        else:
            self.proc.send_signal(signal_number)
        _, err = await asyncio.wait_for(self.proc.communicate(), 15)
        return int(self.proc.returncode or 0), err.decode()


async def _start(database: Path, *args: str) -> Console:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRIVACY_BOT")}
    env.update({"PRIVACY_BOT__STORAGE__DATABASE": str(database), "PRIVACY_BOT__OUTBOX__POLL_SECONDS": "0.1"})
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(REPO_ROOT / "config.toml"), *args, env=env, cwd=str(REPO_ROOT),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    return Console(proc)


async def test_console_chat_as_a_person_then_as_staff(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    person = await _start(database, "run")
    await person.expect(r"\[7\] 📋 Мои запросы")
    await person.type("Кому вы передаёте мои данные?")
    await person.expect(r"Полный текст политики")
    await person.type("удалите мои данные")
    skip = (await person.expect(r"\[(\d+)\] Пропустить")).group(1)
    await person.type(skip)
    await person.expect(r"адресу электронной почты")
    await person.type("me@example.com")
    code = (await person.expect(r"\[email -> me@example.com\].*\n.*?(\d{6})")).group(1)
    await person.type(code)
    confirm = (await person.expect(r"\[(\d+)\] ✅ Подтвердить")).group(1)
    await person.type("99")  # not on screen: refused, nothing pressed (it was taken as text and cancelled)
    await person.expect(r"\[99\] на экране нет.*\[" + confirm + r"\] ✅ Подтвердить")
    await person.type(confirm)
    # In order: "sent, the number follows", then the number.
    await person.expect(r"Номер и срок ответа придут следующим сообщением")
    request_id = (await person.expect(r"(PR-\d{4}-\d{4}) \(удаление персональных данных\) зарегистрирован")).group(1)
    await person.type("/start")
    human = (await person.expect(r"\[(\d+)\] 👤 Связаться с сотрудником")).group(1)
    await person.type(human)
    await person.expect(r"передам его сотрудникам")
    await person.type("Позовите человека")
    await person.expect(r"передано сотрудникам")
    status, stderr = await person.finish()
    assert status == 0, stderr
    assert "PRIVACY_BOT_TELEGRAM_TOKEN" in stderr  # how to connect real channels was printed first

    staff = await _start(database, "chat", "--as-staff")
    # What the person's console left for the staff chat is posted when a staff console runs.
    await staff.expect(r"Позовите человека")
    await staff.type("/queue")
    await staff.expect(request_id)
    await staff.type(f"/request {request_id}")
    approve = (await staff.expect(r"\[(\d+)\] ✅ Одобрить")).group(1)
    await staff.type(approve)
    await staff.expect(r"bot \(edited\)> .*" + request_id)
    await staff.expect(r"Состояние: одобрен")
    status, stderr = await staff.finish(signal.SIGTERM)
    assert status == 0, stderr
    assert "no sender" not in stderr  # the other view's messages wait for it without a warning

    # The person's console shows the staff decision, as Telegram would.
    person = await _start(database, "run")
    await person.expect(request_id + r".*одобрен")
    status, stderr = await person.finish()
    assert status == 0, stderr
