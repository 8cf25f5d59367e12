"""The message-log writer (bot/messagelog.py) driven directly over a SQLite file, without the app
around it: a batch and the follower records in one transaction, rows kept after a failed flush,
erasures by another process (another writer on the same file) caught after the commit, `forget()`
while batches run. Fast (a copied, already migrated file per test), so mutation runs can use it."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import re
import shutil
from types import SimpleNamespace

import pytest
from sqlalchemy import exc, select

from bot import messagelog
from bot.followers import FollowerStore
from core.clock import FakeClock
from core.config import LogSettings
from store.db import make_engine, make_session_factory
from store.migrate import upgrade_sync
from store.models.webhook import Follower, MessageLog
from store.shared import MemoryState


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("messagelog") / "template.db"
    upgrade_sync(f"sqlite+aiosqlite:///{path}")
    return path


def process(db, clock, flush_seconds: float = 1.0) -> SimpleNamespace:
    """What `messagelog` needs of one process's services: its writer and follower store."""
    followers = FollowerStore(db, MemoryState(clock), clock)
    settings = SimpleNamespace(log=LogSettings(flush_seconds=flush_seconds))
    writer = messagelog.LogWriter(db, clock, settings.log, followers)
    return SimpleNamespace(db=db, clock=clock, settings=settings, followers=followers, messagelog=writer)


@pytest.fixture
async def env(template, tmp_path):
    """Two processes on one SQLite file (the server and a `followers forget` command), one clock."""
    path = tmp_path / "log.db"
    shutil.copy(template, path)
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    db = make_session_factory(engine)
    clock = FakeClock()
    yield SimpleNamespace(server=process(db, clock), command=process(db, clock), db=db, clock=clock)
    await engine.dispose()


async def log_rows(db) -> list[tuple[str, str]]:
    async with db() as s:
        rows = (await s.execute(select(MessageLog).order_by(MessageLog.id))).scalars().all()
    return [(r.openid, r.content) for r in rows]


async def follower_ids(db) -> list[str]:
    async with db() as s:
        return sorted((await s.execute(select(Follower.openid))).scalars())


class Transactions:
    """A stand-in session factory: the real one, counting transactions; `down` makes each fail
    as a locked database does; `on_begin` runs before a transaction opens."""

    def __init__(self, real, on_begin=None) -> None:
        self.real = real
        self.count = 0
        self.down = False
        self.on_begin = on_begin

    def __call__(self, *args, **kwargs):
        return self.real(*args, **kwargs)

    @contextlib.asynccontextmanager
    async def begin(self):
        self.count += 1
        if self.down:
            raise exc.OperationalError("BEGIN", {}, Exception("database is locked"))
        if self.on_begin is not None:
            hook, self.on_begin = self.on_begin, None
            await hook()
        async with self.real.begin() as session:
            yield session


async def test_the_writer_keeps_rows_after_a_failed_flush(env, caplog):
    """Issue 18: rows of a batch the database could not take (locked) are kept, in order, with the
    ones recorded after, and written by the next batch, once."""
    writer = env.server.messagelog
    assert not writer.in_trouble()  # a new writer: no batch yet, none failed
    factory = writer.db = Transactions(env.db)
    writer.record("o_a", "in", "webhook", "text", "一")
    writer.record("o_b", "in", "webhook", "text", "二")
    factory.down = True
    with caplog.at_level(logging.ERROR, "bot.messagelog"), pytest.raises(exc.OperationalError):
        await writer.flush()
    assert [r["content"] for r in writer.pending] == ["一", "二"]
    assert writer.in_trouble() and "keeping 2 rows" in caplog.text
    writer.record("o_a", "out", "passive", "text", "三")
    factory.down = False
    assert await writer.flush() == 3
    assert writer.pending == [] and not writer.in_trouble()
    assert await log_rows(env.db) == [("o_a", "一"), ("o_b", "二"), ("o_a", "三")]
    assert await writer.flush() == 0 and len(await log_rows(env.db)) == 3


async def test_a_batch_cancelled_mid_way_keeps_its_rows(env, monkeypatch):
    """Cancelled (a shutdown's timeout) while its statement waits: the rows stay for the next one."""
    writer = env.server.messagelog
    real = messagelog._write_rows

    async def cancelled(session, rows):
        raise asyncio.CancelledError

    monkeypatch.setattr(messagelog, "_write_rows", cancelled)
    writer.record("o_c", "in", "webhook", "text", "甲")
    with pytest.raises(asyncio.CancelledError):
        await writer.flush()
    assert [r["content"] for r in writer.pending] == ["甲"]
    monkeypatch.setattr(messagelog, "_write_rows", real)
    assert await writer.flush() == 1 and await log_rows(env.db) == [("o_c", "甲")]


async def test_a_batch_and_the_follower_records_go_in_one_transaction_without_a_refusal(env, caplog):
    writer, followers = env.server.messagelog, env.server.followers
    factory = writer.db = Transactions(env.db)
    await followers.get("o_d")  # a new follower: a record to write
    for word in ("甲", "乙"):
        writer.record("o_d", "in", "webhook", "text", word)
    with caplog.at_level(logging.DEBUG, "bot.messagelog"):
        assert await writer.flush() == 2
    assert factory.count == 1  # one transaction: not refused and written apart
    assert caplog.text == ""
    assert await log_rows(env.db) == [("o_d", "甲"), ("o_d", "乙")]
    assert await follower_ids(env.db) == ["o_d"] and followers.unwritten() == set()


async def test_a_refused_batch_still_writes_the_follower_records(env, caplog):
    writer, followers = env.server.messagelog, env.server.followers
    await followers.get("o_e")
    writer.record("o_e", "in", "webhook", "text", "坏")
    writer.record("o_e", "in", "webhook", "text", "好")
    writer.pending[0]["content"] = None  # NOT NULL refuses it
    with caplog.at_level(logging.WARNING, "bot.messagelog"):
        assert await writer.flush() == 1
    assert "batch of 2 rows refused" in caplog.text and "erasure check not done" not in caplog.text
    assert await log_rows(env.db) == [("o_e", "好")]
    assert await follower_ids(env.db) == ["o_e"]


async def test_rows_written_after_another_process_erased_the_follower_are_erased_again(env, caplog):
    """Rows recorded up to the erasure's instant and written after it go; later ones and other
    followers' rows stay."""
    writer = env.server.messagelog
    writer.record("o_f", "in", "webhook", "text", "之前")
    writer.record("o_g", "in", "webhook", "text", "别人的")
    env.clock.advance(5)
    await messagelog.forget(env.command, "o_f")  # `followers forget`: the server's rows still wait
    writer.record("o_f", "in", "webhook", "text", "同时")
    env.clock.advance(1)
    writer.record("o_f", "in", "webhook", "text", "之后")
    with caplog.at_level(logging.WARNING, "bot.messagelog"):
        assert await writer.flush() == 4
    assert await log_rows(env.db) == [("o_g", "别人的"), ("o_f", "之后")]
    assert caplog.text == ""
    epoch = await env.server.followers.erasures.state.get("followers:erased")
    assert epoch is not None and env.server.followers.erasures.epoch == epoch  # dealt with: not again


async def test_rows_written_apart_after_an_erasure_are_erased_again(env):
    writer = env.server.messagelog
    for word in ("坏", "好"):
        writer.record("o_h", "in", "webhook", "text", word)
    writer.record("o_i", "in", "webhook", "text", "别人的")
    writer.pending[0]["content"] = None
    await messagelog.forget(env.command, "o_h")
    assert await writer.flush() == 2
    assert await log_rows(env.db) == [("o_i", "别人的")]


async def test_a_record_written_after_another_process_erased_it_is_erased_again(env):
    server = env.server
    await server.followers.get("o_j")  # first seen now: at the erasure's instant
    await server.followers.get("o_k")
    await messagelog.forget(env.command, "o_j")
    await server.messagelog.flush()
    assert await follower_ids(env.db) == ["o_k"]
    assert server.followers.cached("o_j") is None  # the copy went too: a new follower next time
    env.clock.advance(1)
    await server.followers.get("o_j")  # back after the erasure: a new record, kept
    await server.messagelog.flush()
    assert await follower_ids(env.db) == ["o_j", "o_k"]


async def test_a_follower_back_before_the_batch_that_finds_their_erasure_keeps_the_new_record(env):
    """Erased by another process, then a message before the server's next batch: that batch
    erases what came before the erasure, not the record and rows that began after it."""
    server = env.server
    writer = server.messagelog
    writer.record("o_v", "in", "webhook", "text", "之前")
    await messagelog.forget(env.command, "o_v")
    env.clock.advance(1)
    await server.followers.get("o_v")  # a new follower to this process: first seen now
    writer.record("o_v", "in", "webhook", "text", "之后")
    assert await writer.flush() == 2
    assert await log_rows(env.db) == [("o_v", "之后")]
    assert await follower_ids(env.db) == ["o_v"] and server.followers.cached("o_v") is not None


async def test_what_the_batch_still_holds_from_before_an_erasure_is_dropped(env, monkeypatch):
    """Rows recorded while the batch is written, and a record changed meanwhile: those from before
    the erasure go (a later batch, which no longer looks, would write them back); the rest stays."""
    server = env.server
    writer, followers = server.messagelog, server.followers
    record = await followers.get("o_m")
    await writer.flush()  # o_m's record written; no erasure yet
    writer.record("o_w", "in", "webhook", "text", "别人的")
    await messagelog.forget(env.command, "o_l")
    await messagelog.forget(env.command, "o_m")
    real = messagelog._write_rows

    async def meanwhile(session, rows):
        writer.record("o_l", "in", "webhook", "text", "同时")
        env.clock.advance(1)
        writer.record("o_l", "in", "webhook", "text", "之后")
        writer.record("o_n", "in", "webhook", "text", "又一个")
        return await real(session, rows)

    flush_records = followers.flush

    async def changed_meanwhile(session):
        written = await flush_records(session)
        followers.changed(record)  # a message from o_m after its record was taken for this batch
        return written

    monkeypatch.setattr(messagelog, "_write_rows", meanwhile)
    monkeypatch.setattr(followers, "flush", changed_meanwhile)
    assert await writer.flush() == 1
    assert [(r["openid"], r["content"]) for r in writer.pending] == [("o_l", "之后"), ("o_n", "又一个")]
    assert followers.cached("o_m") is None
    monkeypatch.setattr(messagelog, "_write_rows", real)
    monkeypatch.setattr(followers, "flush", flush_records)
    assert await writer.flush() == 2
    assert await log_rows(env.db) == [("o_w", "别人的"), ("o_l", "之后"), ("o_n", "又一个")]
    assert await follower_ids(env.db) == []


async def test_an_erasure_check_that_fails_is_done_with_the_next_batch(env, monkeypatch, caplog):
    writer = env.server.messagelog
    erasures = env.server.followers.erasures
    writer.record("o_p", "in", "webhook", "text", "甲")
    await messagelog.forget(env.command, "o_p")
    real = erasures.since

    async def down(openids):
        raise exc.OperationalError("BEGIN", {}, Exception("database is locked"))

    monkeypatch.setattr(erasures, "since", down)
    with caplog.at_level(logging.WARNING, "bot.messagelog"):
        assert await writer.flush() == 1  # written: the check waits, the batch does not fail
    assert not writer.in_trouble() and writer.pending == []
    [said] = [r.getMessage() for r in caplog.records]
    assert said.startswith("message log: erasure check not done") and "database is locked" in said
    assert await log_rows(env.db) == [("o_p", "甲")]
    monkeypatch.setattr(erasures, "since", real)
    assert await writer.flush() == 0
    assert await log_rows(env.db) == []


async def test_a_batch_during_forgets_delete_does_not_write_the_record_back(env):
    """From the moment `forget()` begins, a batch of the same process writes nothing of the
    follower (one committed after the delete would outlive it)."""
    server = env.server
    writer, followers = server.messagelog, server.followers
    record = await followers.get("o_q")
    writer.record("o_q", "in", "webhook", "text", "旧")
    await writer.flush()
    record.state = {"step": "choosing"}  # a message since: the changed record waits for a batch
    followers.changed(record)
    seen = {}

    async def during_the_delete():
        await writer.flush()  # the server's writer, on its own turn
        async with env.db() as s:
            seen["state"] = (await s.get(Follower, "o_q")).state  # the row as it was, not deleted yet

    server.db = Transactions(env.db, on_begin=during_the_delete)
    await messagelog.forget(server, "o_q")
    assert seen == {"state": None}
    await writer.flush()
    assert await follower_ids(env.db) == [] and await log_rows(env.db) == []


async def test_a_record_read_again_during_forgets_delete_is_dropped_after_it(env):
    server = env.server
    followers = server.followers
    await followers.get("o_s")
    await server.messagelog.flush()

    async def during_the_delete():
        await followers.get("o_s")  # a message from o_s: its row, not deleted yet, read again

    server.db = Transactions(env.db, on_begin=during_the_delete)
    await messagelog.forget(server, "o_s")
    assert followers.cached("o_s") is None  # the next message starts a new record
    await server.messagelog.flush()
    assert await follower_ids(env.db) == []


async def test_the_writer_runs_on_its_own_while_running(template, tmp_path):
    path = tmp_path / "log.db"
    shutil.copy(template, path)
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    db = make_session_factory(engine)
    server = process(db, FakeClock(), flush_seconds=0.05)
    writer = server.messagelog
    try:
        async with writer.running():
            assert writer._task.get_name() == "message-log-writer"  # as task dumps name it
            writer.record("o_r", "in", "webhook", "text", "甲")
            for _ in range(100):
                if await log_rows(db):
                    break
                await asyncio.sleep(0.02)
            assert await log_rows(db) == [("o_r", "甲")]
            writer.record("o_r", "in", "webhook", "text", "乙")
        assert writer._task is None and await log_rows(db) == [("o_r", "甲"), ("o_r", "乙")]
    finally:
        await engine.dispose()


async def test_a_batch_that_outlives_flush_quietly_fails_without_a_stray_traceback(env, monkeypatch):
    """Shutdown gave up on a batch that still waits: when it fails later, its error was said
    already (flush_quietly), so asyncio must not log it again as an unhandled one."""
    writer = env.server.messagelog
    gate = asyncio.Event()

    async def hung(session, rows):
        await gate.wait()
        raise exc.OperationalError("BEGIN", {}, Exception("database is locked"))

    loop = asyncio.get_running_loop()
    unhandled = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: unhandled.append(context["message"]))
    try:
        monkeypatch.setattr(messagelog, "_write_rows", hung)
        writer.record("o_t", "in", "webhook", "text", "甲")
        await writer.flush_quietly(timeout=0.1)
        gate.set()
        for _ in range(50):
            if writer.pending:  # the batch failed: its row is kept again
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.01)
        gc.collect()
        assert [r["content"] for r in writer.pending] == ["甲"]
        assert unhandled == []
    finally:
        loop.set_exception_handler(previous)


async def test_the_log_says_each_event_in_its_own_words(env, monkeypatch, caplog):
    """The operator's lines, whole: an outage, the rows dropped for memory, its end, a refused
    batch and the row it drops (an event recorded without content has none)."""
    monkeypatch.setattr(messagelog, "MAX_PENDING", 2)
    writer = env.server.messagelog
    factory = writer.db = Transactions(env.db)
    caplog.set_level(logging.WARNING, "bot.messagelog")
    writer.record("o_u", "in", "webhook", "event:subscribe")
    writer.record("o_u", "in", "webhook", "text", "甲")
    factory.down = True
    with pytest.raises(exc.OperationalError):
        await writer.flush()
    factory.down = False
    assert await writer.flush() == 2
    writer.record("o_u", "in", "webhook", "text", "乙")
    writer.record("o_u", "in", "webhook", "text", "丙")
    writer.record("o_u", "in", "webhook", "text", "丁")  # the third of two places: 乙 goes
    writer.pending[0]["content"] = None
    assert await writer.flush() == 1
    went, back, dropping, refusal, dropped = [r.getMessage() for r in caplog.records]
    assert went.startswith("message log: database unavailable (") and "database is locked" in went
    assert went.endswith("; keeping 2 rows until it is back")
    assert re.fullmatch(r"message log: database back after \d s; wrote 2 rows kept meanwhile", back)
    assert dropping == "message log: more than 2 rows wait for the database; dropping the oldest"
    assert refusal.startswith("message log: batch of 2 rows refused (") and "NOT NULL" in refusal
    assert refusal.endswith("); writing it apart")
    assert dropped.startswith(
        "message log: dropped a row the database refuses (in webhook text from o_u at 2026-01-05 02:00:00")
    assert "NOT NULL" in dropped
    assert await log_rows(env.db) == [("o_u", ""), ("o_u", "甲"), ("o_u", "丁")]
