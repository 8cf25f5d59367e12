"""The message-log writer (bot/messagelog.py) when a batch fails: rows of a batch the database could
not take wait in memory, in order, and go with the next batch; a batch refused for a reason that is
not about its rows is kept too; rows past MAX_PENDING drop the oldest. SQLite, no server needed."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import exc, select

from bot import messagelog
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
        raise exc.ProgrammingError("INSERT INTO message_log", {}, Exception("no such table: message_log"))

    monkeypatch.setattr(messagelog, "_write_rows", broken)
    with pytest.raises(exc.ProgrammingError):
        await writer.flush()
    assert [r["content"] for r in writer.pending] == ["甲", "乙"]
    monkeypatch.setattr(messagelog, "_write_rows", real)
    assert await writer.flush() == 2
    assert await rows_in(services) == [("o_c", "in", "甲"), ("o_c", "in", "乙")]


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
            raise locked()
        return await real(session, rows)

    monkeypatch.setattr(messagelog, "_write_rows", flaky)
    assert await writer.flush() == 1
    assert [r["content"] for r in writer.pending] == ["行2", "行3"]
    monkeypatch.setattr(messagelog, "_write_rows", real)
    assert await writer.flush() == 2
    assert await rows_in(services) == [("o_d", "in", "行1"), ("o_d", "in", "行2"), ("o_d", "in", "行3")]


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
