"""The ``privacy-bot`` command line. Each sub-command lives in its own module with ``register()``."""

from __future__ import annotations

import argparse
import importlib
import logging
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

from bot.config import Config, ConfigError, load_config
from bot.i18n import get_translator
from bot.logging_setup import setup_logging
from bot.storage.db import DatabaseUnusable

# Each module defines ``register(subparsers)``; the parser it adds sets ``handler(args, config) -> int``.
COMMAND_MODULES = (
    "bot.cli.ask",
    "bot.cli.policy",
    "bot.cli.requests",
    "bot.cli.retention",
    "bot.cli.backup",
    "bot.cli.handoffs",
    "bot.cli.examples",
    "bot.cli.run",
)


class CliError(Exception):
    """A user error: printed as one line, exit status 1."""


# argparse's own complaints, read back so they can be said in the run's language (bot/locales/*/core.ftl).
_ARGPARSE_ERRORS = (
    (re.compile(r"^argument (?P<argument>\S+): invalid choice: '(?P<value>[^']*)' \(choose from (?P<known>.*)\)$"),
     "cli-arg-invalid-choice"),
    (re.compile(r"^the following arguments are required: (?P<argument>.*)$"), "cli-arg-required"),
    (re.compile(r"^unrecognized arguments: (?P<value>.*)$"), "cli-arg-unrecognized"),
    (re.compile(r"^argument (?P<argument>\S+): expected one argument$"), "cli-arg-expected-one"),
    (re.compile(r"^argument (?P<argument>\S+): invalid \S+ value: '(?P<value>[^']*)'$"), "cli-arg-invalid-value"),
)


def cli_language(argv: Sequence[str]) -> str:
    """The one language of a run: the configured default language (English if the config cannot be read)."""
    path = None
    for index, arg in enumerate(argv):
        if arg == "--config" and index + 1 < len(argv):
            path = argv[index + 1]
        elif arg.startswith("--config="):
            path = arg.split("=", 1)[1]
    try:
        return load_config(path).policy.default_language
    except ConfigError:
        return "en"


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line in the run's language."""

    lang = "en"

    def error(self, message: str) -> NoReturn:
        for pattern, message_id in _ARGPARSE_ERRORS:
            found = pattern.match(message)
            if found:
                message = get_translator()(self.lang, message_id, **{k: v for k, v in found.groupdict().items()})
                break
        print(f"{self.prog}: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="privacy-bot", description="Privacy inquiries bot for Telegram and email.")
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


def _unusable_line(exc: DatabaseUnusable, lang: str) -> str:
    if exc.message_id is None:
        return str(exc)
    from bot.storage.backup import BackupFailed
    translate = get_translator()
    args = dict(exc.message_args)
    if isinstance(exc.detail, BackupFailed):
        args["reason"] = translate(lang, exc.detail.message_id, **exc.detail.args_)
    return translate(lang, exc.message_id, database=str(exc.path), **args)


def main(argv: Sequence[str] | None = None) -> int:
    argv_list = list(sys.argv[1:] if argv is None else argv)
    Parser.lang = cli_language(argv_list)
    parser = build_parser()
    args = parser.parse_args(argv_list)
    if args.command is None:  # bare `privacy-bot` means `privacy-bot run`
        args = parser.parse_args([*argv_list, "run"])
    try:
        config: Config = load_config(args.config)
    except ConfigError as exc:
        print(f"privacy-bot: {get_translator()(Parser.lang, 'cli-config-error', problem=str(exc))}", file=sys.stderr)
        return 2
    setup_logging(config.logging.level)
    try:
        result: int = args.handler(args, config)
    except CliError as exc:
        print(f"privacy-bot: {exc}", file=sys.stderr)
        return 1
    except DatabaseUnusable as exc:  # damaged, read-only, full: one line naming the file, never a traceback
        print(f"privacy-bot: {_unusable_line(exc, config.policy.default_language)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    finally:
        logging.shutdown()
    return result
