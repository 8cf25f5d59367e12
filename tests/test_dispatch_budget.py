"""bot/dispatch.py's reply budget on its own, with a stand-in follower store and message log: a
handler past the budget gets `success` (or the error text while the database is not answering),
its late reply or failure goes through the outbox once, a handler that raises is answered with the
error text and counted, the follower's state is written before the answer and within the budget,
and what the log and the metrics say. tests/test_webhook_retries.py drives the same through the app."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import pytest

from bot import dispatch, texts
from bot.dispatch import Dispatcher
from bot.router import Router
from core import logs, metrics
from core.clock import FakeClock
from tests.webhook_helpers import text_xml
from wechat import protocol, render
from wechat.replies import Text

BUDGET = 0.05  # real seconds: asyncio.wait_for waits on the loop's clock
OPENID = "o_budget"


class Store:
    """The FollowerStore surface the dispatcher uses, recording what it was asked."""

    def __init__(self, *, cached: bool = True, provisional: bool = False, dirty: bool = True,
                 sync_seconds: float = 0.0, sync_fails: bool = False) -> None:
        self.follower = SimpleNamespace(openid=OPENID, state=None, held=None)
        self._cached, self.provisional, self.dirty = cached, provisional, dirty
        self.sync_seconds, self.sync_fails = sync_seconds, sync_fails
        self.calls: list[tuple] = []
        self.synced: list[object] = []

    def cached(self, openid, version):
        self.calls.append(("cached", openid, version))
        return self.follower if self._cached else None

    async def get_within(self, openid, version, seconds):
        self.calls.append(("get_within", openid, version, seconds))
        return self.follower

    def is_provisional(self, openid):
        self.calls.append(("is_provisional", openid))
        return self.provisional

    def touch(self, follower, message):
        self.calls.append(("touch", follower, message.content))

    def changed(self, follower):
        self.calls.append(("changed", follower))

    def capacity(self, follower):
        return 0

    def needs_sync(self, follower):
        self.calls.append(("needs_sync", follower))
        return self.dirty

    async def sync(self, follower):
        await asyncio.sleep(self.sync_seconds)
        if self.sync_fails:
            raise RuntimeError("database gone")
        self.synced.append(follower)


class Log:
    def __init__(self, trouble: bool = False) -> None:
        self.rows: list[tuple] = []
        self.trouble = trouble

    def record(self, openid, direction, channel, msg_type, content="", msg_key=None, elapsed_ms=None):
        self.rows.append((openid, direction, channel, msg_type, content, msg_key, elapsed_ms))

    def in_trouble(self):
        return self.trouble


@pytest.fixture
def delivered(monkeypatch):
    """What went to the outbox: (openid, replies) per delivery; held replies put back."""
    sent: list[tuple] = []
    back: list[tuple] = []
    given: list[object] = []  # the services each call was given (the outbox needs the real ones)

    async def deliver(services, openid, replies):
        given.append(services)
        sent.append((openid, list(replies)))

    def hold_in_memory(services, follower, replies):
        given.append(services)
        back.append((follower, list(replies)))

    def take_held(services, follower):
        given.append(services)
        return list(getattr(follower, "taken", []))

    monkeypatch.setattr(dispatch.outbox, "deliver", deliver)
    monkeypatch.setattr(dispatch.outbox, "hold_in_memory", hold_in_memory)
    monkeypatch.setattr(dispatch.outbox, "take_held", take_held)
    return SimpleNamespace(sent=sent, back=back, given=given)


def make(store: Store, log: Log, handler, budget: float = BUDGET) -> Dispatcher:
    router = Router("t")
    router.contains("")(handler)
    clock = FakeClock()
    services = SimpleNamespace(followers=store, messagelog=log, clock=clock,
                               settings=SimpleNamespace(server=SimpleNamespace(reply_budget_seconds=budget)))
    return Dispatcher(services, [router])


def count(counter, label: str) -> float:
    return counter.labels(label)._value.get()


MESSAGE = protocol.parse(text_xml(OPENID, "问一下"))


async def answer(d: Dispatcher, version: object = dispatch.NOT_READ) -> str:
    return await d.answer(MESSAGE, "k1", d.services.clock.monotonic(), version)


async def test_an_answer_in_time_is_logged_rendered_and_synced_first(delivered):
    store, log = Store(), Log()

    async def handler(message, ctx):
        assert ctx.openid == OPENID and ctx.follower is store.follower
        assert store.synced == []  # the state is written after the handler, before the answer
        ctx.services.clock.advance(0.25)
        return Text("答复")

    d = make(store, log, handler)
    before = count(metrics.REPLIES, "text")
    xml = await answer(d, version="v7")
    assert render.to_xml(Text("答复"), OPENID, MESSAGE.target, int(d.services.clock.time())) == xml
    assert count(metrics.REPLIES, "text") == before + 1
    assert store.calls[0] == ("cached", OPENID, "v7")
    assert ("touch", store.follower, "问一下") in store.calls
    assert store.synced == [store.follower]
    assert log.rows == [(OPENID, "in", "webhook", "text", "问一下", "k1", None),
                        (OPENID, "out", "passive", "text", "答复", "k1", 250.0)]
    assert delivered.sent == []


async def test_first_message_reads_the_record_within_half_the_budget(delivered):
    store, log = Store(cached=False), Log()

    async def handler(message, ctx):
        return Text("好")

    d = make(store, log, handler, budget=4.0)
    await answer(d, version="v1")
    assert ("get_within", OPENID, "v1", 2.0) in store.calls
    assert ("is_provisional", OPENID) in store.calls


async def test_past_the_budget_success_then_the_reply_after_the_held_ones(delivered, caplog):
    store, log = Store(), Log()
    store.follower.taken = [Text("留言")]
    release = asyncio.Event()

    async def handler(message, ctx):
        await release.wait()
        return Text("迟到的答复")

    d = make(store, log, handler)
    before = count(metrics.DEADLINE_FALLBACKS, "success"), count(metrics.REPLIES, "success")
    with caplog.at_level(logging.INFO, logger="bot.dispatch"):
        assert await answer(d) == render.SUCCESS
    said = [r for r in caplog.records if r.getMessage() == "handler past the budget; answering success, reply follows"]
    assert [(r.user, r.msg_id) for r in said] == [(logs.hashed(OPENID), "k1")]
    assert (count(metrics.DEADLINE_FALLBACKS, "success"), count(metrics.REPLIES, "success")) == (
        before[0] + 1, before[1] + 1)
    assert [r[1] for r in log.rows] == ["in"]  # nothing passive to log
    assert store.synced == [store.follower]  # written before answering, within the budget
    release.set()
    await d.drain()
    assert delivered.sent == [(OPENID, [Text("留言"), Text("迟到的答复")])]
    assert store.synced == [store.follower, store.follower]  # and again after the late reply
    assert delivered.given == [d.services, d.services]  # taken, then delivered
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_past_the_budget_while_the_database_is_down_gives_the_error_text_once(delivered):
    for store, log in ((Store(), Log(trouble=True)), (Store(cached=False, provisional=True), Log())):
        release = asyncio.Event()

        async def handler(message, ctx, release=release):
            await release.wait()
            return Text(texts.ERROR)

        d = make(store, log, handler)
        before = count(metrics.DEADLINE_FALLBACKS, "error_text")
        xml = await answer(d)
        assert protocol_content(xml) == texts.ERROR
        assert count(metrics.DEADLINE_FALLBACKS, "error_text") == before + 1
        assert store.synced == [store.follower]
        assert log.rows[-1][1:5] == ("out", "passive", "text", texts.ERROR)
        release.set()
        await d.drain()
        assert delivered.sent == []  # the late answer is the error text the follower has already
        delivered.sent.clear()


async def test_a_late_failure_is_logged_and_told_once(delivered, caplog):
    store, log = Store(), Log()
    release = asyncio.Event()

    async def handler(message, ctx):
        await release.wait()
        raise KeyError("boom")

    d = make(store, log, handler)
    d.handle = lambda message, follower, state: _raise_after(release)  # the handling itself fails late
    assert await answer(d) == render.SUCCESS
    with caplog.at_level(logging.ERROR, logger="bot.dispatch"):
        release.set()
        await d.drain()
    assert delivered.sent == [(OPENID, [Text(texts.ERROR)])]
    late = [r for r in caplog.records if r.getMessage() == f"handler for {logs.hashed(OPENID)} failed after the budget"]
    assert late and late[0].exc_info[0] is KeyError


@pytest.mark.parametrize("waits", [True, False])
async def test_handling_that_fails_in_time_answers_the_error_text(delivered, caplog, waits):
    """After waiting (its task fails within the budget) or in its first step (in place)."""
    store, log = Store(), Log()
    d = make(store, log, None)
    release = asyncio.Event()
    release.set()
    d.handle = lambda message, follower, state: _raise_after(release, waits)
    with caplog.at_level(logging.ERROR, logger="bot.dispatch"):
        xml = await answer(d)
    assert xml == render.to_xml(Text(texts.ERROR), OPENID, MESSAGE.target, int(d.services.clock.time()))
    assert log.rows[-1] == (OPENID, "out", "passive", "text", texts.ERROR, "k1", 0.0)
    failed = [r for r in caplog.records if r.getMessage() == "background task _raise_after failed"]
    assert [r.exc_info[0] for r in failed] == [KeyError]


async def test_a_late_failure_after_the_error_text_says_nothing_more(delivered):
    store, log = Store(), Log(trouble=True)
    release = asyncio.Event()
    d = make(store, log, None)
    d.handle = lambda message, follower, state: _raise_after(release)
    assert protocol_content(await answer(d)) == texts.ERROR
    release.set()
    await d.drain()
    assert delivered.sent == []


async def test_a_handler_cancelled_at_shutdown_holds_the_taken_replies_again(delivered, caplog):
    store, log = Store(), Log()
    store.follower.taken = [Text("留言")]

    async def handler(message, ctx):
        await asyncio.sleep(60)

    d = make(store, log, handler)
    assert await answer(d) == render.SUCCESS
    with caplog.at_level(logging.WARNING, logger="bot.dispatch"):
        await d.drain(timeout=0.01)
    assert delivered.back == [(store.follower, [Text("留言")])]
    assert delivered.sent == []
    assert delivered.given == [d.services, d.services]  # taken, then held again

    delivered.back.clear()
    store.follower.taken = []  # nothing was taken: nothing is held again
    d = make(store, log, handler)
    assert await answer(d) == render.SUCCESS
    await d.drain(timeout=0.01)
    assert delivered.back == []
    assert f"handler for {logs.hashed(OPENID)} cancelled after the budget (shutdown)" in caplog.messages


async def test_a_handler_that_raises_in_time_gets_the_error_text_and_is_counted(delivered, caplog):
    store, log = Store(), Log()

    async def failing_handler(message, ctx):
        raise ValueError("bad")

    d = make(store, log, failing_handler)
    before = count(metrics.HANDLER_ERRORS, "failing_handler")
    with caplog.at_level(logging.ERROR, logger="bot.dispatch"):
        xml = await answer(d)
    assert protocol_content(xml) == texts.ERROR
    assert count(metrics.HANDLER_ERRORS, "failing_handler") == before + 1
    failed = [r for r in caplog.records
              if r.getMessage() == f"handler failing_handler failed on text from {logs.hashed(OPENID)}"]
    assert failed and failed[0].exc_info[0] is ValueError and failed[0].user == logs.hashed(OPENID)


async def test_the_state_write_is_bounded_by_the_budget_and_its_failure_logged(delivered, caplog):
    async def handler(message, ctx):
        return Text("好")

    slow = Store(sync_seconds=5)
    d = make(slow, Log(), handler)
    with caplog.at_level(logging.WARNING, logger="bot.dispatch"):
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        assert protocol_content(await answer(d)) == "好"
        assert loop.time() - t0 < 2  # not the five seconds of the write
    assert f"the state of {logs.hashed(OPENID)} is not written yet; the next batch retries" in caplog.messages

    caplog.clear()
    failing = Store(sync_fails=True)
    d = make(failing, Log(), handler)
    with caplog.at_level(logging.WARNING, logger="bot.dispatch"):
        assert protocol_content(await answer(d)) == "好"
    msg = f"could not write the state of {logs.hashed(OPENID)} now; the next batch retries"
    assert [r.exc_info[0] for r in caplog.records if r.getMessage() == msg] == [RuntimeError]

    clean = Store(dirty=False)
    d = make(clean, Log(), handler)
    await answer(d)
    assert clean.synced == [] and ("needs_sync", clean.follower) in clean.calls


async def _raise_after(event: asyncio.Event, waits: bool = True):
    await event.wait()  # a set event does not suspend
    if waits:
        await asyncio.sleep(0)
    raise KeyError("boom")


def protocol_content(xml: str) -> str:
    import xmltodict

    return xmltodict.parse(xml)["xml"]["Content"]


async def test_nothing_to_say_in_time_is_success_and_nothing_follows(delivered):
    store, log = Store(), Log()

    async def quiet(message, ctx):
        return None

    d = make(store, log, quiet)
    before = count(metrics.REPLIES, "success")
    assert await answer(d) == render.SUCCESS
    await d.drain()
    assert count(metrics.REPLIES, "success") == before + 1
    assert delivered.sent == []


async def test_past_the_budget_the_answer_comes_within_it_even_with_a_slow_state_write(delivered):
    store, log = Store(sync_seconds=5), Log(trouble=True)
    release = asyncio.Event()

    async def handler(message, ctx):
        await release.wait()

    d = make(store, log, handler)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    xml = await answer(d)
    assert loop.time() - t0 < 0.5  # the budget is 0.05 s: not a second more, not the write's 5 s
    assert protocol_content(xml) == texts.ERROR
    assert log.rows[-1][5] == "k1"  # the fallback's log row keeps the message key
    release.set()
    await d.drain(timeout=0.1)
