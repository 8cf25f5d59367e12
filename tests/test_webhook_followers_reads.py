"""First contacts read together (bot/follower_rows.py through core/batch.py): the rows of followers
whose first messages arrive at once come in one query, each caller gets its own row (or a new
record), and a failed read fails the callers of that batch only."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event

from bot.followers import FollowerStore
from core.batch import Batcher
from core.clock import FakeClock
from store.db import make_engine, make_session_factory
from store.models.webhook import Follower
from store.shared import MemoryState


async def test_first_contacts_arriving_together_are_read_in_one_query(migrated):
    engine = make_engine(migrated)
    db = make_session_factory(engine)
    clock = FakeClock()
    async with db.begin() as session:
        session.add(Follower(openid="o-known", subscribed=False, first_seen=clock.now(), last_seen=clock.now(),
                             message_window_used=0, event_window_used=0))
    selects: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *a: selects.append(statement) if "FROM followers" in statement else None)
    store = FollowerStore(db, MemoryState(clock), clock)
    records = await asyncio.gather(*(store.get(f"o-{i}") for i in range(50)), store.get("o-known"))
    assert len(selects) == 1
    assert [r.openid for r in records] == [*(f"o-{i}" for i in range(50)), "o-known"]
    assert records[-1].subscribed is False  # the row as it was written
    assert all(r.subscribed for r in records[:-1])  # strangers: new records
    await engine.dispose()


async def test_a_batch_that_fails_fails_its_callers_and_the_next_batch_runs():
    calls: list[list[str]] = []

    async def run(items):
        calls.append(items)
        if "bad" in items:
            raise ConnectionError("down")
        return [ValueError(i) if i == "refused" else i.upper() for i in items]

    batcher: Batcher[str, str] = Batcher(run)
    first = await asyncio.gather(batcher.submit("bad"), batcher.submit("b"), return_exceptions=True)
    assert [type(r) for r in first] == [ConnectionError, ConnectionError]
    assert await asyncio.gather(batcher.submit("c"), batcher.submit("d")) == ["C", "D"]
    with pytest.raises(ValueError):
        await batcher.submit("refused")  # an exception for one item fails that item only
    assert calls == [["bad", "b"], ["c", "d"], ["refused"]]


async def test_a_caller_that_stops_waiting_does_not_stop_the_others():
    release = asyncio.Event()

    async def run(items):
        await release.wait()
        return items

    batcher: Batcher[str, str] = Batcher(run)
    gone, stays = batcher.submit("a"), batcher.submit("b")
    await asyncio.sleep(0)
    gone.cancel()
    release.set()
    assert await stays == "b"
    assert gone.cancelled()
