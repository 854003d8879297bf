"""The policy owner's workflow against the real process: ``privacy-bot run`` on a copy of the policy folder,
our loopback Bot API server and SMTP server, a real SQLite file; the owner edits the folder and runs
``privacy-bot policy reload`` (or sends SIGHUP) as they would."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from bot.config import REPO_ROOT
from bot.i18n import format_date
from bot.policy.loader import load_policy
from bot.policy_reload import STAFF_KIND
from tests.servers.botapi import BotApiServer, Call
from tests.servers.botprocess import STAFF_CHAT, BotProcess, running
from tests.servers.smtp import SmtpServer

pytestmark = pytest.mark.slow

ASKER = 6001
FLOW = 6002
WITHIN = 20.0
OLD_PHONE = "+7 981 989-53-11"
NEW_PHONE = "+7 900 000-00-00"


def _policy_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "policy_text"
    shutil.copytree(REPO_ROOT / "policy_text", folder)
    return folder


def _edit_phone(folder: Path, old: str = OLD_PHONE, new: str = NEW_PHONE) -> str:
    """The owner changes the phone in the contact section in both languages; returns the new version."""
    for lang in ("en", "ru"):
        path = folder / lang / "13-contact.txt"
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new), encoding="utf-8")
    return load_policy(folder).version


async def _cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """``privacy-bot`` as the owner runs it, with the bot's environment (off the event loop's thread: the
    Bot API server the bot talks to runs on this loop)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(REPO_ROOT / "config.toml"), *args, env=env,
        cwd=str(REPO_ROOT), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return int(proc.returncode or 0), out.decode(), err.decode()


async def _ask_phone(api: BotApiServer, user: int = ASKER) -> Call:
    mark = api.mark()
    api.send_text(user, "what is your phone number?", language_code="en")
    return await api.wait_for_message(user, "jetbit.ru/policy", after=mark, within=WITHIN)


def _is_policy_post(call: Call) -> bool:
    return (call.method == "sendMessage" and call.chat_id == STAFF_CHAT and call.result is not None
            and "Политика конфиденциальности, по которой отвечает бот, изменилась" in call.text)


def _policy_posts(api: BotApiServer, after: int = 0) -> list[Call]:
    return [c for c in api.calls[after:] if _is_policy_post(c)]


async def _outbox_sent(database: Path, kind: str) -> None:
    for _ in range(int(WITHIN / 0.1)):
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)) as conn:
            row = conn.execute("SELECT COUNT(*) FROM outbox WHERE kind = ? AND status = 'sent'", (kind,)).fetchone()
        if row[0]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {kind} outbox message was marked sent")


def _press(api: BotApiServer, user: int, call: Call, button_text: str) -> None:
    api.press(user, call, call.button(button_text)["callback_data"])


# A changed folder is fitted again (about 10-30 s here) unless the engine cache has seen it before.
@pytest.mark.timeout(300)
async def test_reload_answers_with_the_new_text_and_version_while_a_flow_begun_before_goes_on(tmp_path: Path) -> None:
    folder = _policy_copy(tmp_path)
    database = tmp_path / "bot.sqlite3"
    old_version = load_policy(folder).version
    with SmtpServer() as smtp:
        async with BotApiServer() as api, running(
                api, smtp, database, {"PRIVACY_BOT__POLICY__DIRECTORY": str(folder)}) as bot:
            answer = await _ask_phone(api)
            assert OLD_PHONE in answer.text and f"Policy version {old_version}" in answer.text

            # Someone starts a deletion flow and is half-way (asked for their email) when the policy changes.
            mark = api.mark()
            api.send_text(FLOW, "Удалите мои данные, пожалуйста")
            intro = await api.wait_for_message(FLOW, "удалили", after=mark, within=WITHIN)
            mark = api.mark()
            _press(api, FLOW, intro, "Пропустить")
            await api.wait_for_message(FLOW, "адресу электронной почты", after=mark, within=WITHIN)

            new_version = _edit_phone(folder)
            staff_mark = api.mark()
            code, out, err = await _cli(bot.env, "policy", "reload")
            assert code == 0, err
            assert f"перезагрузил политику: версия {new_version}" in out
            assert f"До этого: версия {old_version}." in out
            assert re.search(r"изменён: contact \(Как с нами связаться\), русский, английский", out), out

            answer = await _ask_phone(api)
            assert NEW_PHONE in answer.text and OLD_PHONE not in answer.text
            assert f"Policy version {new_version}" in answer.text

            # The flow goes on where it was: email, code, summary, confirmation, request id.
            mark = api.mark()
            api.send_text(FLOW, "flow@example.com")
            await api.wait_for_message(FLOW, "шестизначный код", after=mark, within=WITHIN)
            mails = await smtp.wait_for_async(1, WITHIN)
            body = mails[-1].message().get_body(preferencelist=("plain",))
            assert body is not None
            found = re.search(r"\b(\d{6})\b", body.get_content())
            assert found
            mark = api.mark()
            api.send_text(FLOW, found.group(1))
            summary = await api.wait_for_message(FLOW, "Проверьте ваш запрос", after=mark, within=WITHIN)
            mark = api.mark()
            _press(api, FLOW, summary, "Подтвердить")
            created = await api.wait_for_message(FLOW, "зарегистрирован", after=mark, within=WITHIN)
            assert re.search(r"PR-\d{4}-\d{4}", created.text)

            # Staff were told once: the new version, its date and the section that changed.
            await api.wait_for(_is_policy_post, after=staff_mark, within=WITHIN)
            posts = _policy_posts(api, staff_mark)
            assert len(posts) == 1
            effective = format_date("ru", load_policy(folder).effective_date)
            assert f"версия {new_version}, действует с {effective}" in posts[0].text
            assert f"была {old_version}" in posts[0].text and "contact" in posts[0].text
    log = bot.log_path.read_text()
    assert f"policy reloaded: version {new_version}" in log


@pytest.mark.timeout(300)
async def test_a_broken_folder_on_reload_keeps_the_old_answers(tmp_path: Path) -> None:
    folder = _policy_copy(tmp_path)
    database = tmp_path / "bot.sqlite3"
    old_version = load_policy(folder).version
    with SmtpServer() as smtp:
        async with BotApiServer() as api, running(
                api, smtp, database, {"PRIVACY_BOT__POLICY__DIRECTORY": str(folder)}) as bot:
            await _ask_phone(api)
            _edit_phone(folder)
            broken = folder / "en" / "09-protection.txt"
            good = broken.read_text(encoding="utf-8")
            broken.write_text(good.replace("title: How We Protect Your Information\n", ""), encoding="utf-8")

            # A plain SIGHUP, as an init system would send it.
            assert bot.proc is not None
            bot.proc.send_signal(signal.SIGHUP)
            deadline = asyncio.get_running_loop().time() + WITHIN
            while "policy reload failed" not in bot.log_path.read_text():
                assert asyncio.get_running_loop().time() < deadline, bot.log_path.read_text()[-2000:]
                await asyncio.sleep(0.2)
            # ... and the command, which prints the bot's one line and fails.
            code, _, err = await _cli(bot.env, "policy", "reload")
            assert code == 1
            assert f"по-прежнему отвечает по версии {old_version}" in err
            assert f"{broken}: missing header key 'title'" in err
            assert len(err.strip().splitlines()) == 1, err

            answer = await _ask_phone(api)
            assert OLD_PHONE in answer.text and f"Policy version {old_version}" in answer.text
            assert not _policy_posts(api)

            # Fixed: the next reload takes the edit.
            broken.write_text(good, encoding="utf-8")
            code, _, err = await _cli(bot.env, "policy", "reload")
            assert code == 0, err
            answer = await _ask_phone(api)
            assert NEW_PHONE in answer.text
    failures = [line for line in bot.log_path.read_text().splitlines() if "policy reload failed" in line]
    assert len(failures) == 2, failures
    assert all("09-protection.txt: missing header key 'title'" in line for line in failures)


@pytest.mark.timeout(300)
async def test_staff_are_told_once_per_new_version_across_restarts_and_a_crash(tmp_path: Path) -> None:
    folder = _policy_copy(tmp_path)
    database = tmp_path / "bot.sqlite3"
    env = {"PRIVACY_BOT__POLICY__DIRECTORY": str(folder)}
    first_version = load_policy(folder).version
    with SmtpServer() as smtp:
        async with BotApiServer() as api:
            probe = BotProcess(api, smtp, database, env)
            code, _, err = await _cli(probe.env, "policy", "reload")
            assert code == 1 and "бот не запущен: нет pid-файла" in err

            # The first run records the policy and tells no one: there is nothing to compare with.
            async with running(api, smtp, database, env) as bot:
                await _ask_phone(api)
                assert (tmp_path / "privacy-bot.pid").read_text().strip() == str(bot.pid)
            assert not (tmp_path / "privacy-bot.pid").exists()
            assert not _policy_posts(api)

            # A new version: told at start, once.
            new_version = _edit_phone(folder)
            crashed = BotProcess(api, smtp, database, env)
            try:
                mark = api.mark()
                await crashed.start()
                post = await api.wait_for(_is_policy_post, after=mark, within=WITHIN)
                assert f"версия {new_version}" in post.text and f"была {first_version}" in post.text
                # The bot is killed once the notice is marked sent (a kill between Telegram's answer and that mark
                # sends it again: the outbox is at least once towards Telegram, which cannot be asked). Its pid file
                # stays behind, and the command sees it is stale.
                await _outbox_sent(database, STAFF_KIND)
            finally:  # killed as planned, or because something above failed: never left running
                if crashed.proc is not None:
                    if crashed.proc.returncode is None:
                        crashed.proc.kill()
                    await crashed.proc.wait()
            code, _, err = await _cli(crashed.env, "policy", "reload")
            assert code == 1 and f"pid-файл {tmp_path / 'privacy-bot.pid'} устарел (процесс {crashed.pid}" in err

            # Restarted with the same version: not told again.
            mark = api.mark()
            async with running(api, smtp, database, env):
                await _ask_phone(api)
                await asyncio.sleep(2.0)  # the outbox worker polls every 0.2 s
            assert not _policy_posts(api, mark)
    with sqlite3.connect(database) as conn:
        kinds = conn.execute("SELECT COUNT(*) FROM outbox WHERE kind = ?", (STAFF_KIND,)).fetchone()[0]
    assert kinds == 1
