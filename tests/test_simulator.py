"""The follower simulator's JSON API against a real bot and a real local platform: follow, send text,
see the reply; WeChat's retry with the same MsgId after a slow answer; customer-service messages and
broadcasts arriving later; a freepublished article not pushed; `sandbox say`."""

from __future__ import annotations

import asyncio
import io

import pytest

from app import ROUTERS
from bot import outbox
from bot.router import Router
from handlers.help import help_text
from sandbox.say import say
from tests.fixtures.sandbox import make_draft
from wechat.replies import Text

pytestmark = pytest.mark.asyncio


async def follow(world, openid: str) -> dict:
    status, data = await world.api("POST", "event", json={"openid": openid, "event": "subscribe"})
    assert status == 200, data
    return data


async def send(world, openid: str, text: str) -> dict:
    status, data = await world.api("POST", "send", json={"openid": openid, "text": text})
    assert status == 200, data
    return data


def account_items(data: dict) -> list[dict]:
    return [i for i in data["items"] if i["side"] == "account"]


@pytest.mark.parametrize("mode", ["safe", "plain"])
async def test_follow_send_text_and_see_replies(chat_world, mode):
    world = await chat_world(sandbox={"mode": mode})
    status, created = await world.api("POST", "followers", json={"openid": "o_sim_alice"})
    assert (status, created) == (200, {"openid": "o_sim_alice"})
    _, state = await world.api("GET", "state")
    assert state["mode"] == mode
    assert {"openid": "o_sim_alice", "subscribed": False} in state["followers"]

    followed = await follow(world, "o_sim_alice")
    assert followed["ok"] and followed["attempts"] == 1
    assert followed["items"][0] == {**followed["items"][0], "side": "system", "type": "notice"}
    [welcome] = account_items(followed)
    assert welcome["type"] == "text" and welcome["text"] == world.services.settings.replies.welcome
    assert world.sandbox.platform.state["followers"]["o_sim_alice"]["subscribed"] is True

    sent = await send(world, "o_sim_alice", "联系方式")
    assert sent["items"][0] == {**sent["items"][0], "side": "follower", "type": "text", "text": "联系方式"}
    assert account_items(sent) == [{**account_items(sent)[0], "type": "text",
                                    "text": "秘书处电话 0571-8800 0000（测试）"}]

    news = account_items(await send(world, "o_sim_alice", "年报"))
    assert news[0]["type"] == "news"
    assert news[0]["articles"] == [{"title": "2025 年度报告", "description": "年度报告全文",
                                    "url": "https://example.org/r.html", "picurl": "https://example.org/r.jpg"}]

    # The whole transcript, in order, as the page polls it.
    _, chat = await world.api("GET", "chat", params={"openid": "o_sim_alice", "after": 0})
    assert [i["side"] for i in chat["items"]] == ["system", "account", "follower", "account", "follower", "account"]
    assert chat["subscribed"] is True
    _, later = await world.api("GET", "chat", params={"openid": "o_sim_alice", "after": chat["items"][-1]["seq"]})
    assert later["items"] == []

    await world.api("POST", "event", json={"openid": "o_sim_alice", "event": "unsubscribe"})
    assert world.sandbox.platform.state["followers"]["o_sim_alice"]["subscribed"] is False
    status, refused = await world.api("POST", "send", json={"openid": "o_sim_alice", "text": "在吗"})
    assert status == 409 and refused["error"] == "请先关注公众号再发消息"


async def test_retry_with_same_msg_id_after_slow_answer(chat_world):
    calls: list[int] = []
    slow = Router("slow")

    @slow.exact("慢")
    async def slow_answer(message, ctx):
        calls.append(message.id)
        await asyncio.sleep(0.5)  # longer than the sandbox's retry delay, shorter than the bot's budget
        return Text("终于好了")

    world = await chat_world(retry_after=0.2, routers=[slow])
    await follow(world, "o_sim_slow")
    sent = await send(world, "o_sim_slow", "慢")
    assert sent["ok"] and sent["attempts"] >= 2
    assert len(calls) == 1  # every retry carried the same MsgId, so the handler ran once
    texts = [i["text"] for i in sent["items"]]
    assert texts[1] == f"5 秒内没有应答，微信用同一 MsgId 重试了 {sent['attempts'] - 1} 次"
    assert texts[2:] == ["终于好了"]


async def test_no_answer_shows_what_wechat_shows(chat_world):
    world = await chat_world(retry_after=0.05)
    await follow(world, "o_sim_down")
    world.sandbox.set_webhook("http://127.0.0.1:9/wechat")  # nothing listens there
    sent = await send(world, "o_sim_down", "联系方式")
    assert not sent["ok"] and sent["attempts"] == 4  # the first try and 3 retries
    assert sent["items"][-1] == {**sent["items"][-1], "side": "system", "type": "error",
                                 "text": "该公众号暂时无法提供服务，请稍后再试"}


async def test_customer_service_and_broadcasts_arrive_but_not_freepublish(chat_world):
    world = await chat_world()
    sandbox = world.sandbox
    await follow(world, "o_sim_bob")
    await send(world, "o_sim_bob", "联系方式")  # opens the 48-hour window
    _, chat = await world.api("GET", "chat", params={"openid": "o_sim_bob"})
    seen = chat["items"][-1]["seq"]

    # The bot sends it, through its outbox and API client, as it does a late answer or a notice.
    assert await outbox.deliver(world.services, "o_sim_bob", Text("稍后的客服消息")) == "sent"
    assert [c["errcode"] for c in sandbox.calls("message/custom/send")] == [0]
    media_id = await make_draft(sandbox, 2)
    published = await sandbox.api("freepublish/submit", {"media_id": media_id})
    assert published["errcode"] == 0
    await sandbox.settle()
    _, chat = await world.api("GET", "chat", params={"openid": "o_sim_bob", "after": seen})
    assert [(i["type"], i.get("text"), i["tag"]) for i in chat["items"]] == [("text", "稍后的客服消息", "客服消息")]

    broadcast = await make_draft(sandbox, 1, title="群发的文章")
    sent = await world.services.api.mass_sendall(broadcast, clientmsgid="sim-1")  # the bot's client
    assert sent["msg_id"] and not sent["duplicate"]
    await sandbox.settle()
    _, chat = await world.api("GET", "chat", params={"openid": "o_sim_bob", "after": chat["items"][-1]["seq"]})
    [item] = chat["items"]
    assert item["tag"] == "群发" and item["type"] == "news"
    assert item["articles"][0]["title"] == "群发的文章"
    assert item["articles"][0]["url"].startswith(sandbox.url + "/s/")


async def test_menu_shown_and_click_delivered(chat_world):
    world = await chat_world()
    await follow(world, "o_sim_carol")
    _, chat = await world.api("GET", "chat", params={"openid": "o_sim_carol"})
    assert chat["menu"] is None  # nothing synced: the page says so
    menu = {"button": [{"type": "click", "name": "帮助", "key": "HELP"}]}
    await world.services.api.menu_create(menu)  # synced by the bot, as `menu sync` does
    _, chat = await world.api("GET", "chat", params={"openid": "o_sim_carol"})
    assert chat["menu"] == menu
    status, clicked = await world.api("POST", "event", json={"openid": "o_sim_carol", "event": "click", "key": "HELP"})
    assert status == 200 and clicked["ok"]
    assert clicked["items"][0]["text"] == "点击了菜单“帮助”"  # the button's name, as the phone shows it
    # The click reached the bot, which answered it with its help text.
    [answer] = account_items(clicked)
    assert answer["type"] == "text" and answer["text"] == help_text(ROUTERS)
    assert world.sandbox.platform.state["followers"]["o_sim_carol"]["event_window"] is not None


async def test_bad_requests_get_clear_errors(chat_world):
    world = await chat_world()
    assert await world.api("POST", "send", json={"text": "x"}) == (400, {"error": "openid is required"})
    assert await world.api("POST", "send", data=b"[1]") == (400, {"error": "body must be a JSON object"})
    assert (await world.api("POST", "event", json={"openid": "o1", "event": "shake"}))[0] == 409
    assert (await world.api("GET", "chat"))[0] == 400


async def test_what_the_phone_shows_links_and_the_account_name(chat_world):
    world = await chat_world(wechat={"display_name": "省社会组织总会"})
    _, state = await world.api("GET", "state")
    assert state["account"]["name"] == "省社会组织总会"  # not the gh_… id
    await follow(world, "o_sim_link")
    [reply] = account_items(await send(world, "o_sim_link", "通知"))
    assert reply["parts"] == [{"text": "详见"}, {"text": "年会通知", "href": "https://example.org/notice.html"},
                              {"text": "。"}]
    _, state = await (await chat_world()).api("GET", "state")
    assert state["account"]["name"] == "公众号"  # no display name configured


async def test_sandbox_say_returns_once_the_reply_is_there(chat_world):
    import time

    world = await chat_world()
    out = io.StringIO()
    started = time.monotonic()
    code = await say(world.sandbox.url, "o_sim_quick", "通知", wait=30, out=out)
    assert code == 0 and time.monotonic() - started < 10  # not the 30 s it may wait for a late answer
    assert out.getvalue().splitlines()[-1] == "公众号：详见年会通知（https://example.org/notice.html）。"


async def test_sandbox_say_prints_reply(chat_world):
    world = await chat_world()
    out = io.StringIO()
    code = await say(world.sandbox.url, "o_sim_shell", "联系方式", wait=0.2, out=out)
    assert code == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == "—— 你关注了公众号 ——"  # a new follower follows first
    assert "粉丝：联系方式" in lines
    assert lines[-1] == "公众号：秘书处电话 0571-8800 0000（测试）"
