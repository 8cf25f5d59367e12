"""The batches' writes (bot/follower_rows.py's upsert, the message log's insert): on SQLite a batch is
a few statements, not one per row (each row's sqlite3_step waited for the event loop under load);
on both databases it writes what the row-by-row statements wrote: the columns' defaults for new
rows, only the columns asked for on a conflict, first_seen kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, insert, select, text

from bot.follower_rows import COLUMNS, read_rows, upsert
from bot.followers import TOUCH_COLUMNS
from core.clock import FakeClock
from store.db import is_sqlite, make_engine, make_session_factory
from store.migrate import upgrade
from store.models.webhook import Follower, MessageLog


def counting(engine) -> list[str]:
    """The statements run; one run with a list of parameter sets (an executemany: one sqlite3_step
    per row) is marked `many: `."""
    statements: list[str] = []

    def before(conn, cursor, statement, params, context, executemany) -> None:
        rows = executemany and isinstance(params, list) and params and isinstance(params[0], tuple | list | dict)
        statements.append(("many: " if rows else "") + statement)

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    return statements


def row(openid: str, at, **values) -> dict:
    full = dict(openid=openid, subscribed=True, first_seen=at, last_seen=at, last_message_at=at,
                message_window_at=None, message_window_used=0, event_window_at=None, event_window_used=0,
                state=None, held=None)
    full.update(values)
    return {c: full[c] for c in COLUMNS}


@pytest.fixture
async def engine(db_url):
    """On SQLite, and on PostgreSQL where it is configured (always on CI), at the latest schema."""
    await upgrade(db_url)
    engine = make_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def sqlite_engine(migrated):
    engine = make_engine(migrated)
    yield engine
    await engine.dispose()


async def rows_by_id(db) -> dict[str, Follower]:
    async with db() as session:
        return {f.openid: f for f in await session.scalars(select(Follower))}


async def test_a_batch_of_followers_is_a_few_statements_and_a_second_batch_updates_the_first(engine):
    db = make_session_factory(engine)
    clock = FakeClock()
    first = clock.now()
    statements = counting(engine)
    async with db.begin() as session:
        await upsert(session, [row(f"o-{i}", first) for i in range(500)])
        if is_sqlite(str(engine.url)):  # nothing left in the batch table for the next batch on this connection
            assert (await session.execute(text("SELECT count(*) FROM follower_batch"))).scalar() == 0
    if is_sqlite(str(engine.url)):
        assert len(statements) <= 6 and not [s for s in statements if s.startswith("many: ")]
    later = first + timedelta(hours=1)
    async with db.begin() as session:
        await upsert(session, [row(f"o-{i}", later, subscribed=False, message_window_used=2,
                                   state={"kind": "more"}) for i in range(0, 500, 2)])
    found = await rows_by_id(db)
    assert len(found) == 500
    changed, kept = found["o-0"], found["o-1"]
    assert (changed.subscribed, changed.message_window_used, changed.state) == (False, 2, {"kind": "more"})
    assert changed.last_seen == later and changed.first_seen == first  # first_seen is never updated
    assert (kept.subscribed, kept.last_seen, kept.state) == (True, first, None)


async def test_a_touch_only_batch_changes_only_those_columns_and_new_rows_get_the_defaults(engine):
    db = make_session_factory(engine)
    at = FakeClock().now()
    async with db.begin() as session:
        await upsert(session, [row("o-held", at, state={"kind": "more"}, held=[{"type": "text", "content": "甲"}],
                                   subscribed=False)])
    touch_columns = ("openid", "first_seen", *TOUCH_COLUMNS)
    later = at + timedelta(minutes=5)
    touched = [{c: r[c] for c in touch_columns} for r in (row("o-held", later), row("o-new", later))]
    async with db.begin() as session:
        await upsert(session, touched, TOUCH_COLUMNS)
    found = await rows_by_id(db)
    held, new = found["o-held"], found["o-new"]
    assert held.last_seen == later
    assert (held.subscribed, held.state, held.held) == (False, {"kind": "more"}, [{"type": "text", "content": "甲"}])
    assert (new.subscribed, new.message_window_used, new.event_window_used, new.state, new.held) == (True, 0, 0, None, None)


async def test_a_chunk_of_the_message_log_is_one_insert(sqlite_engine):
    engine = sqlite_engine
    db = make_session_factory(engine)
    at = FakeClock().now()
    statements = counting(engine)
    rows = [dict(openid=f"o-{i}", direction="in", channel="webhook", msg_type="text", content="你好", at=at,
                 msg_key=f"k{i}", elapsed_ms=None) for i in range(500)]
    async with db.begin() as session:
        await session.execute(insert(MessageLog.__table__), rows)
    assert len(statements) == 1 and statements[0].startswith("INSERT")
    async with db() as session:
        assert len((await session.execute(select(MessageLog.id))).all()) == 500


async def test_rows_are_read_back_in_the_order_asked_the_first_one_included(engine):
    db = make_session_factory(engine)
    at = FakeClock().now()
    async with db.begin() as session:
        await upsert(session, [row("o-first", at, subscribed=False), row("o-third", at)])
    found = await read_rows(db, ["o-first", "o-second", "o-third"])
    assert [f and (f.openid, f.subscribed) for f in found] == [("o-first", False), None, ("o-third", True)]
