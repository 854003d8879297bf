"""``privacy-bot policy``: the sections as loaded (``list``, ``show``), the owner's check of an edited folder
(``check``) and the reload of the running bot's policy (``reload``)."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.config import Config, ConfigError
from bot.i18n import Translator, format_date, get_translator
from bot.pidfile import find_running_bot, pid_path, read_status, status_path
from bot.policy import PolicyLoadError
from bot.policy.check import check_policy
from bot.policy.loader import load_policy
from bot.policy.snapshot import PolicySnapshot, describe, diff
from bot.storage.policy_repo import SNAPSHOT_META_KEY, parse_snapshot

RELOAD_WAIT_SECONDS = 120.0
RELOAD_POLL_SECONDS = 0.2


def register(subparsers: Any) -> None:
    policy = subparsers.add_parser("policy", help="list, show or check the policy sections; reload the running bot's")
    actions = policy.add_subparsers(dest="policy_action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list the sections (id, title)")
    listing.add_argument("--lang", choices=("ru", "en"), help="language (default: [policy] default_language)")
    listing.set_defaults(handler=_list)
    show = actions.add_parser("show", help="print one section")
    show.add_argument("id", help="section id, e.g. personal-data")
    show.add_argument("--lang", choices=("ru", "en"), help="language (default: [policy] default_language)")
    show.set_defaults(handler=_show)
    check = actions.add_parser("check", help="report every problem of an edited policy folder, and what changed "
                                             "since the version the bot last ran (exit 1 on any problem)")
    check.add_argument("folder", nargs="?", help="policy folder (default: [policy] directory)")
    check.set_defaults(handler=_check)
    reload = actions.add_parser("reload", help="make the running bot load the policy folder again (SIGHUP), "
                                               "and wait for its answer")
    reload.add_argument("--wait", type=float, default=RELOAD_WAIT_SECONDS, metavar="SECONDS",
                        help=f"how long to wait for the bot's answer (default {RELOAD_WAIT_SECONDS:g})")
    reload.set_defaults(handler=_reload)


def _load(config: Config) -> Any:
    from bot.cli import CliError

    try:
        return load_policy(config.policy_directory)
    except PolicyLoadError as exc:
        raise CliError(f"policy: {exc}") from None


def _list(args: argparse.Namespace, config: Config) -> int:
    policy = _load(config)
    lang = args.lang or config.policy.default_language
    t = get_translator()
    print(t(lang, "policy-list-header", language=lang))
    for section in policy.sections[lang]:
        indent = "    " if section.parent else "  "
        print(f"{indent}{section.id:<22} {section.title}")
    print(t(lang, "policy-version-label", version=policy.version, date=format_date(lang, policy.effective_date)))
    return 0


def _show(args: argparse.Namespace, config: Config) -> int:
    from bot.cli import CliError

    policy = _load(config)
    lang = args.lang or config.policy.default_language
    section = policy.section(lang, args.id)
    if section is None:
        known = ", ".join(s.id for s in policy.sections[lang])
        raise CliError(f"no policy section {args.id!r}; known ids: {known}")
    t = get_translator()
    print(section.title)
    print()
    print(section.text)
    print()
    print(t(lang, "policy-version-label", version=policy.version, date=format_date(lang, policy.effective_date)))
    return 0


# ----- policy check ---------------------------------------------------------------------------------

def _check(args: argparse.Namespace, config: Config) -> int:
    folder = Path(args.folder) if args.folder else config.policy_directory
    lang = config.policy.default_language
    t = get_translator()
    result = check_policy(folder, section_id_check=_button_check(config) if config.telegram_enabled else None)
    for problem in result.problems:
        print(problem.render(t, lang))
    for older in result.notes:
        print(older.render(t, lang))
    print(t(lang, "policy-check-summary", count=len(result.problems)))
    print()
    print(t(lang, "policy-check-folder", folder=str(folder), version=result.version,
            date=format_date(lang, result.effective_date) if result.effective_date else "?"))
    recorded, note = _recorded_snapshot(config, t, lang)
    if recorded is None:
        print(note)
    else:
        change = diff(recorded, result.snapshot())
        if not change.version_changed and not change.sections_changed:
            print(t(lang, "policy-check-no-changes", old_version=recorded.version,
                    old_date=format_date(lang, recorded.effective_date)))
        else:
            print(t(lang, "policy-check-changes", old_version=recorded.version,
                    old_date=format_date(lang, recorded.effective_date)))
            for line in describe(change, t, lang):
                print(f"  {line}")
    return 1 if result.problems else 0


def _button_check(config: Config) -> Callable[[str], str | None]:
    """Telegram's limit on a button's data, as the bot applies it at start and on reload."""
    from handlers.telegram.limits import check_callback_capacity

    def check(section_id: str) -> str | None:
        try:
            check_callback_capacity(get_translator(), config.policy.default_language,
                                    request_id_prefix=config.requests.id_prefix, section_ids=[section_id])
        except ConfigError as exc:
            return str(exc)
        return None

    return check


def _recorded_snapshot(config: Config, t: Translator, lang: str) -> tuple[PolicySnapshot | None, str]:
    """The policy the bot last ran with (read-only: a running bot's database is not disturbed), or why not."""
    database = config.database_path
    never = t(lang, "policy-check-never-ran", database=str(database))
    if not database.exists():
        return None, never
    try:
        with contextlib.closing(sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True,
                                                timeout=10)) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (SNAPSHOT_META_KEY,)).fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None, never
        return None, t(lang, "policy-check-database-unreadable", database=str(database), problem=str(exc))
    except sqlite3.Error as exc:
        return None, t(lang, "policy-check-database-unreadable", database=str(database), problem=str(exc))
    snapshot = parse_snapshot(str(row[0])) if row else None
    return snapshot, "" if snapshot is not None else never


# ----- policy reload --------------------------------------------------------------------------------

def _reload(args: argparse.Namespace, config: Config) -> int:
    from bot.cli import CliError

    lang = config.policy.default_language
    t = get_translator()
    pid_file = pid_path(config.database_path)
    found = find_running_bot(pid_file)
    if found.pid is None:
        if found.stale_pid is not None:
            raise CliError(t(lang, "policy-reload-stale", path=str(pid_file), pid=found.stale_pid))
        raise CliError(t(lang, "policy-reload-no-bot", path=str(pid_file)))
    pid = found.pid
    status_file = status_path(config.database_path)
    asked_at = time.time()
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        raise CliError(t(lang, "policy-reload-stale", path=str(pid_file), pid=pid)) from None
    print(t(lang, "policy-reload-waiting", pid=pid, folder=str(config.policy_directory)), flush=True)
    deadline = time.monotonic() + args.wait
    while True:
        status = read_status(status_file)
        # Only an attempt begun after the signal: one under way then read the folder too early.
        if status is not None and status.get("pid") == pid and float(status.get("started", 0)) >= asked_at:
            break
        if find_running_bot(pid_file).pid != pid:
            raise CliError(t(lang, "policy-reload-stopped", pid=pid))
        if time.monotonic() > deadline:
            raise CliError(t(lang, "policy-reload-timeout", pid=pid, seconds=round(args.wait)))
        time.sleep(RELOAD_POLL_SECONDS)
    if not status.get("ok"):
        raise CliError(t(lang, "policy-reload-failed", pid=pid, version=str(status.get("version", "?")),
                         error=str(status.get("error", ""))))
    print(t(lang, "policy-reload-done", pid=pid, version=str(status.get("version")),
            date=format_date(lang, str(status.get("effective_date")))))
    if status.get("version_changed") and status.get("previous_version"):
        print(t(lang, "policy-reload-was", old_version=str(status["previous_version"])))
    for line in status.get("changes") or []:
        print(f"  {line}")
    return 0
