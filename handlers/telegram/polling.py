"""Long polling with a clean stop: in-flight updates finish and are confirmed, so none is lost or replayed.

aiogram's own ``start_polling`` cancels the loop on stop without waiting for handler tasks and leaves the
last batch unconfirmed; this loop does both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot, Dispatcher
from aiogram.methods import GetUpdates

log = logging.getLogger(__name__)


class Poller:
    def __init__(self, dp: Dispatcher, bot: Bot, *, polling_timeout: int = 25, concurrency: int = 64,
                 drain_timeout: float = 20.0) -> None:
        self.dp = dp
        self.bot = bot
        self.polling_timeout = polling_timeout
        self.drain_timeout = drain_timeout
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self.handled = 0

    async def run(self, stop: asyncio.Event) -> None:
        allowed = self.dp.resolve_used_update_types()
        offset: int | None = None
        delay = 0.5
        while not stop.is_set():
            request = GetUpdates(offset=offset, timeout=self.polling_timeout, allowed_updates=allowed)
            fetch = asyncio.ensure_future(self.bot(request, request_timeout=self.polling_timeout + 15))
            stopping = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if fetch not in done:
                fetch.cancel()
                with contextlib.suppress(BaseException):
                    await fetch
                break
            stopping.cancel()
            try:
                updates = fetch.result()
            except Exception as exc:  # the Bot API being down must not stop the bot
                log.error("telegram: getUpdates failed (%s), retrying in %.1f s", type(exc).__name__, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                delay = min(delay * 2, 30.0)
                continue
            delay = 0.5
            for update in updates:
                offset = update.update_id + 1
                await self._slots.acquire()
                task = asyncio.create_task(self._handle(update))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        await self.drain()
        if offset is not None:
            # Confirm what was handled; without this Telegram would send the last batch again after a restart.
            with contextlib.suppress(Exception):
                await self.bot(GetUpdates(offset=offset, timeout=0, limit=1))

    async def _handle(self, update: object) -> None:
        try:
            await self.dp.feed_update(self.bot, update)  # type: ignore[arg-type]
        except Exception:
            log.exception("telegram: an update failed")
        finally:
            self.handled += 1
            self._slots.release()

    async def drain(self) -> None:
        if self._tasks:
            log.info("telegram: finishing %d update(s) in flight", len(self._tasks))
            await asyncio.wait(set(self._tasks), timeout=self.drain_timeout)
