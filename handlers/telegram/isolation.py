"""One update at a time per chat, shared by the dispatcher and the outbox's senders.

The dispatcher handles a chat's updates one after another; a sender delivering an outbox message to a
person's chat waits for the update in flight there (briefly), so what a handler sends directly always
comes before the notifications its core call caused ("sent; the number follows" before the number).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Hashable

from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey

log = logging.getLogger(__name__)

# How long an outbox send waits for a chat's update in flight before it goes anyway: order is worth a
# short wait, never a stuck delivery.
TURN_WAIT_SECONDS = 10.0


class ChatEventIsolation(BaseEventIsolation):
    """One update at a time per chat and person, with a lock only while someone holds or waits for it.

    aiogram's SimpleEventIsolation keeps a lock for every key it ever saw (a few hundred bytes per person,
    never released); here a key's lock goes away with its last user, so memory follows the updates in
    flight, not the number of people who ever wrote.
    """

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, list[int]]] = {}

    @contextlib.asynccontextmanager
    async def lock(self, key: StorageKey, within: float | None = None) -> AsyncGenerator[None, None]:
        """Hold the chat; with ``within``, go on without it once that many seconds have passed."""
        entry = self._locks.get(key)
        if entry is None:
            entry = self._locks[key] = (asyncio.Lock(), [0])
        lock, users = entry
        users[0] += 1
        try:
            acquired = False
            try:
                async with asyncio.timeout(within):
                    await lock.acquire()
                acquired = True
            except TimeoutError:
                if within is None:
                    raise
                log.warning("telegram: a chat's update took over %.0f s; a notification goes out beside it", within)
            try:
                yield
            finally:
                if acquired:
                    lock.release()
        finally:
            users[0] -= 1
            if not users[0]:
                del self._locks[key]

    @property
    def keys_held(self) -> int:
        """Keys with a lock now (no __len__: aiogram tests the isolation for truth, and 0 would be falsy)."""
        return len(self._locks)

    async def close(self) -> None:
        self._locks.clear()
