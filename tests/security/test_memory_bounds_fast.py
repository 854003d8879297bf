"""Memory per person is bounded, checked fast: thousands of distinct people through the real dispatcher.

Every per-person cache (flood limiter, profiles, FSM storage, event locks) stays within its bound, the
Python heap stops growing once the caches are full, and what a cache forgets is read back from the
database.
"""

from __future__ import annotations

import gc
import tracemalloc

from bot.lru import PER_PERSON_ENTRIES, BoundedLRU
from handlers.telegram.isolation import ChatEventIsolation
from handlers.telegram.middlewares import FloodLimiter, GuardMiddleware
from tests.telegram import conftest as telegram_harness
from tests.telegram.conftest import Harness

# The handler-test fixtures of tests/telegram (the real dispatcher on a temporary database).
policy_engine = telegram_harness.policy_engine
telegram_config = telegram_harness.telegram_config
harness = telegram_harness.harness

FIRST_USER = 20_000_000
# Enough people to fill every cache and let its table settle at its final size (measured: about 1,200).
WARM_UP_USERS = 1_500
MEASURED_USERS = 2_000
# Before the caches were bounded this was about 1.2 KB per person; what is left is measurement noise.
MAX_HEAP_GROWTH_PER_USER_BYTES = 16


def _guard(harness: Harness) -> GuardMiddleware:
    found = [m for m in harness.dp.message.outer_middleware if isinstance(m, GuardMiddleware)]
    assert len(found) == 1
    return found[0]


async def _distinct_users(harness: Harness, first: int, count: int) -> None:
    """``count`` people who never wrote before: half type a command, half press a menu button."""
    for offset in range(count):
        user_id = first + offset
        if offset % 2:
            await harness.send(user_id, "/help", lang="en")
        else:
            await harness.press(user_id, "m:ask")
        if offset % 200 == 0:  # the recording session's own log is not the bot's memory
            harness.session.requests.clear()
            harness.session.results.clear()
    harness.session.requests.clear()
    harness.session.results.clear()


def _traced_now() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


async def test_caches_stay_bounded_and_the_heap_stops_growing(harness: Harness) -> None:
    guard = _guard(harness)
    isolation = harness.dp.fsm.events_isolation
    assert isinstance(isolation, ChatEventIsolation)
    caches: dict[str, BoundedLRU[object, object]] = {
        "flood hits": guard.flood.hits, "flood warnings": guard.flood.warned,  # type: ignore[dict-item]
        "profiles": harness.deps.repo._profiles, "fsm": harness.deps.storage._cache,  # type: ignore[dict-item]
    }
    tracemalloc.start(1)
    try:
        await _distinct_users(harness, FIRST_USER, WARM_UP_USERS)
        before = _traced_now()
        await _distinct_users(harness, FIRST_USER + WARM_UP_USERS, MEASURED_USERS)
        after = _traced_now()
    finally:
        tracemalloc.stop()
    growth = (after - before) / MEASURED_USERS
    print(f"traced heap {before} -> {after} bytes over {MEASURED_USERS} distinct users: {growth:.1f} bytes each")
    assert growth < MAX_HEAP_GROWTH_PER_USER_BYTES
    for name, cache in caches.items():
        assert len(cache) <= PER_PERSON_ENTRIES, name
    assert len(guard.flood.hits) == PER_PERSON_ENTRIES  # full: the bound, not a lack of traffic, held it
    assert len(harness.deps.repo._profiles) == PER_PERSON_ENTRIES
    assert isolation.keys_held == 0  # no lock outlives the updates that needed it
    # Everyone got their answer.
    assert not harness.session.refusals


async def test_a_forgotten_cache_entry_is_read_back_from_the_database(harness: Harness) -> None:
    person = 31_000_001
    # The person chooses English and starts a deletion flow (its state is in the FSM table).
    await harness.press(person, "l:en", lang="ru")
    await harness.send(person, "/start", lang="ru")
    assert "privacy assistant" in harness.last_text(person)
    await harness.press(person, "m:deletion", lang="ru")
    assert "Skip" in harness.last_buttons(person)
    # So many others write that the person's entries leave every cache.
    await _distinct_users(harness, 32_000_000, PER_PERSON_ENTRIES + 50)
    assert person not in harness.deps.repo._profiles
    assert all(key[2] != person for key in harness.deps.storage._cache)
    # Their language and their place in the flow come back from the database.
    await harness.send(person, "only my phone number", lang="ru")
    assert "email address or phone number" in harness.last_text(person)
    # A person who blocked the bot is still blocked after their entry was evicted and they chose a language.
    blocked = 31_000_002
    await harness.deps.repo.mark_blocked(blocked)
    await _distinct_users(harness, 33_000_000, PER_PERSON_ENTRIES + 50)
    await harness.deps.repo.set_language(blocked, blocked, "en")
    assert await harness.deps.repo.is_blocked(blocked)
    assert (await harness.deps.repo._profile(blocked)) == ("en", True)


def test_flood_limiter_forgets_people_quiet_for_a_window_and_holds_at_most_its_bound() -> None:
    now = [1000.0]
    limiter = FloodLimiter(limit=3, window_seconds=60, max_people=100, clock=lambda: now[0])
    for user_id in range(50):
        assert not limiter.hit(user_id)
    assert len(limiter.hits) == 50
    now[0] += 61
    assert not limiter.hit(999)
    assert len(limiter.hits) == 1  # everyone quiet for a whole window is gone
    for user_id in range(500):
        limiter.hit(user_id)
    assert len(limiter.hits) == 100
    # The limit itself still holds: a fourth message within the window is one too many, and the
    # warning comes once per window.
    flooder = 7777
    assert [limiter.hit(flooder) for _ in range(5)] == [False, False, False, True, True]
    assert len(limiter.hits.peek(flooder) or []) == 3  # no more than limit hits kept (dropped ones do not count)
    assert limiter.should_warn(flooder) and not limiter.should_warn(flooder)
    now[0] += 61
    assert not limiter.hit(flooder) and limiter.should_warn(flooder)
    assert len(limiter.warned) == 1


def test_flood_notice_says_when_and_that_time_holds_whatever_is_sent_meanwhile() -> None:
    now = [0.0]
    limiter = FloodLimiter(limit=3, window_seconds=60, clock=lambda: now[0])
    for at in (0.0, 10.0, 20.0):
        now[0] = at
        assert not limiter.hit(1)
    now[0] = 25.0
    assert limiter.hit(1) and limiter.retry_in(1) == 35.0  # the first hit leaves the window at 60
    assert limiter.should_warn(1)
    for at in (30.0, 40.0, 59.0):  # hammering on: dropped, not counted, not warned again
        now[0] = at
        assert limiter.hit(1) and not limiter.should_warn(1)
    assert limiter.retry_in(1) == 1.0
    now[0] = 60.0  # when the notice said: taken
    assert not limiter.hit(1)
    now[0] = 61.0  # over again (three within the minute): a new stretch, a new notice
    assert limiter.hit(1) and limiter.retry_in(1) == 9.0 and limiter.should_warn(1)


async def test_event_locks_are_released_and_still_serialise_one_chat() -> None:
    import asyncio

    from aiogram.fsm.storage.base import StorageKey

    isolation = ChatEventIsolation()
    key = StorageKey(bot_id=1, chat_id=2, user_id=2)
    order: list[str] = []

    async def update(name: str) -> None:
        async with isolation.lock(key):
            order.append(f"{name} in")
            await asyncio.sleep(0.01)
            order.append(f"{name} out")

    await asyncio.gather(update("a"), update("b"))
    assert order == ["a in", "a out", "b in", "b out"]
    assert isolation.keys_held == 0


async def test_an_outbox_send_waits_for_the_chats_update_but_never_for_ever() -> None:
    """The sender's turn (isolation.py): after the update in flight; a stuck update cannot hold a
    notification back longer than ``within``, and the lock is still released properly afterwards."""
    import asyncio

    from aiogram.fsm.storage.base import StorageKey

    isolation = ChatEventIsolation()
    key = StorageKey(bot_id=1, chat_id=2, user_id=2)
    release = asyncio.Event()
    order: list[str] = []

    async def stuck_update() -> None:
        async with isolation.lock(key):
            order.append("update")
            await release.wait()

    async def send() -> None:
        async with isolation.lock(key, within=0.05):
            order.append("send")

    holder = asyncio.create_task(stuck_update())
    await asyncio.sleep(0)
    await asyncio.wait_for(send(), 2)  # went out beside the stuck update, after waiting
    assert order == ["update", "send"]
    release.set()
    await holder
    assert isolation.keys_held == 0
    async with isolation.lock(key):  # the timed-out waiter left the lock usable
        pass


def test_bounded_lru_drops_the_least_recently_used() -> None:
    cache: BoundedLRU[int, str] = BoundedLRU(3)
    for key in range(3):
        cache[key] = str(key)
    assert cache.get(0) == "0"  # 0 is now the most recently used
    cache[3] = "3"
    assert 1 not in cache and list(cache) == [2, 0, 3]
    assert cache.peek(2) == "2" and list(cache) == [2, 0, 3]  # peek leaves the order alone
    assert cache.drop_oldest_while(lambda value: value in ("2", "0")) == 2
    assert list(cache) == [3]
    assert cache.drop_where(lambda key: key == 3) == 1 and len(cache) == 0


async def test_the_stand_in_for_a_missing_staff_chat_keeps_no_messages(harness: Harness) -> None:
    """Without a staff chat the running bot records staff notices as done: it must not hold each one."""
    from bot.app import collect_senders
    from bot.outbox.base import OutboxMessage
    from bot.outbox.recording import RecordingSender

    staff = collect_senders(harness.services, [])["staff"]
    assert isinstance(staff, RecordingSender)
    for n in range(2_000):
        await staff.send(OutboxMessage(n, "staff", "", "staff.handoff", {"text": f"person {n} wrote ..."}))
    assert staff.count == 2_000 and staff.sent == []
