"""bot/dedupe.py's bounds (issue 19), on a fake clock in seconds: an answer kept for WeChat's retries
and no longer, maps that never pass their size under a burst of distinct MsgIds, evictions counted,
and a signed query evicted for size that cannot be replayed. The setting's floor is checked too."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.dedupe import Dedupe, Replayed
from core import metrics
from core.clock import FakeClock
from core.config import ServerSettings
from store.shared import MemoryState
from tests.webhook_support import SharedMemory


def producer():
    runs: list[str] = []

    async def produce(read):
        runs.append("run")
        return f"答复{len(runs)}"

    return runs, produce


def test_the_setting_defaults_to_30_s_and_refuses_less_than_wechats_retries():
    assert ServerSettings().dedupe_ttl_seconds == 30
    assert ServerSettings(dedupe_ttl_seconds=20).dedupe_ttl_seconds == 20
    with pytest.raises(ValidationError):
        ServerSettings(dedupe_ttl_seconds=19)


@pytest.mark.parametrize("several", [False, True], ids=["one-process", "shared"])
async def test_a_retry_within_the_window_gets_the_first_answer_and_after_it_is_handled_anew(several):
    clock = FakeClock()
    shared = SharedMemory(clock) if several else MemoryState(clock)
    dedupe = Dedupe(shared, clock, ttl=30)
    runs, produce = producer()
    assert await dedupe.once("m:1", produce, clock.monotonic() + 5) == "答复1"
    await dedupe.drain()
    for retry_after in (5, 10, 15):  # WeChat's three tries, five seconds apart
        clock.advance(5)
        assert await dedupe.once("m:1", produce, clock.monotonic() + 5) == "答复1", retry_after
    assert runs == ["run"]
    clock.advance(16)  # 31 s after the first delivery: past the window, in memory and shared alike
    assert await dedupe.once("m:1", produce, clock.monotonic() + 5) == "答复2"
    assert runs == ["run", "run"]


async def test_the_answer_map_never_exceeds_its_bound_under_a_burst_of_distinct_msgids():
    clock = FakeClock()
    dedupe = Dedupe(MemoryState(clock), clock, ttl=30, max_answers=100)
    _, produce = producer()
    before = metrics.sample("wxbot_evictions_total", {"map": "dedupe_answers"})
    for i in range(1000):
        await dedupe.once(f"m:{i}", produce, clock.monotonic() + 5)
        assert len(dedupe._seen) <= 100
    assert list(dedupe._seen)[0] == "m:900" and list(dedupe._seen)[-1] == "m:999"  # the newest kept
    assert metrics.sample("wxbot_evictions_total", {"map": "dedupe_answers"}) - before == 900


async def test_an_evicted_answer_still_dedupes_through_the_shared_state():
    clock = FakeClock()
    dedupe = Dedupe(SharedMemory(clock), clock, ttl=30, max_answers=10)
    runs, produce = producer()
    for i in range(20):
        await dedupe.once(f"m:{i}", produce, clock.monotonic() + 5)
    await dedupe.drain()
    assert "m:0" not in dedupe._seen
    assert await dedupe.once("m:0", produce, clock.monotonic() + 5) == "答复1"
    assert len(runs) == 20


async def test_an_answer_in_flight_is_not_evicted():
    import asyncio

    clock = FakeClock()
    dedupe = Dedupe(MemoryState(clock), clock, ttl=30, max_answers=3)
    release = asyncio.Event()
    slow_runs = []

    async def slow(read):
        slow_runs.append(1)
        await release.wait()
        return "慢答复"

    first = asyncio.create_task(dedupe.once("m:slow", slow, clock.monotonic() + 5))
    await asyncio.sleep(0)
    _, produce = producer()
    for i in range(10):
        await dedupe.once(f"m:{i}", produce, clock.monotonic() + 5)
    assert "m:slow" in dedupe._seen and len(dedupe._seen) <= 3
    retry = asyncio.create_task(dedupe.once("m:slow", slow, clock.monotonic() + 5))
    release.set()
    assert await first == await retry == "慢答复"
    assert slow_runs == [1]


async def test_a_signed_query_evicted_for_size_cannot_be_replayed():
    clock = FakeClock()
    dedupe = Dedupe(MemoryState(clock), clock, ttl=30, query_ttl=600, max_queries=10)
    _, produce = producer()
    before = metrics.sample("wxbot_evictions_total", {"map": "signed_queries"})
    for i in range(30):  # one per second of WeChat's timestamps
        await dedupe.once(f"m:{i}", produce, 1e18, signed=(f"sig{i}", f"body{i}"), signed_at=1_700_000_000 + i)
        assert len(dedupe._queries) <= 10
    assert metrics.sample("wxbot_evictions_total", {"map": "signed_queries"}) - before == 20
    assert "sig0" not in dedupe._queries
    with pytest.raises(Replayed):  # forgotten for size, yet still refused with another body
        await dedupe.once("m:forged", produce, 1e18, signed=("sig0", "forged"), signed_at=1_700_000_000)
    # Newer than every evicted query: taken as usual.
    assert await dedupe.once("m:new", produce, 1e18, signed=("sigN", "b"), signed_at=1_700_000_030) == "答复31"


async def test_the_floor_starts_below_every_timestamp_and_is_the_latest_evicted_one_itself():
    clock = FakeClock()
    dedupe = Dedupe(MemoryState(clock), clock, ttl=30, query_ttl=600, max_queries=1)
    _, produce = producer()
    # Nothing evicted yet: even a query signed at 0 is taken.
    assert await dedupe.once("m:a", produce, 1e18, signed=("s0", "d"), signed_at=0) == "答复1"
    # A query noted without its timestamp evicts s0 (floor 0); evicted in turn, it leaves the floor
    # where it was: it carries no timestamp to raise it by.
    assert await dedupe.once("m:b", produce, 1e18, signed=("s1", "d")) == "答复2"
    assert await dedupe.once("m:c", produce, 1e18, signed=("s2", "d"), signed_at=5) == "答复3"
    assert dedupe._query_floor == 0
    assert await dedupe.once("m:d", produce, 1e18, signed=("s3", "d"), signed_at=1) == "答复4"
    # s2 (signed at 5) was evicted by s3: a query signed at 5 itself may be it, so it is refused.
    assert dedupe._query_floor == 5
    with pytest.raises(Replayed):
        await dedupe.once("m:e", produce, 1e18, signed=("s4", "d"), signed_at=5)
    assert await dedupe.once("m:f", produce, 1e18, signed=("s5", "d"), signed_at=6) == "答复5"
