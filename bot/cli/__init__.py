"""The ``privacy-bot`` command line. Each sub-command lives in its own module with ``register()``."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from bot.config import Config, ConfigError, load_config
from bot.logging_setup import setup_logging
from bot.storage.db import DatabaseUnusable

# Each module defines ``register(subparsers)``; the parser it adds sets ``handler(args, config) -> int``.
COMMAND_MODULES = (
    "bot.cli.ask",
    "bot.cli.policy",
    "bot.cli.requests",
    "bot.cli.retention",
    "bot.cli.handoffs",
    "bot.cli.examples",
    "bot.cli.run",
)


class CliError(Exception):
    """A user error: printed as one line, exit status 1."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="privacy-bot", description="Privacy inquiries bot for Telegram and email.")
    parser.add_argument("--config", metavar="PATH", help="config file (default: $PRIVACY_BOT_CONFIG or ./config.toml)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # a sub-command not built yet
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv_list = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv_list)
    if args.command is None:  # bare `privacy-bot` means `privacy-bot run`
        args = parser.parse_args([*argv_list, "run"])
    try:
        config: Config = load_config(args.config)
    except ConfigError as exc:
        print(f"privacy-bot: config error: {exc}", file=sys.stderr)
        return 2
    setup_logging(config.logging.level)
    try:
        result: int = args.handler(args, config)
    except CliError as exc:
        print(f"privacy-bot: {exc}", file=sys.stderr)
        return 1
    except DatabaseUnusable as exc:  # damaged, read-only, full: one line naming the file, never a traceback
        print(f"privacy-bot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    finally:
        logging.shutdown()
    return result
