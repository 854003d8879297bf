"""``privacy-bot run`` (every configured channel, or the console chat) and ``privacy-bot chat``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from bot.config import Config, ConfigError
from bot.i18n import get_translator


def register(subparsers: Any) -> None:
    run = subparsers.add_parser("run", help="run every configured channel and the workers "
                                            "(the console chat when none is configured)")
    run.add_argument("--as-staff", action="store_true", help="console chat only: act as a staff member")
    run.set_defaults(handler=_run)
    chat = subparsers.add_parser("chat", help="talk to the bot in this terminal (the same handlers as Telegram)")
    chat.add_argument("--as-staff", action="store_true", help="be a staff member in the staff chat")
    chat.set_defaults(handler=_chat)


def _run(args: argparse.Namespace, config: Config) -> int:
    from bot.app import run_app
    from bot.cli import CliError
    translate = get_translator()
    lang = config.policy.default_language
    hint = None
    if not config.telegram_enabled and not config.email.enabled:
        hint = translate(lang, "tg-console-how-to-connect")
    try:
        return asyncio.run(run_app(config, as_staff=getattr(args, "as_staff", False), console_hint=hint))
    except ConfigError as exc:  # found when a channel starts (a value Telegram's limits cannot take)
        return _config_error(exc)
    except Exception as exc:
        # Not imported up front: importing aiogram takes seconds, which a bot that cannot open its
        # database should not spend before saying so. A token error means the channel imported it.
        token = sys.modules.get("aiogram.utils.token")
        if token is not None and isinstance(exc, token.TokenValidationError):
            raise CliError(translate(lang, "tg-invalid-token")) from None
        raise


def _chat(args: argparse.Namespace, config: Config) -> int:
    from bot.app import run_app
    try:
        return asyncio.run(run_app(config, force_console=True, as_staff=args.as_staff))
    except ConfigError as exc:
        return _config_error(exc)


def _config_error(exc: ConfigError) -> int:
    print(f"privacy-bot: config error: {exc}", file=sys.stderr)  # as for an error in the file itself
    return 2
