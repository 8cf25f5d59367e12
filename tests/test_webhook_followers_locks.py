"""FollowerStore's per-follower locks (the outbox's delivery order, the shared columns' writes):
the map holds only the followers with a delivery under way, whether or not their record is still
cached, and a follower dropped from the cache mid-delivery keeps the one lock it had."""

from __future__ import annotations

import asyncio

from bot.followers import FollowerStore
from bot.locks import KeyedLocks
from core.clock import FakeClock
from store.db import make_engine, make_session_factory
from store.shared import MemoryState


def store() -> FollowerStore:
    """No row is read or written here: an engine that never connects will do."""
    clock = FakeClock()
    db = make_session_factory(make_engine("sqlite+aiosqlite:///:memory:"))
    return FollowerStore(db, MemoryState(clock), clock)


async def test_the_send_locks_do_not_grow_with_the_followers_sent_to():
    s = store()
    for i in range(1000):
        async with s.lock(f"o{i}"):
            pass
        s._drop(f"o{i}")  # evicted, as CACHE_SIZE would
    assert len(s._send_locks) == 0


async def test_a_follower_dropped_mid_delivery_keeps_its_lock_until_the_last_waiter_leaves():
    s = store()
    order: list[str] = []
    release = asyncio.Event()

    async def first():
        async with s.lock("o1"):
            order.append("first in")
            await release.wait()
            order.append("first out")

    async def second():
        async with s.lock("o1"):
            order.append("second in")

    a = asyncio.create_task(first())
    await asyncio.sleep(0)
    s._drop("o1")  # the record evicted while its delivery is under way
    b = asyncio.create_task(second())
    await asyncio.sleep(0)
    assert order == ["first in"] and len(s._send_locks) == 1  # the second waits on the same lock
    release.set()
    await asyncio.gather(a, b)
    assert order == ["first in", "first out", "second in"]
    assert len(s._send_locks) == 0


async def test_a_holder_that_raises_releases_its_entry():
    locks = KeyedLocks()
    try:
        async with locks.hold("k"):
            raise ValueError("the send failed")
    except ValueError:
        pass
    assert len(locks) == 0
    async with locks.hold("k"):  # and the key can be locked again at once
        assert len(locks) == 1
