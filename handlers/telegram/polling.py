"""Long polling with a clean stop: in-flight updates finish and are confirmed, so none is lost or replayed.

aiogram's own ``start_polling`` cancels the loop on stop without waiting for handler tasks and leaves the
last batch unconfirmed; this loop does both.

The offset sent to getUpdates is what confirms updates to Telegram, which then forgets everything below
it. So it never passes an update still being handled, nor one handled while the database was failing
(``healthy()`` false when it finished): those come again after a restart. Telegram answers at once while
unconfirmed updates remain, so when a batch holds nothing new the loop waits for a handler to finish
before asking again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from aiogram import Bot, Dispatcher
from aiogram.methods import GetUpdates
from aiogram.types import Update

from bot.storage.db import DatabaseUnusable

log = logging.getLogger(__name__)

# While only unfinished updates come back, ask again after a handler finishes or after this long
# (new updates still arrive while one handler takes its time).
REPEAT_WAIT_SECONDS = 1.0


class Poller:
    def __init__(self, dp: Dispatcher, bot: Bot, *, polling_timeout: int = 25, concurrency: int = 64,
                 drain_timeout: float = 20.0, healthy: Callable[[], bool] = lambda: True) -> None:
        self.dp = dp
        self.bot = bot
        self.polling_timeout = polling_timeout
        self.drain_timeout = drain_timeout
        self.healthy = healthy
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight: set[int] = set()
        self._last: int | None = None  # the highest update id taken
        self._unconfirmed: int | None = None  # the lowest update id handled while the database failed
        self._progress = asyncio.Event()
        self.handled = 0

    def offset(self) -> int | None:
        """The getUpdates offset that confirms exactly the updates handled to the end."""
        if self._last is None:
            return None
        held = [*self._in_flight, *(() if self._unconfirmed is None else (self._unconfirmed,))]
        return min([self._last + 1, *held])

    async def run(self, stop: asyncio.Event) -> None:
        allowed = self.dp.resolve_used_update_types()
        delay = 0.5
        while not stop.is_set():
            request = GetUpdates(offset=self.offset(), timeout=self.polling_timeout, allowed_updates=allowed)
            self._progress.clear()
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
            fresh = [u for u in updates if self._last is None or u.update_id > self._last]
            if updates and not fresh:
                await self._wait_for_progress(stop)
                continue
            for update in fresh:
                self._last = update.update_id
                await self._slots.acquire()
                self._in_flight.add(update.update_id)
                task = asyncio.create_task(self._handle(update))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        await self.drain()
        offset = self.offset()
        if offset is not None:
            # Confirm what was handled; without this Telegram would send the last batch again after a restart.
            with contextlib.suppress(Exception):
                await self.bot(GetUpdates(offset=offset, timeout=0, limit=1))

    async def _wait_for_progress(self, stop: asyncio.Event) -> None:
        waiters = {asyncio.ensure_future(self._progress.wait()), asyncio.ensure_future(stop.wait())}
        try:
            await asyncio.wait(waiters, timeout=REPEAT_WAIT_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _handle(self, update: Update) -> None:
        try:
            await self.dp.feed_update(self.bot, update)
        except DatabaseUnusable:
            pass  # the bot is stopping; the failure is reported once, as it exits
        except Exception:
            log.exception("telegram: an update failed")
        finally:
            if not self.healthy():
                # Not done: left unconfirmed so it is handled again after a restart.
                if self._unconfirmed is None or update.update_id < self._unconfirmed:
                    self._unconfirmed = update.update_id
            self._in_flight.discard(update.update_id)
            self.handled += 1
            self._slots.release()
            self._progress.set()

    async def drain(self) -> None:
        if self._tasks:
            log.info("telegram: finishing %d update(s) in flight", len(self._tasks))
            await asyncio.wait(set(self._tasks), timeout=self.drain_timeout)
