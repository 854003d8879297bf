"""The channel's own timed work: reminding a person who has not typed their email code yet (people give
up at this step). Retention of the channel's tables is the core's (bot/storage/retention_repo.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from handlers.telegram.deps import TelegramDeps
from handlers.telegram.texts import Texts

log = logging.getLogger(__name__)


async def send_code_reminders(deps: TelegramDeps) -> int:
    sent = 0
    for stalled in await deps.codes.stalled():
        if not stalled.subject.startswith("tg:"):
            continue
        user_id = int(stalled.subject[3:])
        lang = await deps.repo.user_language(user_id) or deps.config.policy.default_language
        t = Texts(deps.translator, lang)
        async with deps.services.db.transaction() as conn:
            await deps.codes.mark_reminded(conn, stalled.subject)
            await deps.services.outbox.enqueue(
                conn, channel="telegram", recipient=str(user_id), kind="verification.reminder",
                payload={"text": t("tg-code-reminder"), "lang": lang, "kind": "verification.reminder"})
        sent += 1
    return sent


async def run_code_reminders(deps: TelegramDeps, stop: asyncio.Event, every: float = 30.0) -> None:
    while not stop.is_set():
        try:
            await send_code_reminders(deps)
        except Exception:
            log.exception("telegram: timed work failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
