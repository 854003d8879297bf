"""Background work of the running bot: outbox delivery, deadline reminders, retention, learning what staff
decided at the command line, and the daily backup, side by side."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping

from bot.backup import BackupJob
from bot.learning import CATCH_UP_SECONDS
from bot.outbox.base import Sender
from bot.outbox.worker import OutboxWorker
from bot.retention import RetentionJob
from bot.services import Services
from bot.verification import CODE_KIND, CodeMail, VerificationCodes

log = logging.getLogger(__name__)

REMINDER_CHECK_SECONDS = 3600.0  # reminders are once a day per request; an hourly look is enough


async def _every(seconds: float, job: Callable[[], Awaitable[object]], stop: asyncio.Event, name: str) -> None:
    while not stop.is_set():
        try:
            await job()
        except Exception:  # one failed pass must not stop the bot; the next pass tries again
            log.exception("%s: pass failed", name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)


async def run_workers(services: Services, senders: Mapping[str, Sender], stop: asyncio.Event, *,
                      reminder_seconds: float = REMINDER_CHECK_SECONDS, elsewhere: frozenset[str] = frozenset()) -> None:
    """Run until ``stop`` is set. ``elsewhere``: channels another process delivers (no warning that they wait)."""
    codes = VerificationCodes(services.db, services.config.telegram, services.secret)
    worker = OutboxWorker(services.db, senders, services.config, repository=services.outbox,
                          audit=services.audit, translator=services.translator,
                          fillers={CODE_KIND: CodeMail(codes, services.translator)}, elsewhere=elsewhere)
    retention = RetentionJob(services.db, services.config, audit=services.audit, outbox=services.outbox)
    await asyncio.gather(
        worker.run(stop),
        _every(reminder_seconds, services.requests.remind, stop, "reminders"),
        _every(services.config.retention.run_every_hours * 3600.0, retention.run, stop, "retention"),
        _every(CATCH_UP_SECONDS, services.learning.catch_up, stop, "learning"),
        BackupJob(services.config).run(stop),  # logs its own failures; the bot runs on
    )
