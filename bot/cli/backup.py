"""``privacy-bot backup [PATH]`` and ``privacy-bot restore PATH`` (bot/backup.py)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.backup import back_up, restore
from bot.config import Config
from bot.i18n import get_translator
from bot.storage.backup import BackupFailed


def register(subparsers: Any) -> None:
    backup = subparsers.add_parser(
        "backup", help="copy the database now, also while the bot runs, and check the copy")
    backup.add_argument("path", nargs="?", type=Path, metavar="PATH",
                        help="file or folder to write (default: [backup] folder, then the oldest copies "
                             "beyond [backup] keep are deleted)")
    backup.set_defaults(handler=_backup)
    restore_parser = subparsers.add_parser(
        "restore", help="replace the database with a backup (the bot must be stopped; the replaced file is kept)")
    restore_parser.add_argument("path", type=Path, metavar="PATH", help="the backup to restore")
    restore_parser.set_defaults(handler=_restore)


def _failed(exc: BackupFailed, lang: str) -> Exception:
    from bot.cli import CliError
    return CliError(get_translator()(lang, exc.message_id, **exc.args_))


def _backup(args: argparse.Namespace, config: Config) -> int:
    lang = config.policy.default_language
    try:
        result = back_up(config, args.path)
    except BackupFailed as exc:
        raise _failed(exc, lang) from None
    t = get_translator()
    print(t(lang, "backup-done", path=str(result.path), requests=result.snapshot.count("requests"),
            events=result.snapshot.count("request_audit")))
    if result.removed:
        print(t(lang, "backup-rotated", count=len(result.removed), keep=config.backup.keep))
    return 0


def _restore(args: argparse.Namespace, config: Config) -> int:
    lang = config.policy.default_language
    try:
        result = restore(config, args.path)
    except BackupFailed as exc:
        raise _failed(exc, lang) from None
    t = get_translator()
    print(t(lang, "restore-done", database=str(result.database), path=str(args.path),
            requests=result.snapshot.count("requests"), events=result.snapshot.count("request_audit")))
    if result.replaced is not None:
        print(t(lang, "restore-replaced", path=str(result.replaced)))
    if result.pending:
        print(t(lang, "restore-older", count=len(result.pending)))
    return 0
