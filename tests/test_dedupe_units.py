"""bot/dedupe.py on its own, on a fake clock: the dedupe keys, one process (memory) and several (one
shared store), signed queries replayed with another body, a shared store that fails, and a loser that
waits for the winner's answer until its deadline. tests/test_webhook_retries.py drives the same code
through the app."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.dedupe import DONE, PENDING, Dedupe, Replayed, key_of
from core import metrics
from core.clock import FakeClock
from core.shared import NOT_READ
from store.shared import MemoryState
from tests.webhook_helpers import event_xml, text_xml
from tests.webhook_support import SharedMemory
from wechat import protocol
from wechat.render import SUCCESS


class Broken(SharedMemory):
    """A shared store that is down."""

    async def add(self, key, value, ttl=None):
        raise ConnectionError("store down")

    async def get(self, key):
        raise ConnectionError("store down")

    async def set_many(self, items, ttl=None):
        raise ConnectionError("store down")


def producer(answers: list[str] | None = None):
    runs: list[object] = []

    async def produce(read):
        runs.append(read)
        return (answers or ["答复"])[len(runs) - 1] if answers else f"答复{len(runs)}"

    return runs, produce


def test_keys_of_messages_and_events():
    text = protocol.parse(text_xml("o_k", "你好", msg_id=42, create_time=1700000000))
    assert key_of(text) == "m:42"
    no_id = protocol.parse("<xml><ToUserName>gh</ToUserName><FromUserName>o_k</FromUserName><CreateTime>"
                           "1700000001</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>")
    assert key_of(no_id) == "m:o_k|1700000001|text"
    click = protocol.parse(event_xml("o_k", "CLICK", "HELP", create_time=1700000002))
    assert key_of(click) == "e:o_k|1700000002|CLICK|HELP|"
    sub = protocol.parse(event_xml("o_k", "subscribe", create_time=1700000003))
    assert key_of(sub) == "e:o_k|1700000003|subscribe||"
    sub.dedupe_part = "p7"
    assert key_of(sub) == "e:o_k|1700000003|subscribe||p7"


def test_replayed_is_a_403():
    e = Replayed()
    assert (e.status, e.reason) == (403, "signed query replayed with another body")


async def test_one_process_runs_once_and_answers_retries_the_same():
    clock = FakeClock()
    dedupe = Dedupe(MemoryState(clock), clock, ttl=60)
    assert dedupe.shared is None  # memory means one process: nothing leaves it
    runs, produce = producer()
    assert await dedupe.once("m:1", produce, deadline=clock.monotonic() + 5) == "答复1"
    assert await dedupe.once("m:1", produce, deadline=clock.monotonic() + 5) == "答复1"
    assert runs == [NOT_READ]
    assert await dedupe.once("m:2", produce, deadline=clock.monotonic() + 5) == "答复2"
    clock.advance(61)  # past the ttl: forgotten, a late retry runs again
    assert await dedupe.once("m:1", produce, deadline=clock.monotonic() + 5) == "答复3"
    assert list(dedupe._seen) == ["m:1"]


async def test_one_process_refuses_a_signed_query_with_another_body_for_the_query_ttl():
    clock = FakeClock()
    dedupe = Dedupe(MemoryState(clock), clock, ttl=60, query_ttl=600)
    _, produce = producer()
    await dedupe.once("m:1", produce, 1e18, signed=("sig1", "body-a"))
    assert await dedupe.once("m:1", produce, 1e18, signed=("sig1", "body-a")) == "答复1"  # WeChat's retry
    with pytest.raises(Replayed):
        await dedupe.once("m:2", produce, 1e18, signed=("sig1", "body-b"))
    assert await dedupe.replayed(("sig1", "body-b")) is True
    assert await dedupe.replayed(("sig1", "body-a")) is False
    assert await dedupe.replayed(("sig9", "body-a")) is False  # never seen: not a replay
    clock.advance(599)
    with pytest.raises(Replayed):
        await dedupe.once("m:3", produce, 1e18, signed=("sig1", "body-c"))
    clock.advance(2)  # the query is forgotten once its time is up
    assert await dedupe.once("m:4", produce, 1e18, signed=("sig1", "body-d")) == "答复2"
    assert dedupe._queries["sig1"][0] == "body-d"


async def test_several_processes_share_the_claim_the_answer_and_the_signed_query():
    clock = FakeClock()
    shared = SharedMemory(clock)
    a, b = Dedupe(shared, clock, ttl=60, query_ttl=600), Dedupe(shared, clock, ttl=60, query_ttl=600)
    runs, produce = producer()
    await shared.set("follower:o_x", "v3")
    assert await a.once("m:1", produce, 1e18, read="follower:o_x", signed=("sig1", "d1")) == "答复1"
    assert runs == ["v3"]  # the read came with the claim
    await a.drain()
    assert await shared.get("dedupe:m:1") == DONE + "答复1"
    assert await shared.get("query:sig1") == "d1"
    expiry = shared.store._data["dedupe:m:1"][1]
    assert expiry == pytest.approx(clock.monotonic() + 60)  # the answer kept for the ttl
    assert shared.store._data["query:sig1"][1] == pytest.approx(clock.monotonic() + 600)
    # The retry on the other process: the stored answer, no second run.
    assert await b.once("m:1", produce, 1e18, signed=("sig1", "d1")) == "答复1"
    assert runs == ["v3"]
    # The same signed query with another body, on either process: refused.
    with pytest.raises(Replayed):
        await b.once("m:2", produce, 1e18, signed=("sig1", "d2"))
    assert await b.replayed(("sig1", "d2")) is True and await b.replayed(("sig1", "d1")) is False
    # A retry answered from memory still notes its query: another body there is refused too.
    with pytest.raises(Replayed):
        await a.once("m:1", produce, 1e18, signed=("sig1", "d3"))
    assert runs == ["v3"]


async def test_a_failed_first_attempt_frees_the_claim_for_a_retry():
    clock = FakeClock()
    shared = SharedMemory(clock)
    dedupe = Dedupe(shared, clock, ttl=60)

    async def fail(read):
        raise RuntimeError("handler broke")

    with pytest.raises(RuntimeError):
        await dedupe.once("m:1", fail, 1e18)
    assert await shared.get("dedupe:m:1") is None and "m:1" not in dedupe._seen
    _, produce = producer()
    assert await dedupe.once("m:1", produce, 1e18) == "答复1"


async def test_a_loser_waits_for_the_winners_answer_until_its_deadline():
    clock = FakeClock()
    shared = SharedMemory(clock)
    loser = Dedupe(shared, clock, ttl=60, poll=0.5)
    runs, produce = producer()
    await shared.add("dedupe:m:1", PENDING, 60)  # another process claimed it and is still working
    deadline = clock.monotonic() + 2
    started = clock.monotonic()
    assert await loser.once("m:1", produce, deadline) == SUCCESS
    assert runs == [] and clock.monotonic() - started == pytest.approx(2.0)  # polled until the deadline, no more

    await shared.set("dedupe:m:2", PENDING, 60)

    async def finish():
        await asyncio.sleep(0)
        await shared.set("dedupe:m:2", DONE + "别处的答复", 60)

    task = asyncio.create_task(finish())
    assert await loser.once("m:2", produce, clock.monotonic() + 5) == "别处的答复"
    await task
    # The winner gave up (released its claim): the loser claims it and answers itself.
    await shared.set("dedupe:m:3", PENDING, 60)

    async def release():
        await asyncio.sleep(0)
        await shared.delete("dedupe:m:3")

    task = asyncio.create_task(release())
    assert await loser.once("m:3", produce, clock.monotonic() + 5) == "答复1"
    await task


async def test_a_shared_store_that_is_down_still_answers_once_per_process(caplog):
    clock = FakeClock()
    dedupe = Dedupe(Broken(clock), clock, ttl=60)
    runs, produce = producer()
    with caplog.at_level(logging.WARNING, "bot.dedupe"):
        assert await dedupe.once("m:1", produce, 1e18, signed=("sig", "d")) == "答复1"
        assert await dedupe.once("m:1", produce, 1e18, signed=("sig", "d")) == "答复1"
        assert await dedupe.replayed(("sig", "other")) is False  # cannot tell: not called a replay
        await dedupe.drain()
    assert runs == [NOT_READ]
    messages = [r.getMessage() for r in caplog.records]
    assert "dedupe: shared state unavailable (store down), deduping in this process only" in messages
    assert "dedupe: shared state unavailable (store down); signed query not checked" in messages


async def test_an_answer_that_cannot_be_stored_is_logged_and_the_claim_left_to_expire(caplog):
    class NoWrites(SharedMemory):
        async def set_many(self, items, ttl=None):
            raise ConnectionError("store down")

    clock = FakeClock()
    shared = NoWrites(clock)
    dedupe = Dedupe(shared, clock, ttl=60)
    _, produce = producer()
    with caplog.at_level(logging.ERROR, "bot.dedupe"):
        assert await dedupe.once("m:1", produce, 1e18) == "答复1"
        await dedupe.drain()
    assert [r.getMessage() for r in caplog.records] == ["dedupe: could not store 1 answers"]
    assert await shared.get("dedupe:m:1") == PENDING and dedupe._writer is None


async def test_a_retry_answered_from_memory_is_counted_and_checks_only_what_it_has(caplog):
    """One process with a signed query, several without one: the retry is a memory hit, and there is
    nothing to check in a shared store (no warning of one being unavailable)."""
    def hits() -> float:
        return metrics.sample("wxbot_dedupe_hits_total", {"where": "memory"})

    clock = FakeClock()
    alone = Dedupe(MemoryState(clock), clock, ttl=60)
    several = Dedupe(SharedMemory(clock), clock, ttl=60)
    _, produce = producer()
    before = hits()
    with caplog.at_level(logging.DEBUG, "bot.dedupe"):
        await alone.once("m:1", produce, 1e18, signed=("sig1", "d"), signed_at=1_700_000_000)
        assert await alone.once("m:1", produce, 1e18, signed=("sig1", "d"), signed_at=1_700_000_000) == "答复1"
        await several.once("m:1", produce, 1e18)
        assert await several.once("m:1", produce, 1e18) == "答复2"
    assert hits() - before == 2
    assert [r.getMessage() for r in caplog.records] == []


class Gated(SharedMemory):
    """A shared store whose claims wait for `gate`, and whose next `fail_notes` notes of a signed
    query fail (an outage of that long)."""

    def __init__(self, clock) -> None:
        super().__init__(clock)
        self.gate = asyncio.Event()
        self.fail_notes = 0

    async def note_once(self, key, value, ttl):
        if self.fail_notes:
            self.fail_notes -= 1
            raise ConnectionError("store down")
        return await super().note_once(key, value, ttl)

    async def claim(self, key, value, ttl, read=None, once=None):
        await self.gate.wait()
        return await super().claim(key, value, ttl, read, once)


async def test_a_retry_waiting_on_a_forgery_with_its_key_answers_itself():
    """A replayed query with a forged body claims a MsgId first; the genuine message with that MsgId
    waits for it, and when the forgery is refused, claims and answers with its own read and query."""
    clock = FakeClock()
    shared = Gated(clock)
    await shared.note_once("query:sig1", "d-old", 600)  # the query the forger replays
    await shared.set("follower:o_x", "v3")
    dedupe = Dedupe(shared, clock, ttl=60, query_ttl=600)
    runs, produce = producer()
    forged = asyncio.create_task(dedupe.once("m:1", produce, 1e18, signed=("sig1", "d-forged")))
    for _ in range(3):
        await asyncio.sleep(0)
    shared.fail_notes = 1  # the genuine one's query is not noted while it waits
    genuine = asyncio.create_task(dedupe.once("m:1", produce, 1e18, read="follower:o_x", signed=("sig2", "d-real")))
    for _ in range(3):
        await asyncio.sleep(0)
    assert not genuine.done()
    shared.gate.set()
    with pytest.raises(Replayed):
        await forged
    assert await genuine == "答复1"
    assert runs == ["v3"]
    await dedupe.drain()
    assert await shared.get("dedupe:m:1") == DONE + "答复1"
    assert await shared.get("query:sig2") == "d-real"  # noted with its claim after all


@pytest.mark.parametrize(("left", "kept"), [(2.0, 3.0), (-5.0, 1.0), (100.0, 60.0)])
async def test_a_pending_claim_lives_the_budget_left_and_a_second_no_longer_than_the_ttl(left, kept):
    """A process killed mid-message leaves a claim that WeChat's next retry outlives."""
    clock = FakeClock()
    shared = SharedMemory(clock)
    dedupe = Dedupe(shared, clock, ttl=60)
    seen: list[tuple[str, float]] = []

    async def produce(read):
        value, expires = shared.store._data["dedupe:m:1"]
        seen.append((value, expires - clock.monotonic()))
        return "答复"

    assert await dedupe.once("m:1", produce, clock.monotonic() + left) == "答复"
    assert seen == [(PENDING, pytest.approx(kept))]


async def test_a_loser_past_its_deadline_remembers_nothing_and_tells_its_own_waiters_success():
    clock = FakeClock()
    shared = SharedMemory(clock)
    loser = Dedupe(shared, clock, ttl=60, poll=0.5)
    runs, produce = producer()
    await shared.add("dedupe:m:1", PENDING, 60)  # another process is still working on it
    deadline = clock.monotonic() + 2
    first = asyncio.create_task(loser.once("m:1", produce, deadline))
    await asyncio.sleep(0)
    again = asyncio.create_task(loser.once("m:1", produce, deadline))  # a retry here meanwhile
    assert [await first, await again] == [SUCCESS, SUCCESS]
    assert "m:1" not in loser._seen
    # The other process's answer lands: WeChat's next retry gets it, not a remembered `success`.
    await shared.set("dedupe:m:1", DONE + "别处的答复", 60)
    before = metrics.sample("wxbot_dedupe_hits_total", {"where": "shared"})
    assert await loser.once("m:1", produce, clock.monotonic() + 5) == "别处的答复"
    assert metrics.sample("wxbot_dedupe_hits_total", {"where": "shared"}) - before == 1
    assert runs == []


async def test_a_claim_that_vanishes_exactly_at_the_deadline_is_not_claimed_again():
    """No budget left to run the handler: `success`, and WeChat's next retry asks again."""

    class Vanishing(SharedMemory):
        """The other process gives up its claim at `at` (the loser's deadline)."""

        async def get(self, key):
            if self.clock.monotonic() >= self.at:
                await self.delete(key)
            return await super().get(key)

    clock = FakeClock()
    shared = Vanishing(clock)
    loser = Dedupe(shared, clock, ttl=60, poll=0.5)
    runs, produce = producer()
    await shared.set("dedupe:m:1", PENDING, 60)
    shared.at = deadline = clock.monotonic() + 1.0
    assert await loser.once("m:1", produce, deadline) == SUCCESS
    assert runs == [] and clock.monotonic() == deadline
    assert await shared.get("dedupe:m:1") is None


async def test_a_signed_query_is_forgotten_exactly_at_its_time():
    clock = FakeClock()
    dedupe = Dedupe(MemoryState(clock), clock, ttl=60, query_ttl=600)
    _, produce = producer()
    await dedupe.once("m:1", produce, 1e18, signed=("sig1", "body-a"))
    clock.advance(600)
    assert await dedupe.once("m:2", produce, 1e18, signed=("sig1", "body-b")) == "答复2"


async def test_a_claim_that_vanished_is_claimed_again_through_the_store_with_the_query_noted_once(caplog):
    clock = FakeClock()
    shared = SharedMemory(clock)
    loser = Dedupe(shared, clock, ttl=60, poll=0.5)
    runs, produce = producer()
    await shared.set("dedupe:m:3", PENDING, 60)  # the winner, which gives up below

    async def release():
        await asyncio.sleep(0)
        await shared.delete("dedupe:m:3")

    task = asyncio.create_task(release())
    with caplog.at_level(logging.WARNING, "bot.dedupe"):
        assert await loser.once("m:3", produce, clock.monotonic() + 5, signed=("sig3", "d")) == "答复1"
        await task
        await loser.drain()
    assert [r.getMessage() for r in caplog.records] == []
    assert await shared.get("dedupe:m:3") == DONE + "答复1"  # the second turn claimed it in the store
    assert await shared.get("query:sig3") == "d"


async def test_a_failed_attempt_releases_only_its_own_pending_claim():
    """Its claim expired while it ran and another process answered: that answer stays."""
    clock = FakeClock()
    shared = SharedMemory(clock)
    dedupe = Dedupe(shared, clock, ttl=60)

    async def fail_late(read):
        await shared.set("dedupe:m:1", DONE + "别处的答复", 60)
        raise RuntimeError("handler broke")

    with pytest.raises(RuntimeError):
        await dedupe.once("m:1", fail_late, 1e18)
    assert await shared.get("dedupe:m:1") == DONE + "别处的答复"
