"""One contract for every SharedState backend: memory, SQL on SQLite, SQL on PostgreSQL, and Redis.

Time moves only when a test says so: `advance(seconds)` moves the FakeClock, and on Redis (whose expiry
follows its own clock) it shortens every key's remaining time by the same amount.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from core.clock import FakeClock
from core.shared import NOT_READ, Claim, LockTimeout, SharedState
from store.db import make_engine, make_session_factory
from store.models.shared import SharedEntry
from store.shared import MemoryState, RedisState, SqlState, open_shared_state


@dataclass
class Backend:
    state: SharedState
    clock: FakeClock
    # A second, independent handle on the same store: what another process would see.
    other: SharedState
    redis: Any = None

    async def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        if self.redis is not None:
            async for key in self.redis.scan_iter(match=f"{self.state.prefix}*"):
                left = await self.redis.pttl(key)
                if left > 0:
                    if left - seconds * 1000 <= 0:
                        await self.redis.delete(key)
                    else:
                        await self.redis.pexpire(key, int(left - seconds * 1000))


async def _sql_backend(url: str, clock: FakeClock):
    engines = [make_engine(url), make_engine(url)]
    # Just the one table (its migration is checked in test_migrations.py), so these tests do not
    # depend on every feature's migration being in place.
    async with engines[0].begin() as conn:
        await conn.run_sync(SharedEntry.__table__.create)
    states = [SqlState(make_session_factory(e), clock) for e in engines]
    return Backend(states[0], clock, states[1]), engines


@pytest.fixture(params=["memory", "sqlite", "postgresql", "redis"])
def backend_kind(request, tmp_path) -> tuple[str, str]:
    """(kind, url); resolved in a sync fixture so the async database fixtures can be requested by name."""
    if request.param == "memory":
        return "memory", ""
    if request.param == "sqlite":
        return "sql", f"sqlite+aiosqlite:///{tmp_path / 'kv.db'}"
    if request.param == "postgresql":
        return "sql", request.getfixturevalue("pg_url")
    return "redis", request.getfixturevalue("redis_url")


@pytest.fixture
async def backend(backend_kind):
    kind, url = backend_kind
    clock = FakeClock()
    if kind == "memory":
        state = MemoryState(clock)
        # One process: the "other process" is the same object.
        yield Backend(state, clock, state)
    elif kind == "redis":
        a, b = RedisState.from_url(url, clock), RedisState.from_url(url, clock)
        yield Backend(a, clock, b, redis=a.client)
        await a.close()
        await b.close()
    else:
        b, engines = await _sql_backend(url, clock)
        yield b
        for e in engines:
            await e.dispose()


async def test_set_get_overwrite(backend):
    s = backend.state
    assert await s.get("k") is None
    await s.set("k", "值 1")
    assert await s.get("k") == "值 1"
    await s.set("k", "v2")
    assert await backend.other.get("k") == "v2"


async def test_ttl_expires(backend):
    s = backend.state
    await s.set("k", "v", ttl=10)
    await s.set("forever", "v")
    await backend.advance(9)
    assert await s.get("k") == "v"
    await backend.advance(2)
    assert await s.get("k") is None
    assert await s.get("forever") == "v"


async def test_set_replaces_ttl(backend):
    s = backend.state
    await s.set("k", "v", ttl=5)
    await s.set("k", "w")
    await backend.advance(10)
    assert await s.get("k") == "w"


async def test_add_only_if_absent_or_expired(backend):
    s, other = backend.state, backend.other
    assert await s.add("claim", "a", ttl=30)
    assert not await other.add("claim", "b", ttl=30)
    assert await other.get("claim") == "a"
    await backend.advance(31)
    assert await other.add("claim", "b", ttl=30)
    assert await s.get("claim") == "b"


async def test_add_is_atomic_under_concurrency(backend):
    results = await asyncio.gather(
        *(
            (backend.state if i % 2 else backend.other).add("once", str(i), ttl=60)
            for i in range(40)
        )
    )
    assert sum(results) == 1
    winner = results.index(True)
    assert await backend.state.get("once") == str(winner)


async def test_add_and_get_claims_and_reads_another_key(backend):
    s, other = backend.state, backend.other
    assert await s.add_and_get("claim", "a", 30, "version") == (True, None)
    await other.set("version", "v1")
    assert await other.add_and_get("claim", "b", 30, "version") == (False, "v1")
    assert await s.get("claim") == "a"
    await backend.advance(31)  # an expired claim may be taken over, as with add()
    assert await other.add_and_get("claim", "b", None, "version") == (True, "v1")
    await backend.advance(10_000)
    assert await s.get("claim") == "b"  # no ttl: kept


async def test_add_and_get_is_atomic_under_concurrency(backend):
    await backend.state.set("version", "v")
    results = await asyncio.gather(
        *(
            (backend.state if i % 2 else backend.other).add_and_get("once", str(i), 60, "version")
            for i in range(40)
        )
    )
    assert [added for added, _ in results].count(True) == 1
    assert {current for _, current in results} == {"v"}


async def test_claim_notes_a_signed_query_and_refuses_it_with_another_value(backend):
    """The webhook's claim: the signed query (with its body's digest), the dedupe key and a read."""
    s, other = backend.state, backend.other
    await s.set("version", "v1")
    first = await s.claim("dedupe:m1", "pending", 60, "version", once=("query:sig1", "digest-a", 600))
    assert first == Claim(True, "v1")
    # The same query and body again (WeChat's retry): not a replay; the claim is taken already.
    assert await other.claim("dedupe:m1", "pending", 60, "version", once=("query:sig1", "digest-a", 600)) \
        == Claim(False, "v1")
    # The same query with another body: a replay, and nothing else is done.
    replay = await other.claim("dedupe:m2", "pending", 60, "version", once=("query:sig1", "digest-b", 600))
    assert replay.replayed and not replay.added
    assert await s.get("dedupe:m2") is None
    assert await other.note_once("query:sig1", "digest-a", 600)
    assert not await other.note_once("query:sig1", "digest-b", 600)
    await backend.advance(601)  # the window is over: the query may not come back anyway
    assert await s.note_once("query:sig1", "digest-b", 600)
    assert await s.claim("dedupe:m3", "pending", 60) == Claim(True, NOT_READ)


async def test_note_once_is_atomic_under_concurrency(backend):
    results = await asyncio.gather(*(
        (backend.state if i % 2 else backend.other).note_once("query:race", f"d{i % 3}", 60) for i in range(30)
    ))
    kept = await backend.state.get("query:race")
    assert [r for i, r in enumerate(results) if f"d{i % 3}" == kept] == [True] * 10
    assert not any(r for i, r in enumerate(results) if f"d{i % 3}" != kept)


async def test_set_many_sets_each_with_the_ttl(backend):
    s, other = backend.state, backend.other
    await s.set("a", "old")
    await s.set_many({"a": "1", "b": "值 2"}, ttl=10)
    assert (await other.get("a"), await other.get("b")) == ("1", "值 2")
    await backend.advance(11)
    assert (await other.get("a"), await other.get("b")) == (None, None)
    await s.set_many({})  # nothing to do is not an error


async def test_delete_and_compare_and_delete(backend):
    s = backend.state
    await s.set("k", "mine", ttl=60)
    assert not await s.delete("k", expect="theirs")
    assert await s.get("k") == "mine"
    assert await backend.other.delete("k", expect="mine")
    assert await s.get("k") is None
    assert not await s.delete("k")
    await s.set("k2", "v")
    assert await s.delete("k2")
    assert await s.get("k2") is None


async def test_delete_of_expired_key_reports_nothing_deleted(backend):
    s = backend.state
    await s.set("k", "v", ttl=1)
    await backend.advance(2)
    assert not await s.delete("k", expect="v")
    assert not await s.delete("k")


async def test_incr_counts_and_expires_from_creation(backend):
    s, other = backend.state, backend.other
    assert await s.incr("n", ttl=60) == 1
    assert await other.incr("n", ttl=60) == 2
    await backend.advance(40)
    # A later increment does not extend the window: it still ends 60 s after the first.
    assert await s.incr("n", ttl=60) == 3
    await backend.advance(21)
    assert await s.incr("n", ttl=60) == 1


async def test_incr_is_atomic_under_concurrency(backend):
    values = await asyncio.gather(
        *((backend.state if i % 2 else backend.other).incr("hits", ttl=60) for i in range(40))
    )
    assert sorted(values) == list(range(1, 41))


async def test_lock_excludes_other_holders(backend):
    inside = 0
    most = 0
    order: list[int] = []

    async def worker(state: SharedState, i: int) -> None:
        nonlocal inside, most
        async with state.lock("job", ttl=30, timeout=30, poll=0.001):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.002)
            order.append(i)
            inside -= 1

    await asyncio.gather(*(worker(backend.state if i % 2 else backend.other, i) for i in range(6)))
    assert most == 1
    assert sorted(order) == list(range(6))
    # Released: a new holder gets it at once.
    async with backend.other.lock("job", timeout=0):
        pass


async def test_lock_of_a_crashed_holder_expires(backend):
    # A holder that died without releasing: its claim is only the key with a TTL.
    assert await backend.other.add("lock:job", "dead-holder", ttl=10)
    with pytest.raises(LockTimeout):
        async with backend.state.lock("job", timeout=0):
            pass
    await backend.advance(11)
    async with backend.state.lock("job", timeout=0):
        assert await backend.other.get("lock:job") not in (None, "dead-holder")


# --- backend specifics ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_sql_deletes_expired_rows(kind, request, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'kv.db'}" if kind == "sqlite" else request.getfixturevalue("pg_url")
    clock = FakeClock()
    b, engines = await _sql_backend(url, clock)
    try:
        for i in range(5):
            await b.state.set(f"old{i}", "v", ttl=1)
        await b.state.set("keep", "v")
        clock.advance(SqlState.PURGE_INTERVAL + 1)
        await b.state.set("new", "v", ttl=100)
        async with make_session_factory(engines[0])() as session:
            keys = set(await session.scalars(select(SharedEntry.key)))
            assert keys == {"keep", "new"}
            assert await session.scalar(select(func.count()).select_from(SharedEntry)) == 2
    finally:
        for e in engines:
            await e.dispose()


async def test_redis_keys_carry_a_prefix_and_native_ttl(redis_url):
    state = RedisState.from_url(redis_url, FakeClock())
    try:
        await state.set("token", "t", ttl=120)
        assert await state.client.get("wxbot:token") == "t"
        assert 119_000 < await state.client.pttl("wxbot:token") <= 120_000
        assert await state.add("claim", "x", ttl=5)
        assert 0 < await state.client.pttl("wxbot:claim") <= 5000
    finally:
        await state.close()


async def test_open_shared_state_picks_the_backend(make_settings, tmp_path, request):
    clock = FakeClock()
    settings = make_settings()
    engine = make_engine(settings.database_url)
    try:
        assert type(await open_shared_state(settings, make_session_factory(engine), clock)) is MemoryState
    finally:
        await engine.dispose()

    pg = request.getfixturevalue("pg_url")
    settings = make_settings(database={"url": pg})
    engine = make_engine(pg)
    try:
        state = await open_shared_state(settings, make_session_factory(engine), clock)
        assert type(state) is SqlState
    finally:
        await engine.dispose()


async def test_open_shared_state_prefers_redis(make_settings, redis_url):
    settings = make_settings(redis={"url": redis_url})
    engine = make_engine(settings.database_url)
    try:
        state = await open_shared_state(settings, make_session_factory(engine), FakeClock())
        assert type(state) is RedisState
        await state.set("k", "v")
        assert await state.get("k") == "v"
        await state.close()
    finally:
        await engine.dispose()


async def test_unreachable_redis_fails_at_start_with_the_key_named(make_settings):
    settings = make_settings(redis={"url": "redis://127.0.0.1:1/0"})
    engine = make_engine(settings.database_url)
    try:
        with pytest.raises(ConnectionError, match=r"\[redis\] url: cannot reach redis://127.0.0.1:1/0"):
            await open_shared_state(settings, make_session_factory(engine), FakeClock())
    finally:
        await engine.dispose()


async def test_redis_claims_made_together_go_in_one_pipeline_and_survive_a_script_flush(redis_url):
    """The webhook's concurrent claims and stored answers: one round trip for all (RedisState._pipeline),
    each its own answer; a Redis that lost its scripts (restarted, SCRIPT FLUSH) gets the script again."""
    s = RedisState.from_url(redis_url, FakeClock())
    batches: list[int] = []
    send = s._pipeline

    async def counted(commands, loaded=False):
        batches.append(len(commands))
        return await send(commands, loaded)

    s._commands._run = counted
    await s.set("version:a", "v1")
    *claims, _ = await asyncio.gather(
        *(s.claim(f"dedupe:m{i % 5}", "pending", 60, "version:a") for i in range(10)),
        s.claim("dedupe:q", "pending", 60, once=("query:s", "d1", 600)),
        s.set_many({"dedupe:done1": "done:a", "dedupe:done2": "done:b"}, 30),
    )
    assert batches == [13]
    assert await s.get("dedupe:done2") == "done:b" and 0 < await s.client.pttl("wxbot:dedupe:done2") <= 30_000
    assert sum(c.added for c in claims[:10]) == 5 and all(c.read == "v1" for c in claims[:10])
    assert claims[10] == Claim(True, NOT_READ)
    await s.client.script_flush()
    assert await s.claim("dedupe:r", "pending", 60, once=("query:s", "d2", 600)) == \
        Claim(False, NOT_READ, replayed=True)  # the same signed query with another body
    await s.close()
