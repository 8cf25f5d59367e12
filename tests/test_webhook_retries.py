"""Exactly once under WeChat's retries, the reply budget, and the outbox: through the real app,
customer-service messages on the local platform, and two app instances sharing PostgreSQL or Redis."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import select

from bot import outbox
from bot.dedupe import DONE, PENDING, Dedupe
from bot.router import Router
from bot.server import WEBHOOK
from core.clock import Clock
from store.migrate import upgrade
from store.models.webhook import MessageLog
from store.shared import MemoryState
from tests.webhook_helpers import text_xml, webhook_client
from tests.webhook_support import SharedMemory, make_services
from wechat.replies import Text


class Gate:
    """A handler that counts its runs and finishes when the test opens the gate."""

    def __init__(self) -> None:
        self.runs = 0
        self.started = asyncio.Event()
        self.open = asyncio.Event()
        self.router = Router("gate")

        @self.router.message("text")
        async def gated(message, ctx):
            self.runs += 1
            self.started.set()
            await self.open.wait()
            return Text(f"答复{self.runs}：{message.content}")


async def drain(hook) -> None:
    await hook.client.app[WEBHOOK].dispatcher.drain()


async def test_duplicate_in_flight_and_after_finish_runs_once_same_reply(make_settings, migrated):
    gate = Gate()
    async with make_services(make_settings, migrated) as services, \
            webhook_client(services, [gate.router]) as hook:
        xml = text_xml("o_dup", "你好")
        first = asyncio.create_task(hook.post(xml, mode="safe"))
        await gate.started.wait()
        retry = asyncio.create_task(hook.post(xml, mode="safe"))  # WeChat's retry: same body
        await asyncio.sleep(0.05)
        assert not retry.done()
        gate.open.set()
        replies = [await first, await retry]
        later = await hook.send(xml)
    from tests.webhook_helpers import open_reply, parse_reply
    contents = [parse_reply(open_reply(services.settings, text, q))["Content"] for _, text, q in replies]
    assert gate.runs == 1
    assert contents == ["答复1：你好"] * 2 and later["Content"] == "答复1：你好"


async def test_slow_handler_gets_success_then_one_customer_service_message(make_settings, migrated, sandbox):
    gate = Gate()
    async with make_services(make_settings, migrated, server={"reply_budget_seconds": 0.2},
                             wechat={"api_base_url": sandbox.url}) as services:
        async with webhook_client(services, [gate.router]) as hook:
            sandbox.platform.follower_action("o_slow", "message")  # what WeChat records for the window
            xml = text_xml("o_slow", "慢")
            t0 = time.monotonic()
            assert await hook.send(xml) == "success"
            assert time.monotonic() - t0 < 2
            assert await hook.send(xml) == "success"  # WeChat's retry: the same answer, no second run
            gate.open.set()
            await drain(hook)
            assert gate.runs == 1
    cs = sandbox.platform.state["cs_messages"]
    assert [(m["openid"], m["payload"]["content"]) for m in cs] == [("o_slow", "答复1：慢")]


async def test_slow_handler_with_window_closed_answers_on_next_message(make_settings, migrated, sandbox):
    gate = Gate()
    async with make_services(make_settings, migrated, server={"reply_budget_seconds": 0.2},
                             wechat={"api_base_url": sandbox.url}) as services:
        async with webhook_client(services, [gate.router]) as hook:
            sandbox.platform.set_follower("o_closed")  # following, but no customer-service window
            assert await hook.send(text_xml("o_closed", "慢")) == "success"
            gate.open.set()
            await drain(hook)
            assert sandbox.platform.state["cs_messages"] == []
            reply = await hook.send(text_xml("o_closed", "再问"))
            assert reply["Content"] == "答复1：慢\n\n答复2：再问"
            again = await hook.send(text_xml("o_closed", "三问"))
            assert again["Content"] == "答复3：三问"


async def test_deliver_sends_within_window_and_holds_outside(make_settings, migrated, sandbox):
    async with make_services(make_settings, migrated, wechat={"api_base_url": sandbox.url}) as services:
        async with webhook_client(services) as hook:
            sandbox.platform.follower_action("o_ed", "message")
            await hook.send(text_xml("o_ed", "帮助"))  # our side of the same window
            for i in range(5):
                assert await outbox.deliver(services, "o_ed", Text(f"通知{i}")) == "sent"
            assert await outbox.deliver(services, "o_ed", Text("第六条")) == "held"  # 5 per 48 h
            assert len(sandbox.platform.state["cs_messages"]) == 5
            reply = await hook.send(text_xml("o_ed", "联系方式"))
            assert reply["Content"].startswith("第六条\n\n")
            assert await outbox.deliver(services, "o_stranger", Text("x")) == "held"


async def _two_instances(services_a, services_b, gate):
    async with webhook_client(services_a, [gate.router]) as a, webhook_client(services_b, [gate.router]) as b:
        xml = text_xml("o_twin", "双")
        first = asyncio.create_task(a.send(xml))
        await gate.started.wait()
        retry = asyncio.create_task(b.send(xml))
        await asyncio.sleep(0.1)
        gate.open.set()
        replies = [await first, await retry]
        replies.append(await b.send(xml))
        replies.append(await a.send(xml))
    assert gate.runs == 1
    assert [r["Content"] for r in replies] == ["答复1：双"] * 4


async def test_two_instances_sharing_state_in_process_dedupe_each_others_retries(make_settings, migrated):
    """Without PostgreSQL or Redis: two app instances on one SQLite file and one shared store in
    memory, so a plain local run guards dedupe across instances too."""
    gate = Gate()
    shared = SharedMemory()
    async with make_services(make_settings, migrated, shared=shared) as a, \
            make_services(make_settings, migrated, shared=shared) as b:
        await _two_instances(a, b, gate)
        await a.messagelog.flush()
        await b.messagelog.flush()
        async with a.db() as s:
            rows = (await s.execute(select(MessageLog).order_by(MessageLog.id))).scalars().all()
    # One claim for the message, in the store both instances share, holding the one answer.
    [claim] = [value for key, (value, _) in shared.store._data.items() if key.startswith("dedupe:m:")]
    assert claim.startswith(DONE) and "答复1：双" in claim
    # Logged once across both instances and all four deliveries: the message in, the one answer out.
    assert [(r.openid, r.direction, r.channel, r.content) for r in rows] == [
        ("o_twin", "in", "webhook", "双"), ("o_twin", "out", "passive", "答复1：双")]


async def test_retry_on_other_instance_past_the_budget_in_process(make_settings, migrated, sandbox):
    """The first instance is past the reply budget: the other answers `success` too, without running
    the handler, and the one answer goes as a customer-service message (no server needed)."""
    gate = Gate()
    shared = SharedMemory()
    sandbox.platform.follower_action("o_late", "message")
    common = {"server": {"reply_budget_seconds": 0.2}, "wechat": {"api_base_url": sandbox.url}}
    async with make_services(make_settings, migrated, shared=shared, **common) as a, \
            make_services(make_settings, migrated, shared=shared, **common) as b:
        async with webhook_client(a, [gate.router]) as ha, webhook_client(b, [gate.router]) as hb:
            xml = text_xml("o_late", "慢")
            assert await ha.send(xml) == "success"
            assert await hb.send(xml) == "success"
            gate.open.set()
            await drain(ha)
            await drain(hb)
    assert gate.runs == 1
    assert [m["payload"]["content"] for m in sandbox.platform.state["cs_messages"]] == ["答复1：慢"]


async def test_two_instances_on_postgresql_dedupe_each_others_retries(make_settings, pg_url):
    await upgrade(pg_url)
    gate = Gate()
    async with make_services(make_settings, pg_url, shared_from_settings=True) as a, \
            make_services(make_settings, pg_url, shared_from_settings=True) as b:
        assert type(a.shared).__name__ == "SqlState"
        await _two_instances(a, b, gate)


async def test_two_instances_with_redis_dedupe_each_others_retries(make_settings, migrated, redis_url):
    gate = Gate()
    async with make_services(make_settings, migrated, redis={"url": redis_url}) as a, \
            make_services(make_settings, migrated, redis={"url": redis_url}) as b:
        assert type(a.shared).__name__ == "RedisState"
        await _two_instances(a, b, gate)


@pytest.mark.parametrize("budget", [0.2])
async def test_retry_on_other_instance_while_first_is_past_budget_gets_success(make_settings, migrated,
                                                                               redis_url, sandbox, budget):
    gate = Gate()
    sandbox.platform.follower_action("o_late", "message")
    common = {"redis": {"url": redis_url}, "server": {"reply_budget_seconds": budget},
              "wechat": {"api_base_url": sandbox.url}}
    async with make_services(make_settings, migrated, **common) as a, \
            make_services(make_settings, migrated, **common) as b:
        async with webhook_client(a, [gate.router]) as ha, webhook_client(b, [gate.router]) as hb:
            xml = text_xml("o_late", "慢")
            assert await ha.send(xml) == "success"
            assert await hb.send(xml) == "success"
            gate.open.set()
            await drain(ha)
            await drain(hb)
    assert gate.runs == 1
    assert [m["payload"]["content"] for m in sandbox.platform.state["cs_messages"]] == ["答复1：慢"]


class HeldWrites(MemoryState):
    """Shared state as another process sees it, whose `set_many` waits until the test releases it."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def set_many(self, items, ttl=None) -> None:
        await self.release.wait()
        await super().set_many(items, ttl)


async def test_answer_is_stored_behind_the_reply_and_drained_at_shutdown():
    state = HeldWrites()
    dedupe = Dedupe(state, Clock(), ttl=60)
    dedupe.shared = state  # as if several processes shared it (Dedupe skips MemoryState otherwise)
    runs = []

    async def produce(version):
        runs.append(version)
        return "答复"

    read = "follower:o_x"
    await state.set(read, "v7")
    assert await dedupe.once("m:1", produce, deadline=1e18, read=read) == "答复"
    assert runs == ["v7"]  # the claim read the version in the same call
    assert await state.get("dedupe:m:1") == PENDING  # the reply did not wait for the write
    assert await dedupe.once("m:1", produce, deadline=1e18) == "答复"  # a retry here: same answer
    drained = asyncio.create_task(dedupe.drain())
    await asyncio.sleep(0.01)
    assert not drained.done()  # shutdown waits for the answer to be stored…
    state.release.set()
    await drained
    assert await state.get("dedupe:m:1") == DONE + "答复"  # …so a retry elsewhere finds it
    assert runs == ["v7"]
