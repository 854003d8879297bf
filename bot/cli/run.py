"""``privacy-bot run`` / ``privacy-bot chat``: placeholder until the channel issues land."""

from __future__ import annotations

import argparse
from typing import Any

from bot.config import Config


def register(subparsers: Any) -> None:
    run = subparsers.add_parser("run", help="run every configured channel and the workers")
    run.set_defaults(handler=_run)


def _run(args: argparse.Namespace, config: Config) -> int:
    print("No channel is configured yet: set PRIVACY_BOT_TELEGRAM_TOKEN or [email] enabled = true.")
    return 0
