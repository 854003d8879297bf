"""The running bot's policy in process: recorded in the real database, reloaded and swapped, refused when the
folder or a channel's check will not have it; the pid file ``policy reload`` finds the bot by."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot import policy_reload
from bot.cli import main
from bot.config import REPO_ROOT, Config
from bot.i18n import format_date
from bot.pidfile import PidFile, find_running_bot, pid_path, read_status, status_path
from bot.policy.engine import PolicyEngine
from bot.policy.loader import load_policy
from bot.policy_reload import STAFF_KIND, PolicyReloader
from bot.services import Services, build_services
from bot.storage import policy_repo
from handlers.telegram.deps import TelegramDeps
from handlers.telegram.dispatcher import check_policy_buttons

OLD_PHONE = "+7 981 989-53-11"
NEW_PHONE = "+7 900 000-00-00"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "policy_text"
    shutil.copytree(REPO_ROOT / "policy_text", target)
    return target


@pytest.fixture
async def services(make_config: Callable[..., Config], folder: Path) -> AsyncIterator[Services]:
    config = make_config({"PRIVACY_BOT__POLICY__DIRECTORY": str(folder)})
    built = await build_services(config)
    yield built
    await built.close()


def _edit_phone(folder: Path) -> None:
    for lang in ("en", "ru"):
        path = folder / lang / "13-contact.txt"
        path.write_text(path.read_text(encoding="utf-8").replace(OLD_PHONE, NEW_PHONE), encoding="utf-8")


def _remove_section(folder: Path, section_id: str) -> None:
    """What the owner does to drop a section: its files, its examples table and its asked lines."""
    for lang in ("en", "ru"):
        for path in (folder / lang).glob(f"*-{section_id}.txt"):
            path.unlink()
        sections = folder / "examples" / lang / "sections.toml"
        text = sections.read_text(encoding="utf-8")
        sections.write_text(re.sub(rf"(?ms)^\[{section_id}\]\n.*?(?=^\[|\Z)", "", text), encoding="utf-8")
        asked = folder / "examples" / lang / "asked.jsonl"
        kept = [line for line in asked.read_text(encoding="utf-8").splitlines()
                if json.loads(line).get("section") != section_id]
        asked.write_text("\n".join(kept) + "\n", encoding="utf-8")


async def _staff_notices(services: Services) -> list[dict[str, Any]]:
    async with services.db.conn.execute("SELECT payload FROM outbox WHERE kind = ? ORDER BY id", (STAFF_KIND,)) as cur:
        return [json.loads(row[0]) for row in await cur.fetchall()]


def _phone_answer(engine: PolicyEngine) -> str:
    result = engine.understand("what is your phone number?", lang="en")
    assert result.answer is not None
    return result.answer.text


# A changed folder is fitted again (about 10-30 s here) unless the engine cache has seen it before.
@pytest.mark.timeout(300)
async def test_reload_swaps_the_engine_records_the_policy_and_tells_staff_once_per_change(
        services: Services, folder: Path, tmp_path: Path) -> None:
    status = tmp_path / "reload.json"
    reloader = PolicyReloader(services, status_file=status)
    first = load_policy(folder)
    # The first run records what it runs with and tells no one; a restart with the same policy neither.
    for _ in range(2):
        change = await reloader.record_start()
        assert not change.sections_changed
        assert await _staff_notices(services) == []
    recorded = await policy_repo.load_snapshot(services.db.conn)
    assert recorded is not None and recorded.version == first.version

    old_engine = services.engine
    _edit_phone(folder)
    outcome = await reloader.reload()
    second = load_policy(folder)
    assert outcome.ok and outcome.version == second.version and outcome.previous_version == first.version
    assert services.engine is not old_engine and services.engine.policy_version == second.version
    assert NEW_PHONE in _phone_answer(services.engine) and OLD_PHONE in _phone_answer(old_engine)
    notices = await _staff_notices(services)
    assert len(notices) == 1
    assert f"версия {second.version}, действует с {format_date('ru', second.effective_date)}" in notices[0]["text"]  # ru
    assert "contact" in notices[0]["text"] and first.version in notices[0]["text"]
    written = read_status(status)
    assert written is not None and written["ok"] and written["pid"] == os.getpid()
    assert written["version"] == second.version and any("contact" in line for line in written["changes"])

    # Reloading an unchanged folder builds the engine again (examples may have changed) and tells no one.
    outcome = await reloader.reload()
    assert outcome.ok and not outcome.version_changed and outcome.changes == []
    assert len(await _staff_notices(services)) == 1
    # Nor does the next start.
    await reloader.record_start()
    assert len(await _staff_notices(services)) == 1

    # A removed section: its id is retired, so its buttons in people's chats are stale, not forged.
    _remove_section(folder, "disclaimer")
    outcome = await reloader.reload()
    assert outcome.ok, outcome.error
    assert services.engine.section("en", "disclaimer") is None
    assert "disclaimer" in services.retired_section_ids
    notices = await _staff_notices(services)
    assert len(notices) == 2 and "disclaimer" in notices[1]["text"]


@pytest.mark.timeout(300)
async def test_a_refused_reload_keeps_the_engine_and_says_why_in_one_line(
        services: Services, folder: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    status = tmp_path / "reload.json"
    reloader = PolicyReloader(services, status_file=status)
    await reloader.record_start()
    old_engine, version = services.engine, services.engine.policy_version
    _edit_phone(folder)
    broken = folder / "ru" / "09-protection.txt"
    broken.write_text(broken.read_text(encoding="utf-8").replace("order: 9\n", "order: nine\n"), encoding="utf-8")
    caplog.set_level(logging.INFO, logger="bot.policy_reload")
    outcome = await reloader.reload()
    assert not outcome.ok and outcome.version == version
    assert f"{broken}: order must be a whole number" in outcome.error
    assert services.engine is old_engine and OLD_PHONE in _phone_answer(services.engine)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "\n" not in errors[0].getMessage() and errors[0].exc_info is None
    assert f"still answering with version {version}" in errors[0].getMessage()
    written = read_status(status)
    assert written is not None and not written["ok"] and "order must be a whole number" in written["error"]
    assert await _staff_notices(services) == []

    # A folder the loader takes but a channel cannot show: Telegram's button data holds 64 bytes.
    broken.write_text(broken.read_text(encoding="utf-8").replace("order: nine\n", "order: 9\n"), encoding="utf-8")
    long_id = "a-section-whose-id-is-far-too-long-for-the-data-a-telegram-button-carries"
    for lang in ("en", "ru"):
        (folder / lang / "14-long.txt").write_text(f"---\nid: {long_id}\ntitle: Long\norder: 14\n---\nText.\n",
                                                   encoding="utf-8")
    services.policy_checks.append(lambda engine: check_policy_buttons(TelegramDeps.build(services), engine))
    outcome = await reloader.reload()
    assert not outcome.ok and long_id in outcome.error and "Telegram" in outcome.error
    assert services.engine is old_engine
    # Taken away again, the edit goes through.
    for lang in ("en", "ru"):
        (folder / lang / "14-long.txt").unlink()
    outcome = await reloader.reload()
    assert outcome.ok and NEW_PHONE in _phone_answer(services.engine)


async def _until(condition: Callable[[], bool], within: float = 10.0) -> None:
    for _ in range(int(within / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never met")


async def test_signals_during_a_reload_cause_exactly_one_more(services: Services,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    engine = services.engine
    loads: list[float] = []

    def slow_load(*args: Any, **kwargs: Any) -> PolicyEngine:
        loads.append(time.monotonic())
        time.sleep(0.3)  # in the worker thread, as the real load
        return engine

    monkeypatch.setattr(PolicyEngine, "load", slow_load)
    reloader = PolicyReloader(services)
    await reloader.record_start()
    stop = asyncio.Event()
    task = asyncio.create_task(reloader.run(stop))
    reloader.request()
    await _until(lambda: bool(loads))
    for _ in range(3):  # three more while the first is loading: one more reload covers them all
        reloader.request()
    await _until(lambda: len(loads) == 2)
    await asyncio.sleep(0.8)
    assert len(loads) == 2
    stop.set()
    await asyncio.wait_for(task, 5)


# ----- the pid file ------------------------------------------------------------------------------

def test_the_pid_file_names_the_running_bot_and_goes_with_it(tmp_path: Path) -> None:
    path = pid_path(tmp_path / "data" / "bot.sqlite3")
    assert find_running_bot(path).pid is None and find_running_bot(path).stale_pid is None
    held = PidFile(path)
    assert held.acquire()
    assert path.read_text().strip() == str(os.getpid())
    assert find_running_bot(path).pid == os.getpid()
    assert not PidFile(path).acquire()  # a second bot on the same data folder does not take it over
    held.release()
    assert not path.exists() and find_running_bot(path).pid is None


def test_a_pid_file_left_by_a_killed_bot_is_stale(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "privacy-bot.pid"
    child = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(f"""
            import os, signal
            from pathlib import Path
            from bot.pidfile import PidFile
            assert PidFile(Path({str(path)!r})).acquire()
            print(os.getpid(), flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        """)], cwd=str(REPO_ROOT), capture_output=True, text=True, timeout=60, check=False)
    dead = int(child.stdout.strip())
    assert path.read_text().strip() == str(dead)
    found = find_running_bot(path)
    assert found.pid is None and found.stale_pid == dead
    caplog.set_level(logging.INFO, logger="bot.pidfile")
    fresh = PidFile(path)
    assert fresh.acquire()
    assert any(f"stale pid file (process {dead}" in r.getMessage() for r in caplog.records)
    fresh.release()


def test_policy_reload_without_a_running_bot_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "bot.sqlite3"
    monkeypatch.setenv("PRIVACY_BOT__STORAGE__DATABASE", str(database))
    monkeypatch.setenv("PRIVACY_BOT__POLICY__DEFAULT_LANGUAGE", "en")
    assert main(["policy", "reload"]) == 1
    err = capsys.readouterr().err
    assert err == f"privacy-bot: no running bot: there is no pid file {pid_path(database)} " \
                  "(the bot writes it while it runs with a Telegram or email channel)\n"
    pid_path(database).write_text("999999999\n")  # no such process, and nobody holds the file
    status_path(database).write_text("{}")
    assert main(["policy", "reload"]) == 1
    assert capsys.readouterr().err == (f"privacy-bot: no running bot: the pid file {pid_path(database)} is stale "
                                       "(process 999999999 has ended)\n")


@pytest.mark.timeout(300)
async def test_what_staff_taught_survives_a_reload(services: Services, folder: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Examples staff decided before the reload are fitted into the new engine; one decided while it is being
    built (taught to the old engine) is taught to the new one right after the swap."""
    reloader = PolicyReloader(services)
    await reloader.record_start()

    def target(text: str) -> str:
        answer = services.engine.understand(text, lang="en").answer
        return "contact" if answer is None or answer.section_id != "contact" else "protection"

    async def decide(text: str, section_id: str) -> None:
        question = await services.learning.submit(lang="en", text=text, channel="telegram", reason="unhelpful")
        assert question is not None
        await services.learning.decide(question.id, section_id, by="anna")

    def answered(text: str) -> str | None:
        answer = services.engine.understand(text, lang="en").answer
        return answer.section_id if answer is not None else None

    before_text, during_text = "who audits you and how often, is there a certificate?", "do you have a dpo on staff?"
    before, during = target(before_text), target(during_text)
    await decide(before_text, before)
    assert answered(before_text) == before

    building, decided = threading.Event(), threading.Event()
    real = policy_reload.load_engine

    def slow(*args: Any) -> PolicyEngine:
        building.set()
        assert decided.wait(60)  # staff decide while the new engine is being built
        return real(*args)

    monkeypatch.setattr(policy_reload, "load_engine", slow)
    _edit_phone(folder)
    reload = asyncio.create_task(reloader.reload())
    await asyncio.to_thread(building.wait, 60)
    await decide(during_text, during)
    old_engine = services.engine
    decided.set()
    outcome = await reload
    assert outcome.ok and services.engine is not old_engine
    assert NEW_PHONE in _phone_answer(services.engine)
    assert answered(before_text) == before
    assert answered(during_text) == during
    assert await services.learning.catch_up() == 0  # nothing left untaught
