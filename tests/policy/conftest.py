"""One engine for the policy tests: loading it (dictionaries, examples) is the slow part."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.config import REPO_ROOT, load_config
from bot.policy import PolicyEngine

POLICY_DIR = REPO_ROOT / "policy_text"
URL = "https://jetbit.ru/policy/"


@pytest.fixture(scope="session")
def engine() -> PolicyEngine:
    # The threshold the product runs with (config.toml), so the tests judge what people get.
    return PolicyEngine.load(POLICY_DIR, url=URL,
                             min_confidence=load_config(REPO_ROOT / "config.toml", environ={}).policy.min_confidence)


@pytest.fixture
def policy_copy(tmp_path: Path) -> Path:
    """A private copy of policy_text/ that a test may edit or break."""
    target = tmp_path / "policy_text"
    shutil.copytree(POLICY_DIR, target)
    return target
