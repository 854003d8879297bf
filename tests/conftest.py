"""Shared fixtures: a config pointing at a temporary database, loaded the way the bot loads it."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.config import REPO_ROOT, Config, load_config
from tests.servers.dovecot import DovecotServer

# Every engine the tests load (in-process, bot processes, the command line) shares fitted models: fitting
# takes seconds, loading a fitted one a fraction of one.
os.environ.setdefault("PRIVACY_ENGINE_CACHE", str(Path(tempfile.gettempdir()) / f"privacy-bot-engine-cache-{os.getuid()}"))


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Config]:
    """Build a Config from the repo's config.toml with overrides, a temp database, and given secrets."""

    def factory(overrides: dict[str, str] | None = None, **secrets: str) -> Config:
        environ = {"PRIVACY_BOT__STORAGE__DATABASE": str(tmp_path / "bot.sqlite3")}
        environ.update(overrides or {})
        environ.update({f"PRIVACY_BOT_{k.upper()}": v for k, v in secrets.items()})
        return load_config(REPO_ROOT / "config.toml", environ=environ)

    return factory


@pytest.fixture
def config(make_config: Callable[..., Config]) -> Config:
    return make_config()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """One private Dovecot for the whole session (the email and the security tests share it)."""
    # Not under pytest's tmp dir: that is 0700 and Dovecot's unprivileged processes must reach the mail.
    root = Path(tempfile.mkdtemp(prefix="privacy-bot-dovecot-"))
    server = DovecotServer(root).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
