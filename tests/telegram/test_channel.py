"""The channel's machinery on real loopback HTTP: polling stop without loss, webhook secret, timed work."""

from __future__ import annotations

import asyncio
import io
import re
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

from bot.cli import main as cli_main
from bot.config import REPO_ROOT, Config
from bot.retention import RetentionJob
from bot.verification import VerificationCodes
from handlers.telegram.channel import TelegramChannel, webhook_secret
from handlers.telegram.polling import Poller
from handlers.telegram.reminders import send_code_reminders
from tests.servers.botapi import TEST_TOKEN, BotApiServer
from tests.telegram.conftest import STAFF_CHAT, USER, Harness


async def test_stop_finishes_updates_in_flight_and_confirms_them() -> None:
    async with BotApiServer() as api:
        bot = Bot(TEST_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api.base_url)))
        dp = Dispatcher()
        started = asyncio.Event()

        @dp.message()
        async def slow(message: Message) -> None:
            started.set()
            await asyncio.sleep(0.5)  # still working when the stop comes
            await message.answer("done: " + (message.text or ""))

        stop = asyncio.Event()
        poller = Poller(dp, bot, polling_timeout=5)
        polling = asyncio.create_task(poller.run(stop))
        api.send_text(USER, "first")
        await asyncio.wait_for(started.wait(), 10)
        stop.set()
        await asyncio.wait_for(polling, 15)
        await bot.session.close()
        assert [c.text for c in api.calls_of("sendMessage")] == ["done: first"]
        # Confirmed on the way out: a restarted bot is not handed the same update again.
        assert api._updates == []


async def test_webhook_checks_the_secret_token_header(telegram_config: Config, harness: Harness,
                                                      make_config: Callable[..., Config]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with BotApiServer() as api:
        config = make_config({"PRIVACY_BOT__TELEGRAM__MODE": "webhook",
                              "PRIVACY_BOT__TELEGRAM__WEBHOOK_PORT": str(port),
                              "PRIVACY_BOT__TELEGRAM__WEBHOOK_URL": "https://bot.example/telegram/webhook",
                              "PRIVACY_BOT__TELEGRAM__API_BASE": api.base_url,
                              "PRIVACY_BOT__TELEGRAM__STAFF_CHAT_ID": str(STAFF_CHAT)},
                             telegram_token=TEST_TOKEN)
        harness.services.config = config
        channel = TelegramChannel(harness.services)
        stop = asyncio.Event()
        running = asyncio.create_task(channel.run(stop))
        set_hook = await api.wait_for(lambda c: c.method == "setWebhook", within=10)
        secret = webhook_secret(TEST_TOKEN)
        assert set_hook.params["secret_token"] == secret and secret not in TEST_TOKEN
        update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "/start",
                                              "chat": {"id": USER, "type": "private"},
                                              "from": {"id": USER, "is_bot": False, "first_name": "A",
                                                       "language_code": "en"}}}
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "forged"}) as resp:
                assert resp.status == 401
            assert api.calls_of("sendMessage") == []
            async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as resp:
                assert resp.status == 200
        await api.wait_for_message(USER, "privacy assistant", within=10)
        stop.set()
        await asyncio.wait_for(running, 15)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_a_stalled_code_is_reminded_once_and_old_records_are_forgotten(harness: Harness) -> None:
    h = harness
    clock = Clock()
    h.deps.codes = VerificationCodes(h.services.db, h.services.config.telegram, h.services.secret, clock=clock)
    await h.send(USER, "Удалите мои данные")
    await h.press(USER, h.last_buttons(USER)["Пропустить"])
    await h.send(USER, "me@example.com")
    await h.deliver()  # the code is made when its mail goes out; a reminder is only about a code sent
    assert await send_code_reminders(h.deps) == 0
    clock.now += timedelta(seconds=601)
    assert await send_code_reminders(h.deps) == 1
    assert await send_code_reminders(h.deps) == 0
    await h.deliver()
    assert "Код подтверждения ждёт вас" in h.last_text(USER)
    code = re.search(r"\b\d{6}\b", h.email.sent[-1].payload["text"])
    assert code
    await h.send(USER, code.group(0))  # still valid: 10 of 15 minutes
    assert "Проверьте ваш запрос" in h.last_text(USER)

    await h.press(USER, "m:human")
    await h.send(USER, "Позовите человека")
    assert (await h.deps.repo.held_about(USER))["handoff_messages"] == 1
    job = RetentionJob(h.services.db, h.services.config)
    assert (await job.run()).other == {}
    report = await job.run(now=datetime.now(UTC) + timedelta(days=91))
    # the handoff (90 days), the code and its send record (1 day)
    assert {t: report.other.get(t) for t in ("telegram_handoffs", "verification_codes", "verification_sends")} == {
        "telegram_handoffs": 1, "verification_codes": 1, "verification_sends": 1}
    assert (await h.deps.repo.held_about(USER))["handoff_messages"] == 0


def test_a_malformed_token_is_one_line_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PRIVACY_BOT_TELEGRAM_TOKEN", "not-a-token")
    monkeypatch.setenv("PRIVACY_BOT__STORAGE__DATABASE", str(tmp_path / "bot.sqlite3"))
    assert cli_main(["--config", str(REPO_ROOT / "config.toml"), "run"]) == 1
    err = capsys.readouterr().err
    assert "PRIVACY_BOT_TELEGRAM_TOKEN" in err and "Traceback" not in err


async def test_chat_beside_a_configured_bot_leaves_its_outbox_alone(telegram_config: Config,
                                                                    make_config: Callable[..., Config]) -> None:
    from bot.app import run_app
    from bot.storage.db import Database

    db = await Database(telegram_config.database_path).open()
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO outbox(channel, recipient, kind, payload, idempotency_key, next_attempt_at, created_at)"
            " VALUES ('telegram', '555', 'request.approved', '{\"text\": \"для настоящего бота\"}', 'k1',"
            # created now: retention (run at start) purges delivered rows created long ago, which would
            # race the check below that the message was delivered
            " '2000-01-01T00:00:00.000Z', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))")
    await db.close()
    out = io.StringIO()
    assert await run_app(telegram_config, force_console=True, stdin=io.StringIO("/myrequests\n"), out=out) == 0
    printed = out.getvalue()
    assert "У вас нет запросов." in printed and "для настоящего бота" not in printed
    db = await Database(telegram_config.database_path).open()
    async with db.conn.execute("SELECT status FROM outbox WHERE idempotency_key = 'k1'") as cursor:
        row = await cursor.fetchone()
    await db.close()
    assert row is not None and row[0] == "pending"

    # With no channel configured the console is the only bot, and it does deliver.
    assert await run_app(make_config(), stdin=io.StringIO(""), out=io.StringIO()) == 0
    db = await Database(telegram_config.database_path).open()
    async with db.conn.execute("SELECT status FROM outbox WHERE idempotency_key = 'k1'") as cursor:
        row = await cursor.fetchone()
    await db.close()
    assert row is not None and row[0] == "sent"


def test_reply_models_are_held_so_parsing_a_reply_never_rebuilds_one() -> None:
    from aiogram.methods.base import Response

    from handlers.telegram.channel import make_bot
    from handlers.telegram.response_models import METHODS, _held

    make_bot("42:TEST", "http://127.0.0.1:9")
    assert len(_held) == len(METHODS)
    for method, model in zip(METHODS, _held, strict=True):
        # The cache answers with the very model held: no reply builds a new one.
        assert Response[method.__returning__] is model  # type: ignore[name-defined]
