"""The message-log writer (bot/messagelog.py) when a batch fails: rows of a batch the database could
not take wait in memory, in order, and go with the next batch; a batch refused for a reason that is
not about its rows is kept too; rows past MAX_PENDING drop the oldest. SQLite, no server needed."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import exc, select

from bot import messagelog
from core import metrics
from core.clock import FakeClock
from store.models.webhook import MessageLog
from tests.webhook_support import make_services


def locked() -> exc.OperationalError:
    return exc.OperationalError("INSERT INTO message_log", {}, Exception("database is locked"))


async def rows_in(services) -> list[tuple[str, str, str]]:
    async with services.db() as s:
        rows = (await s.execute(select(MessageLog).order_by(MessageLog.id))).scalars().all()
    return [(r.openid, r.direction, r.content) for r in rows]


@pytest.fixture
async def services(make_settings, migrated):
    async with make_services(make_settings, migrated, clock=FakeClock()) as s:
        await s.messagelog.stop()  # no writer in the background: only the test flushes
        yield s


async def test_rows_of_a_failed_flush_wait_in_order_and_go_with_the_next(services, monkeypatch, caplog):
    writer = services.messagelog
    writer.record("o_a", "in", "webhook", "text", "第一条")
    writer.record("o_a", "out", "passive", "text", "答复一")
    writer.record("o_b", "in", "webhook", "text", "第二条")
    real = messagelog._write_rows
    calls = []

    async def down(session, rows):
        calls.append(len(rows))
        raise locked()

    monkeypatch.setattr(messagelog, "_write_rows", down)
    with caplog.at_level(logging.ERROR, "bot.messagelog"), pytest.raises(exc.OperationalError):
        await writer.flush()
    assert calls == [3]
    assert [(r["openid"], r["content"]) for r in writer.pending] == [
        ("o_a", "第一条"), ("o_a", "答复一"), ("o_b", "第二条")]
    assert writer.in_trouble()
    assert "database unavailable" in caplog.text and "keeping 3 rows" in caplog.text
    assert await rows_in(services) == []

    writer.record("o_b", "out", "passive", "text", "答复二")  # recorded while the database is away
    with pytest.raises(exc.OperationalError):
        await writer.flush()  # still away: still kept, nothing doubled
    assert [r["content"] for r in writer.pending] == ["第一条", "答复一", "第二条", "答复二"]

    monkeypatch.setattr(messagelog, "_write_rows", real)
    assert await writer.flush() == 4
    assert not writer.in_trouble() and writer.pending == []
    assert await rows_in(services) == [
        ("o_a", "in", "第一条"), ("o_a", "out", "答复一"), ("o_b", "in", "第二条"), ("o_b", "out", "答复二")]
    assert await writer.flush() == 0  # written once


async def test_a_batch_failing_alike_for_no_reason_about_its_rows_is_kept(services, monkeypatch):
    """Every row refused, but not for anything in the rows (a missing table, say): the database is the
    problem; nothing is dropped."""
    writer = services.messagelog
    writer.record("o_c", "in", "webhook", "text", "甲")
    writer.record("o_c", "in", "webhook", "text", "乙")
    real = messagelog._write_rows

    async def broken(session, rows):
        if len(writer.pending) == 0:
            writer.record("o_c", "in", "webhook", "text", "丙")  # recorded meanwhile: goes after them
        raise exc.ProgrammingError("INSERT INTO message_log", {}, Exception("no such table: message_log"))

    monkeypatch.setattr(messagelog, "_write_rows", broken)
    with pytest.raises(exc.ProgrammingError):
        await writer.flush()
    assert [r["content"] for r in writer.pending] == ["甲", "乙", "丙"]
    monkeypatch.setattr(messagelog, "_write_rows", real)
    assert await writer.flush() == 3
    assert await rows_in(services) == [("o_c", "in", "甲"), ("o_c", "in", "乙"), ("o_c", "in", "丙")]


async def test_the_database_going_away_mid_way_keeps_the_unwritten_rest(services, monkeypatch):
    """A batch refused (one bad row), then written apart; the database goes away half-way: what was
    written stays written, the bad row is dropped, the rest waits for the next batch."""
    writer = services.messagelog
    for i in range(4):
        writer.record("o_d", "in", "webhook", "text", f"行{i}")
    writer.pending[0]["content"] = None  # NOT NULL refuses this one
    real = messagelog._write_rows
    state = {"calls": 0}

    async def flaky(session, rows):
        state["calls"] += 1
        # The batch, then apart: all four, [0, 1], [0] (refused), [1] (written), then [2, 3]: away.
        if state["calls"] == 6:
            writer.record("o_d", "in", "webhook", "text", "新")  # recorded meanwhile: goes after the rest
            raise locked()
        return await real(session, rows)

    monkeypatch.setattr(messagelog, "_write_rows", flaky)
    assert await writer.flush() == 1
    assert [r["content"] for r in writer.pending] == ["行2", "行3", "新"]
    monkeypatch.setattr(messagelog, "_write_rows", real)
    assert await writer.flush() == 3
    assert await rows_in(services) == [
        ("o_d", "in", "行1"), ("o_d", "in", "行2"), ("o_d", "in", "行3"), ("o_d", "in", "新")]


async def test_more_than_max_pending_keeps_the_newest(services, monkeypatch, caplog):
    monkeypatch.setattr(messagelog, "MAX_PENDING", 3)
    writer = services.messagelog
    with caplog.at_level(logging.ERROR, "bot.messagelog"):
        for i in range(5):
            writer.record("o_e", "in", "webhook", "text", f"第{i}条")
    assert [r["content"] for r in writer.pending] == ["第2条", "第3条", "第4条"]
    assert caplog.text.count("dropping the oldest") == 1
    assert await writer.flush() == 3
    assert await rows_in(services) == [("o_e", "in", "第2条"), ("o_e", "in", "第3条"), ("o_e", "in", "第4条")]


def test_values_are_cut_to_their_columns_when_recorded():
    writer = messagelog.LogWriter(db=None, clock=FakeClock(), settings=None, followers=None)
    writer.record("o" * 70, "in", "webhook", "event:" + "x" * 80, "a\x00b", msg_key="k" * 300, elapsed_ms=1.5)
    [row] = writer.pending
    assert row["openid"] == "o" * 64 and row["msg_type"] == ("event:" + "x" * 80)[:64]
    assert row["msg_key"] == "k" * 255 and row["content"] == "ab" and row["elapsed_ms"] == 1.5
    assert (row["direction"], row["channel"]) == ("in", "webhook")


@pytest.fixture
def never_answers():
    """A `_write_rows` whose database never answers, until the test is over (then it is locked)."""
    over = asyncio.Event()

    async def write(session, rows):
        await over.wait()
        raise locked()

    yield write
    over.set()


async def test_an_outage_is_said_when_it_begins_and_when_it_ends(services, monkeypatch, caplog):
    """Rows recorded while a batch waits and then fails join the kept ones; past MAX_PENDING the
    oldest go, all counted; the log says once that the database went, once that it is back (with
    what was dropped), and says so again for the next outage."""
    monkeypatch.setattr(messagelog, "MAX_PENDING", 2)
    writer = services.messagelog
    real = messagelog._write_rows
    gate = asyncio.Event()

    async def away(session, rows):
        await gate.wait()
        raise locked()

    failures = metrics.sample("wxbot_messagelog_write_failures_total")
    evicted = metrics.sample("wxbot_evictions_total", {"map": "message_log"})
    monkeypatch.setattr(messagelog, "_write_rows", away)
    caplog.set_level(logging.WARNING, "bot.messagelog")
    writer.record("o_f", "in", "webhook", "text", "一")
    writer.record("o_f", "in", "webhook", "text", "二")
    flushing = asyncio.create_task(writer.flush())
    await asyncio.sleep(0.05)
    writer.record("o_f", "in", "webhook", "text", "三")  # while the batch waits
    writer.record("o_f", "in", "webhook", "text", "四")
    gate.set()
    with pytest.raises(exc.OperationalError):
        await flushing
    assert [r["content"] for r in writer.pending] == ["一", "二", "三", "四"]
    writer.record("o_f", "in", "webhook", "text", "五")  # five rows for two places: the oldest three go
    assert [r["content"] for r in writer.pending] == ["四", "五"]
    assert metrics.sample("wxbot_evictions_total", {"map": "message_log"}) == evicted + 3
    with pytest.raises(exc.OperationalError):
        await writer.flush()
    assert metrics.sample("wxbot_messagelog_write_failures_total") == failures + 2
    assert caplog.text.count("database unavailable") == 1
    assert caplog.text.count("dropping the oldest") == 1
    [went] = [r for r in caplog.records if "database unavailable" in r.getMessage()]
    assert not went.exc_info  # a locked database is an outage, not a fault: no traceback
    assert "database is locked" in went.getMessage()  # and why, for the operator

    monkeypatch.setattr(messagelog, "_write_rows", real)
    assert await writer.flush() == 2
    [back] = [r.getMessage() for r in caplog.records if "database back" in r.getMessage()]
    assert "wrote 2 rows kept meanwhile (3 older ones dropped)" in back
    assert await rows_in(services) == [("o_f", "in", "四"), ("o_f", "in", "五")]
    assert await writer.flush() == 0
    assert caplog.text.count("database back") == 1  # said once, not with every batch after

    monkeypatch.setattr(messagelog, "_write_rows", away)  # the next outage is said again
    for word in ("六", "七", "八", "九"):  # two dropped, one at a time
        writer.record("o_f", "in", "webhook", "text", word)
    with pytest.raises(exc.OperationalError):
        await writer.flush()
    assert caplog.text.count("database unavailable") == 2
    assert caplog.text.count("dropping the oldest") == 2
    monkeypatch.setattr(messagelog, "_write_rows", real)
    assert await writer.flush() == 2
    [_, again] = [r.getMessage() for r in caplog.records if "database back" in r.getMessage()]
    assert "wrote 2 rows kept meanwhile (2 older ones dropped)" in again


async def test_a_fault_that_is_not_an_outage_is_logged_with_its_traceback(services, monkeypatch, caplog):
    async def broken(session, rows):
        raise exc.ProgrammingError("INSERT INTO message_log", {}, Exception("no such table: message_log"))

    monkeypatch.setattr(messagelog, "_write_rows", broken)
    services.messagelog.record("o_g", "in", "webhook", "text", "甲")
    with caplog.at_level(logging.ERROR, "bot.messagelog"), pytest.raises(exc.ProgrammingError):
        await services.messagelog.flush()
    [went] = [r for r in caplog.records if "database unavailable" in r.getMessage()]
    assert went.exc_info and "keeping 1 rows" in went.getMessage()


async def test_a_batch_that_waits_too_long_means_trouble(services, monkeypatch):
    """The dispatcher asks `in_trouble()`: not while a batch takes its usual moment, yes once it has
    waited more than STALL_SECONDS (1 s), and no again when it is through."""
    writer = services.messagelog
    real = messagelog._write_rows
    gate = asyncio.Event()

    async def slow(session, rows):
        await gate.wait()
        return await real(session, rows)

    monkeypatch.setattr(messagelog, "_write_rows", slow)
    writer.record("o_h", "in", "webhook", "text", "慢")
    assert not writer.in_trouble()
    flushing = asyncio.create_task(writer.flush())
    await asyncio.sleep(0.6)
    assert not writer.in_trouble()
    await asyncio.sleep(0.6)
    assert writer.in_trouble()
    gate.set()
    assert await flushing == 1
    assert not writer.in_trouble()
    assert await rows_in(services) == [("o_h", "in", "慢")]


async def test_rows_the_database_refuses_are_dropped_and_said_the_rest_written(services, caplog):
    """Every row of the batch refused for what it holds (NOT NULL): dropped, each with what it was,
    and nothing kept for a next batch that could never take them."""
    writer = services.messagelog
    for word in ("坏一", "好", "坏二"):
        writer.record("o_i", "in", "webhook", "text", word)
    writer.pending[0]["content"] = None
    writer.pending[2]["content"] = None
    with caplog.at_level(logging.WARNING, "bot.messagelog"):
        assert await writer.flush() == 1
    assert writer.pending == [] and not writer.in_trouble()
    assert await rows_in(services) == [("o_i", "in", "好")]
    dropped = [r.getMessage() for r in caplog.records if "dropped a row" in r.getMessage()]
    assert len(dropped) == 2 and all("(in webhook text from o_i at 2026-01-05 02:00:00" in d for d in dropped)
    assert all("NOT NULL" in d for d in dropped)  # and why
    assert "erasure check not done" not in caplog.text  # the batch's erasure check ran as after any batch
    [refusal] = [r.getMessage() for r in caplog.records if "batch of 3 rows refused" in r.getMessage()]
    assert "NOT NULL" in refusal  # the database's reason, for the operator

    writer.record("o_i", "in", "webhook", "text", "坏三")
    writer.record("o_i", "in", "webhook", "text", "坏四")
    for row in writer.pending:
        row["content"] = None
    assert await writer.flush() == 0  # all refused, for what they hold: dropped, not raised
    assert writer.pending == [] and await rows_in(services) == [("o_i", "in", "好")]


async def test_a_batch_longer_than_a_statement_is_written_whole(services):
    writer = services.messagelog
    for i in range(messagelog.CHUNK * 2 + 7):
        writer.record("o_j", "in", "webhook", "text", f"{i}")
    assert await writer.flush() == messagelog.CHUNK * 2 + 7
    rows = await rows_in(services)
    assert [int(c) for _, _, c in rows] == list(range(messagelog.CHUNK * 2 + 7))


async def test_flush_quietly_says_what_is_not_written_and_never_raises(services, monkeypatch, caplog,
                                                                       never_answers):
    writer = services.messagelog
    writer.record("o_k", "in", "webhook", "text", "甲")
    writer.record("o_k", "in", "webhook", "text", "乙")

    async def down(session, rows):
        raise locked()

    monkeypatch.setattr(messagelog, "_write_rows", down)
    with caplog.at_level(logging.ERROR, "bot.messagelog"):
        await writer.flush_quietly()
    [said] = [r.getMessage() for r in caplog.records if "not written" in r.getMessage()]
    assert said.startswith("message log: 2 rows and ") and "database is locked" in said

    monkeypatch.setattr(messagelog, "_write_rows", never_answers)
    caplog.clear()
    with caplog.at_level(logging.ERROR, "bot.messagelog"):
        await asyncio.wait_for(writer.flush_quietly(timeout=0.3), 5)
    [said] = [r.getMessage() for r in caplog.records if "not written" in r.getMessage()]
    assert said.startswith("message log: 0 rows and ")  # the hung batch holds them
    assert "(the database did not answer within 0 s)" in said


async def test_stop_waits_five_seconds_for_a_database_that_does_not_answer(services, monkeypatch, caplog,
                                                                          never_answers):
    writer = services.messagelog
    writer.record("o_l", "in", "webhook", "text", "甲")
    monkeypatch.setattr(messagelog, "_write_rows", never_answers)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with caplog.at_level(logging.ERROR, "bot.messagelog"):
        await asyncio.wait_for(writer.stop(), 15)
    assert 4.5 <= loop.time() - started
    assert "did not answer within 5 s" in caplog.text


async def test_the_writer_keeps_going_after_a_failed_batch_and_after_a_restart(make_settings, migrated, monkeypatch):
    async with make_services(make_settings, migrated, log={"flush_seconds": 0.05}) as services:
        writer = services.messagelog
        real = messagelog._write_rows
        calls = []

        async def flaky(session, rows):
            calls.append(len(rows))
            if len(calls) <= 2:
                raise locked()
            return await real(session, rows)

        monkeypatch.setattr(messagelog, "_write_rows", flaky)
        writer.record("o_m", "in", "webhook", "text", "甲")
        for _ in range(200):
            if await rows_in(services):
                break
            await asyncio.sleep(0.02)
        assert await rows_in(services) == [("o_m", "in", "甲")] and calls[:3] == [1, 1, 1]

        await writer.stop()
        writer.record("o_m", "in", "webhook", "text", "乙")
        await asyncio.sleep(0.3)  # six turns of the writer, had it not stopped
        assert len(await rows_in(services)) == 1 and len(writer.pending) == 1
        writer.start()  # started again (another `running()` block): it writes on its own again
        for _ in range(200):
            if len(await rows_in(services)) == 2:
                break
            await asyncio.sleep(0.02)
        assert await rows_in(services) == [("o_m", "in", "甲"), ("o_m", "in", "乙")]


async def test_purge_keeps_rows_of_exactly_the_retention_and_tail_gives_the_last_oldest_first(services):
    writer = services.messagelog
    writer.record("o_n", "in", "webhook", "text", "最早")
    services.clock.advance(1)
    writer.record("o_p", "in", "webhook", "text", "其次")
    writer.record("o_n", "out", "passive", "text", "最后")
    await writer.flush()
    assert [(r.openid, r.content) for r in await messagelog.tail(services, 2)] == [
        ("o_p", "其次"), ("o_n", "最后")]
    assert [r.content for r in await messagelog.tail(services)] == ["最早", "其次", "最后"]
    assert [r.content for r in await messagelog.tail(services, 5, "o_n")] == ["最早", "最后"]

    for i in range(25):
        writer.record("o_s", "in", "webhook", "text", f"{i}")
    await writer.flush()
    assert [r.content for r in await messagelog.tail(services)] == [f"{i}" for i in range(5, 25)]  # 20
    assert [r.content for r in await messagelog.tail(services, 50, "o_p")] == ["其次"]

    services.clock.advance(180 * 86400 - 1)  # the first row exactly 180 days old: kept
    assert await messagelog.purge_old(services) == 0
    services.clock.advance(1)
    assert await messagelog.purge_old(services) == 1
    assert [r.content for r in await messagelog.tail(services, 3, "o_n")] == ["最后"]


async def test_forget_takes_the_followers_waiting_rows_and_no_one_elses(services):
    writer = services.messagelog
    writer.record("o_q", "in", "webhook", "text", "旧")
    await writer.flush()
    writer.record("o_q", "in", "webhook", "text", "待写")
    writer.record("o_r", "in", "webhook", "text", "别人的")
    assert await messagelog.forget(services, "o_q") == 1
    assert await messagelog.forget(services, "o_nobody") == 0
    assert [r["content"] for r in writer.pending] == ["别人的"]
    await writer.flush()
    assert await rows_in(services) == [("o_r", "in", "别人的")]
