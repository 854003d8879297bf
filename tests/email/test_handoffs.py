"""HandoffService and `privacy-bot handoffs`: stored, announced to staff once, listed, shown, closed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Config
from bot.handoffs import HandoffAlreadyClosed, HandoffService
from bot.outbox.repository import OutboxRepository
from bot.storage.db import Database


async def make_handoffs(config: Config) -> list[int]:
    db = await Database(config.database_path).open()
    try:
        service = HandoffService(db, config)
        first = await service.create(channel="email", sender="galina@mail.ru", subject="Позовите человека",
                                     text="Соедините меня с сотрудником.", lang="ru", reason="human",
                                     reference="<human36@mail.ru>")
        again = await service.create(channel="email", sender="galina@mail.ru", subject="Позовите человека",
                                     text="Соедините меня с сотрудником.", lang="ru", reason="human",
                                     reference="<human36@mail.ru>")
        second = await service.create(channel="telegram", sender="tg:42", subject="", text="x" * 5000,
                                      lang="en", reason="unplaced")
        assert again == first
        staff = [r.message for r in await OutboxRepository(db).records() if r.message.channel == "staff"]
        assert [m.kind for m in staff] == ["staff.handoff", "staff.handoff"]
        assert "galina@mail.ru" in staff[0].payload["text"] and "человек" in staff[0].payload["text"]
        assert len((await service.get(second)).text) == 1500
        return [first, second]
    finally:
        await db.close()


async def test_service_close_twice(config: Config) -> None:
    first, _ = await make_handoffs(config)
    db = await Database(config.database_path).open()
    try:
        service = HandoffService(db, config)
        closed = await service.close(first, "anna")
        assert closed.closed_by == "anna" and not closed.is_open
        with pytest.raises(HandoffAlreadyClosed):
            await service.close(first, "boris")
        assert [h.id for h in await service.list()] == [first + 1]
        assert len(await service.list(include_closed=True)) == 2
    finally:
        await db.close()


async def test_cli(config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                   capsys: pytest.CaptureFixture[str]) -> None:
    first, second = await make_handoffs(config)
    monkeypatch.setenv("PRIVACY_BOT__STORAGE__DATABASE", str(config.database_path))
    assert await_cli(["handoffs", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [h["id"] for h in listed] == [first, second]
    assert listed[0]["sender"] == "galina@mail.ru" and listed[0]["reason"] == "human"
    assert await_cli(["handoffs", "show", str(first)]) == 0
    shown = capsys.readouterr().out
    assert "Соедините меня с сотрудником." in shown and "<human36@mail.ru>" in shown
    assert await_cli(["handoffs", "close", str(first), "--by", "anna"]) == 0
    assert "anna" in capsys.readouterr().out
    assert await_cli(["handoffs", "close", str(first), "--by", "boris"]) == 1
    assert "anna" in capsys.readouterr().out
    assert await_cli(["handoffs", "list"]) == 0
    out = capsys.readouterr().out
    assert f"№{second}" in out and f"№{first} " not in out
    assert await_cli(["handoffs", "show", "999"]) == 1
    assert "999" in capsys.readouterr().out


def await_cli(argv: list[str]) -> int:
    # main() runs its own event loop: call it from a worker thread of this test's loop.
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(main, argv).result(timeout=60)
