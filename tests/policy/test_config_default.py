"""The engine's threshold default in the config model is the value config.toml documents."""

from __future__ import annotations

import tomllib

from bot.config import REPO_ROOT, PolicyConfig


def test_min_confidence_default_matches_config_toml() -> None:
    documented = tomllib.loads((REPO_ROOT / "config.toml").read_text(encoding="utf-8"))["policy"]["min_confidence"]
    assert PolicyConfig().min_confidence == documented
