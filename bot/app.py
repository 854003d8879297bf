"""``privacy-bot run``: the core's workers and every configured channel in one process, stopped cleanly.

With no channel configured (no Telegram token, email off) the console chat runs instead, so the bot can
be tried without Telegram. SIGTERM and Ctrl-C set one stop event: channels stop taking updates and
finish the ones in flight, the outbox worker finishes its pass, then the database is closed. SIGHUP reloads
the policy (bot/policy_reload.py); while channels run, the bot's pid is in ``privacy-bot.pid`` beside the
database (bot/pidfile.py) for ``privacy-bot policy reload``.

A database that becomes unusable while running (disk full, I/O errors, read-only, damaged) stops the bot
the same way, and ``run_app`` then raises its DatabaseUnusable: the command line prints one line and
exits 1. Nothing is lost: Telegram updates handled while it failed are not confirmed, mails not marked
processed stay unprocessed and unseen, outbox messages not marked sent are sent after the restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from typing import Any, TextIO

from bot.config import Config
from bot.outbox.base import Sender
from bot.pidfile import PidFile, pid_path, status_path
from bot.policy_reload import PolicyReloader
from bot.services import Services, build_services
from bot.storage.db import DatabaseUnusable
from bot.workers import run_workers

log = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 30.0


def _install_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


def _install_reload_signal(reloader: PolicyReloader) -> bool:
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGHUP, reloader.request)
    except (NotImplementedError, RuntimeError, AttributeError):  # no SIGHUP on this platform
        return False
    return True


def build_channels(services: Services) -> list[Any]:
    config = services.config
    channels: list[Any] = []
    if config.telegram_enabled:
        from handlers.telegram.channel import TelegramChannel
        channels.append(TelegramChannel(services))
    if config.email.enabled:
        from handlers.email.channel import EmailChannel  # the email channel is optional: imported lazily
        channels.append(EmailChannel(services))
    return channels


def collect_senders(services: Services, sources: list[Any]) -> dict[str, Sender]:
    senders: dict[str, Sender] = {}
    for source in sources:
        for sender in source.senders():
            senders[sender.channel] = sender
    if "email" not in senders:
        # Telegram's email-ownership codes go out by email even when the email channel does not read mail.
        from handlers.email.sender import EmailSender
        senders["email"] = EmailSender(services.config, services.secret, translator=services.translator)
    if "staff" not in senders:
        # No staff chat: staff work from the command line; the delivery is recorded as done.
        from bot.outbox.recording import RecordingSender
        senders["staff"] = RecordingSender("staff", keep_in_memory=False)
    return senders


async def _run(services: Services, runners: list[Any], senders: dict[str, Sender] | None,
               stop: asyncio.Event, *, elsewhere: frozenset[str] = frozenset()) -> bool:
    """Run until ``stop``, until a part fails or until the database becomes unusable; True when
    everything ended cleanly.

    ``senders=None`` runs no workers (the outbox is left to the bot process that owns the channels);
    ``elsewhere`` names channels another process delivers (the other console view), not a missing sender.
    """
    tasks = [] if senders is None else [asyncio.create_task(run_workers(services, senders, stop, elsewhere=elsewhere),
                                                            name="workers")]
    tasks += [asyncio.create_task(runner.run(stop), name=type(runner).__name__) for runner in runners]
    stopping = asyncio.create_task(stop.wait())
    # Every part catches its own errors to keep going; a failing file would have them retry for ever.
    failing = asyncio.create_task(services.db.wait_unusable())
    try:
        done, _ = await asyncio.wait([*tasks, stopping, failing], return_when=asyncio.FIRST_COMPLETED)
        ok = True
        for task in done:
            if task in (stopping, failing):
                continue
            if task.exception() is not None:
                _log_failure(task, "stopped with an error")
                ok = False
        stop.set()
        log.info("stopping: finishing work in flight")
        finished, unfinished = await asyncio.wait(tasks, timeout=STOP_TIMEOUT_SECONDS) if tasks else (set(), set())
        for task in unfinished:
            log.warning("%s did not stop in time; cancelled", task.get_name())
            task.cancel()
            ok = False
        for task in finished:
            if not task.cancelled() and task.exception() is not None and task not in done:
                _log_failure(task, "failed while stopping")
                ok = False
        return ok and services.db.failure is None
    finally:
        stopping.cancel()
        failing.cancel()


def _log_failure(task: asyncio.Task[Any], what: str) -> None:
    error = task.exception()
    if isinstance(error, DatabaseUnusable):
        return  # reported once, by run_app's caller
    log.error("%s %s", task.get_name(), what, exc_info=error)


async def run_app(config: Config, *, force_console: bool = False, as_staff: bool = False,
                  stdin: TextIO | None = None, out: TextIO | None = None, console_hint: str | None = None) -> int:
    """``console_hint`` goes to stderr once the services are up, so a database that cannot be opened is
    reported alone."""
    console_mode = force_console or not (config.telegram_enabled or config.email.enabled)
    if console_mode:
        # The terminal is the chat: routine INFO lines would interleave with it.
        root = logging.getLogger()
        root.setLevel(max(root.level, logging.WARNING))
    services = await build_services(config)
    if console_hint:
        print(console_hint, file=sys.stderr)
    stop = asyncio.Event()
    _install_signals(stop)
    try:
        channels = [] if console_mode else build_channels(services)
        if channels:
            names = ", ".join(type(c).__name__ for c in channels)
            log.info("running: %s", names)
            # Staff hear of a policy the bot has not run with before (once: recorded with the notice).
            reloader = PolicyReloader(services, status_file=status_path(config.database_path))
            await reloader.record_start()
            pid_file = PidFile(pid_path(config.database_path))
            # The handler first: a SIGHUP sent as soon as the pid file names us must not end the process.
            if _install_reload_signal(reloader):
                try:
                    if not pid_file.acquire():
                        log.warning("another bot holds %s: `privacy-bot policy reload` reaches that one, not this "
                                    "one", pid_file.path)
                except OSError as exc:
                    log.warning("cannot write %s (%s): reload this bot with kill -HUP %d", pid_file.path,
                                exc.strerror, os.getpid())
            try:
                ok = await _run(services, [*channels, reloader], collect_senders(services, channels), stop)
            finally:
                if pid_file.held:
                    pid_file.release()
                    with contextlib.suppress(OSError):
                        status_path(config.database_path).unlink()
        else:
            from handlers.telegram.console import ConsoleChat
            console = ConsoleChat(services, as_staff=as_staff, stdin=stdin, out=out or sys.stdout)
            console_senders: dict[str, Sender] | None = None
            if not (config.telegram_enabled or config.email.enabled):
                # Only what this view shows; the other view's messages wait for its console.
                console_senders = {s.channel: s for s in console.senders()}
            # Otherwise this is `privacy-bot chat` beside a configured bot, which delivers the outbox: a
            # console worker would take Telegram messages meant for real people and print them nowhere.
            console.settle = console_senders is not None
            if console_senders is not None:  # the console is the bot here: it records the policy it runs with
                await PolicyReloader(services).record_start()
            ok = await _run(services, [console], console_senders, stop, elsewhere=console.elsewhere())
    finally:
        await services.close()
    if services.db.failure is not None:
        raise services.db.failure
    return 0 if ok else 1
