"""Editor notices through the bot's real webhook and the local platform: a notice that is no longer true
is never sent, waiting notices go out as one message when the editor's window opens, a failure
reaches whichever editor can receive it and stays listed until acknowledged, and delivered notices
are not listed as undelivered."""

from __future__ import annotations

import itertools
import time
from datetime import timedelta

from sqlalchemy import select

from sandbox.delivery import text_message
from scheduler import editing, report
from store.models.pushes import Notification
from tests.scheduler_support import EDITOR, bot_env

OTHER = "o_editor_0002"
_ids = itertools.count(9_000_001)


async def editor_writes(env, openid: str, text: str = "帮助") -> str:
    """The editor sends a message to the account (through the bot's webhook); the passive reply."""
    xml = text_message(env.settings.wechat.account_id, openid, text, next(_ids), int(time.time()))
    result = await env.sandbox.platform.delivery().deliver(xml)
    assert result.ok, result.error
    return result.reply


def texts_to(sandbox, openid: str) -> list[str]:
    return [m["payload"]["content"] for m in sandbox.platform.state["cs_messages"]
            if m["openid"] == openid and m["msgtype"] == "text"]


async def notes(env, push_id: int) -> list[Notification]:
    async with env.services.db() as s:
        return list((await s.scalars(select(Notification).where(Notification.push_id == push_id)
                                     .order_by(Notification.id))).all())


async def test_a_notice_no_longer_true_is_never_sent_and_delivered_ones_are_not_listed(sandbox, make_settings):
    async with bot_env(sandbox, make_settings) as env:
        ids = await env.articles(2, images=1)
        at = env.services.clock.now() + timedelta(days=2)
        push = await editing.create(env.services, editing.PushSpec([ids[0]], at=at))
        await env.drive(push.id, ("drafted",), until_fn=lambda p: p.next_run_at is None)
        await env.runner.tick()
        (ask,) = await notes(env, push.id)
        assert ask.kind == "approval" and ask.status == "waiting"  # the editor's window is closed
        # Words first, for a phone; the command after them.
        first, *rest = ask.text.splitlines()
        assert "等您批准" in first and "python" not in first and any("push approve" in line for line in rest)
        listed = await report.push_list(env.services, 10)
        assert "还没送达的通知" in listed and "等待编辑打开窗口" in listed

        # The push goes out (an editor chose "send now") before the editor writes to the account.
        await editing.send_now(env.services, push.id)
        await env.drive(push.id, ("done",))
        reply = await editor_writes(env, EDITOR)
        assert "批准" not in reply  # nothing held for the passive reply
        await env.runner.tick()
        sent = texts_to(sandbox, EDITOR)
        assert len(sent) == 1 and "已发布" in sent[0] and "批准" not in sent[0]
        assert [(n.kind, n.status) for n in await notes(env, push.id)] == [("approval", "obsolete"), ("done", "sent")]
        listed = await report.push_list(env.services, 10)
        assert "还没送达" not in listed and "需要您处理" not in listed


async def test_waiting_notices_go_as_one_message_when_the_window_opens(sandbox, make_settings):
    async with bot_env(sandbox, make_settings) as env:
        ids = await env.articles(2, images=1)
        at = env.services.clock.now() + timedelta(days=2)
        pushes = [await editing.create(env.services, editing.PushSpec([aid], at=at + timedelta(hours=i)))
                  for i, aid in enumerate(ids)]
        for p in pushes:
            await env.drive(p.id, ("drafted",), until_fn=lambda p: p.next_run_at is None)
        await env.runner.tick()
        assert texts_to(sandbox, EDITOR) == []
        await editor_writes(env, EDITOR)
        await env.runner.tick()
        (message,) = texts_to(sandbox, EDITOR)  # one of the 5 messages the window allows, not two
        assert message.startswith("您有 2 条推送通知") and f"#{pushes[0].id}" in message and f"#{pushes[1].id}" in message


async def test_a_failure_reaches_an_editor_who_can_receive_it_and_stays_listed_until_acknowledged(
        sandbox, make_settings):
    async with bot_env(sandbox, make_settings, editors={"openids": [EDITOR, OTHER]},
                       scheduler={"auto_approve": True}) as env:
        sandbox.platform.set_follower(OTHER)
        await editor_writes(env, OTHER)  # only the second editor's window is open
        ids = await env.articles(1, images=1)
        push = await editing.create(env.services, editing.PushSpec(ids, at=env.services.clock.now() + timedelta(days=2)))
        sandbox.platform.add_fault("draft/add", errcode=45002)
        await env.drive(push.id, ("failed",))
        await env.runner.tick()
        (failure,) = texts_to(sandbox, OTHER)
        assert "没有发出去" in failure and "超过了微信的长度限制" in failure and "请缩短文章" in failure
        assert f"push ack {push.id}" in failure and texts_to(sandbox, EDITOR) == []
        listed = await report.push_list(env.services, 10)
        assert "需要您处理的通知" in listed and f"已送达 {OTHER}" in listed

        assert await editing.ack(env.services, push.id, by=OTHER) == 2
        listed = await report.push_list(env.services, 10)
        assert "需要您处理" not in listed and "还没送达" not in listed
        # The first editor's copy is not sent later: an editor has dealt with it.
        await editor_writes(env, EDITOR)
        await env.runner.tick()
        assert texts_to(sandbox, EDITOR) == []
        assert {n.openid: n.status for n in await notes(env, push.id) if n.kind == "failed"} == {
            OTHER: "sent", EDITOR: "obsolete"}
