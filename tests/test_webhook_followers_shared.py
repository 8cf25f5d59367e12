"""Follower records across two app instances sharing one PostgreSQL database, with the shared state
in PostgreSQL (SqlState) or Redis: a conversation step, held replies, unsubscribing and erasure
made through one instance are what the other one acts on (bot/followers.py, bot/messagelog.py).
Real signed and encrypted XML through the real app and routers; the local platform for
customer-service messages."""

from __future__ import annotations

import re
from contextlib import AsyncExitStack

import pytest
from sqlalchemy import select

from bot import messagelog, outbox
from bot.server import WEBHOOK
from store.members import binding
from store.members import texts as member_texts
from store.members.demo import demo_rows, load_demo
from store.migrate import upgrade
from store.models.webhook import Follower, MessageLog
from tests.webhook_helpers import event_xml, text_xml, webhook_client
from tests.webhook_support import make_services
from wechat.replies import Text

UNIT = next(r for r in demo_rows() if r.name == "浙江省婚姻家庭协会")
HELD = "通知：您关注的稿件已发布"


class Pair:
    """Two instances of the app (A and B) on one database and one shared state."""

    def __init__(self, a, b, hook_a, hook_b, open_services) -> None:
        self.a, self.b, self.hook_a, self.hook_b = a, b, hook_a, hook_b
        self.open_services = open_services  # a third process on the same database and state

    async def say(self, hook, openid: str, text: str) -> str:
        reply = await hook.send(text_xml(openid, text), mode="safe")
        return reply if isinstance(reply, str) else reply["Content"]

    async def event(self, hook, openid: str, event: str) -> str | dict:
        return await hook.send(event_xml(openid, event), mode="safe")

    async def settle(self) -> None:
        """Both instances' background work done and their batches written."""
        for hook, services in ((self.hook_a, self.a), (self.hook_b, self.b)):
            await hook.client.app[WEBHOOK].dispatcher.drain()
            await services.messagelog.flush()

    async def row(self, openid: str) -> Follower | None:
        async with self.a.db() as session:
            return await session.get(Follower, openid)

    async def log_rows(self, openid: str) -> list[MessageLog]:
        async with self.a.db() as session:
            query = select(MessageLog).where(MessageLog.openid == openid).order_by(MessageLog.id)
            return list(await session.scalars(query))


@pytest.fixture(params=["postgresql", "redis"])
def redis_or_none(request) -> str | None:
    """Where the shared state lives: PostgreSQL itself (None), or Redis (its URL)."""
    return request.getfixturevalue("redis_url") if request.param == "redis" else None


@pytest.fixture
async def pair(make_settings, pg_url, redis_or_none, sandbox):
    await upgrade(pg_url)
    sections = {"wechat": {"api_base_url": sandbox.url}}
    if redis_or_none:
        sections["redis"] = {"url": redis_or_none}

    def open_services():
        return make_services(make_settings, pg_url, shared_from_settings=True, **sections)

    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(open_services())
        b = await stack.enter_async_context(open_services())
        assert type(a.shared).__name__ == ("RedisState" if redis_or_none else "SqlState")
        await load_demo(a)
        hook_a = await stack.enter_async_context(webhook_client(a))
        hook_b = await stack.enter_async_context(webhook_client(b))
        yield Pair(a, b, hook_a, hook_b, open_services)


async def test_step_set_on_one_instance_is_answered_on_the_other(pair):
    o = "o_step"
    # B has its own copy of the follower before A changes the step.
    assert "【" not in await pair.say(pair.hook_b, o, "你好")
    listing = await pair.say(pair.hook_a, o, "会员 婚姻家庭协会")
    choices = dict(re.findall(r"^(\d)\. (\S+)$", listing, re.M))
    assert sorted(choices.values()) == ["宁波市婚姻家庭协会", "杭州市婚姻家庭协会", "浙江省婚姻家庭协会"]

    answer = await pair.say(pair.hook_b, o, "1")
    assert answer.startswith(f"【{choices['1']}】") and "本会会员：是" in answer
    # B replaces the list; A's copy, read before that, must answer from B's list, not its own.
    others = dict(re.findall(r"^(\d)\. (\S+)$", await pair.say(pair.hook_b, o, "会员 慈善"), re.M))
    assert len(others) == 3 and set(others.values()).isdisjoint(choices.values())
    assert (await pair.say(pair.hook_a, o, "1")).startswith(f"【{others['1']}】")

    # And back the other way: a list from A answered on B.
    listing = await pair.say(pair.hook_a, o, "查询 婚姻家庭协会")
    choices = dict(re.findall(r"^(\d)\. (\S+)$", listing, re.M))
    assert (await pair.say(pair.hook_b, o, "3")).startswith(f"【{choices['3']}】")
    await pair.settle()
    assert (await pair.row(o)).state["kind"] == "member_choice"  # still answerable until it expires


async def test_reply_held_on_one_instance_is_delivered_once_by_the_other(pair, sandbox):
    o = "o_held"
    sandbox.platform.set_follower(o)  # following, but the platform has no window open for them
    await pair.say(pair.hook_b, o, "你好")  # B caches the follower
    await pair.say(pair.hook_a, o, "你好")  # A caches them, with our side's window open
    assert await outbox.deliver(pair.a, o, Text(HELD)) == "held"  # the platform refused (45015)
    assert sandbox.platform.state["cs_messages"] == []
    assert sandbox.calls("message/custom/send", errcode=45015)
    assert (await pair.row(o)).held  # written at once, not with the next batch

    reply = await pair.say(pair.hook_b, o, "帮助")
    assert reply.startswith(HELD + "\n\n") and reply.count(HELD) == 1
    assert HELD not in await pair.say(pair.hook_a, o, "帮助")
    assert HELD not in await pair.say(pair.hook_b, o, "帮助")
    await pair.settle()
    assert (await pair.row(o)).held is None
    channels = [(r.channel, r.content) for r in await pair.log_rows(o) if HELD in r.content]
    assert channels == [("held", HELD), ("passive", reply)]
    assert sandbox.platform.state["cs_messages"] == []


async def test_unsubscribe_on_one_instance_is_seen_by_the_other(pair, sandbox):
    o = "o_leaving"
    sandbox.platform.follower_action(o, "message")  # the platform would take messages for them
    code, _, _ = await binding.issue_code(pair.a.db, UNIT.credit_code, pair.a.clock.now(), 60)
    assert (await pair.say(pair.hook_b, o, f"绑定 {code}")).startswith("绑定成功")
    await pair.say(pair.hook_b, o, "会员 婚姻家庭协会")  # B also holds a pending step for them
    store_b = pair.b.followers
    assert (await store_b.get(o)).subscribed

    assert await pair.event(pair.hook_a, o, "unsubscribe") in ("success", "")
    follower = await store_b.get(o)
    assert not follower.subscribed and follower.state is None and store_b.capacity(follower) == 0
    # B's own window record said "open", but an unsubscribed follower gets nothing sent.
    assert await outbox.deliver(pair.b, o, Text(HELD)) == "held"
    assert sandbox.platform.state["cs_messages"] == []
    _, bindings, events = await binding.bindings_of(pair.b.db, UNIT.credit_code)
    assert [b.revoked_at is not None for b in bindings] == [True]
    assert [e.kind for e in events] == ["bind", "unsubscribe"]
    await pair.settle()  # B's batch does not bring the old "subscribed" back
    assert not (await pair.row(o)).subscribed

    # Following again through B: welcomed, not bound any more, and A sees them subscribed.
    welcome = await pair.event(pair.hook_b, o, "subscribe")
    assert welcome["Content"].startswith(HELD)  # what was held while they were gone comes first
    assert await pair.say(pair.hook_b, o, "我的状态") == member_texts.NOT_BOUND
    assert (await pair.a.followers.get(o)).subscribed


async def test_forget_on_one_instance_is_not_undone_by_the_other(pair):
    o = "o_erase"
    await pair.say(pair.hook_b, o, "会员 婚姻家庭协会")  # a step, written at once
    await pair.settle()
    await pair.say(pair.hook_a, o, "你好")
    await pair.say(pair.hook_b, o, "还在吗")  # B's batch now holds this exchange and a dirty record
    assert (await pair.row(o)) is not None

    # B's first exchange is written; A's is still in A's batch, which the erasure empties.
    assert await messagelog.forget(pair.a, o) == 2
    await pair.settle()  # B's batch, written after the erasure
    assert await pair.row(o) is None
    assert await pair.log_rows(o) == []

    # The follower writes again through B: a fresh record, only the new messages.
    assert "【" not in await pair.say(pair.hook_b, o, "1")  # the step was erased with the rest
    await pair.settle()
    row = await pair.row(o)
    assert row is not None and row.state is None
    logged = [(r.direction, r.content) for r in await pair.log_rows(o)]
    assert logged[0] == ("in", "1") and len(logged) == 2 and logged[1][0] == "out"


async def test_forget_from_a_command_is_not_undone_by_either_instance(pair):
    """`followers forget` runs in its own process while both instances hold unwritten copies."""
    o = "o_erase_cli"
    await pair.say(pair.hook_a, o, "会员 婚姻家庭协会")
    await pair.say(pair.hook_b, o, "你好")
    await pair.say(pair.hook_a, o, "还在吗")
    async with pair.open_services() as command:
        await messagelog.forget(command, o)
        erased_at = command.clock.now()

    # A new message reaches B before either batch is written: only it survives the batches.
    assert "【" not in await pair.say(pair.hook_b, o, "2")  # A's list was erased too
    await pair.settle()
    await pair.settle()
    row = await pair.row(o)
    assert row is not None and row.first_seen >= erased_at and row.state is None
    assert [(r.direction, r.content) for r in await pair.log_rows(o)][0] == ("in", "2")
    assert len(await pair.log_rows(o)) == 2
