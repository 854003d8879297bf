"""A small bounded least-recently-used map: the one shape every per-person cache in the bot takes.

Caches keyed by a person (their language, their conversation state, their flood counter) must not grow
with the number of people who ever wrote: an unbounded dict costs about a kilobyte per person, forever.
A cache is only a shortcut; what it holds is either in the database (a miss reads it) or worthless once
old (a flood counter of a minute ago).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

# Entries per per-person cache. A small company's bot has far fewer than a thousand people active within
# a few minutes; beyond them a miss costs one indexed SQLite read (tens of microseconds). At most about
# 0.5 KB an entry, each cache stays under 1 MB however many people write.
PER_PERSON_ENTRIES = 1024


class BoundedLRU(Generic[K, V]):
    """At most ``max_entries`` items; setting one past the bound drops the least recently used."""

    __slots__ = ("_items", "max_entries")

    def __init__(self, max_entries: int = PER_PERSON_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K, default: V | None = None) -> V | None:
        """The value, marked as just used."""
        try:
            self._items.move_to_end(key)
        except KeyError:
            return default
        return self._items[key]

    def peek(self, key: K, default: V | None = None) -> V | None:
        """The value, leaving its place in the order alone."""
        return self._items.get(key, default)

    def __getitem__(self, key: K) -> V:
        self._items.move_to_end(key)
        return self._items[key]

    def __setitem__(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.max_entries:
            self._items.popitem(last=False)

    def pop(self, key: K, default: V | None = None) -> V | None:
        return self._items.pop(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._items))

    def drop_oldest_while(self, stale: Callable[[V], bool]) -> int:
        """Drop entries from the least recently used end while ``stale(value)``; how many were dropped."""
        dropped = 0
        while self._items:
            key = next(iter(self._items))
            if not stale(self._items[key]):
                break
            del self._items[key]
            dropped += 1
        return dropped

    def drop_where(self, doomed: Callable[[K], bool]) -> int:
        """Drop every entry whose key matches (e.g. all of one person's)."""
        keys = [key for key in self._items if doomed(key)]
        for key in keys:
            del self._items[key]
        return len(keys)

    def clear(self) -> None:
        self._items.clear()
