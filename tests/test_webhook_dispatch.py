"""Routing, replies and their limits, every message and event type, keyword rules at run time, the
message log — through the real app with signed XML, customer-service sends on the local platform."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot import messagelog
from bot import texts as bot_texts
from bot.router import Router
from core.clock import FakeClock
from handlers import texts
from store import keywords
from store.members import binding
from store.models.webhook import Follower, MessageLog
from tests.webhook_helpers import (
    event_xml,
    mass_send_job_finish_xml,
    message_xml,
    publish_job_finish_xml,
    text_xml,
    webhook_client,
)
from tests.webhook_support import make_services
from wechat.replies import News, NewsItem, Text

SEEDS = [
    {"match": "exact", "pattern": "联系方式", "reply": "电话 0571"},
    {"match": "contains", "pattern": "评估", "reply": "评估说明", "priority": 50},
    {"match": "prefix", "pattern": "评估", "reply": "评估前缀", "priority": 200},
    {"match": "exact", "pattern": "帮助", "reply": "编辑写的帮助（不应出现）"},
    {"match": "exact", "pattern": "简介", "reply": "我们的简介", "reply_type": "news",
     "title": "总会简介", "url": "http://127.0.0.1/about"},
]


@pytest.fixture
async def env(make_settings, migrated, sandbox):
    clock = FakeClock()
    async with make_services(make_settings, migrated, clock=clock, keywords=SEEDS,
                             wechat={"api_base_url": sandbox.url}) as services:
        async with webhook_client(services) as hook:
            yield services, hook, sandbox.platform


async def test_help_lists_rules_and_builtin_beats_editor_rule(env):
    services, hook, _ = env
    reply = await hook.send(text_xml("o_a", "帮助"))
    assert reply["Content"].startswith(texts.HELP_HEADER) and "帮助 — 查看本说明" in reply["Content"]
    for word in ("help", "?"):
        assert (await hook.send(text_xml("o_a", word)))["Content"] == reply["Content"]
    click = await hook.send(event_xml("o_a", "CLICK", "HELP"))
    assert click["Content"] == reply["Content"]


async def test_keyword_priority_news_and_fallback(env):
    services, hook, _ = env
    assert (await hook.send(text_xml("o_a", "联系方式")))["Content"] == "电话 0571"
    # contains(priority 50) beats prefix(priority 200) for "评估 结果".
    assert (await hook.send(text_xml("o_a", "评估 结果")))["Content"] == "评估说明"
    news = await hook.send(text_xml("o_a", "简介"))
    assert news["MsgType"] == "news" and news["ArticleCount"] == "1"
    assert news["Articles"]["item"]["Title"] == "总会简介"
    miss = await hook.send(text_xml("o_a", "完全无关{x}]]>"))
    assert miss["Content"] == services.settings.replies.fallback.replace("{text}", "完全无关{x}]]>")


async def test_every_message_and_event_type(env, monkeypatch):
    services, hook, platform = env
    o = "o_types"
    welcome = await hook.send(event_xml(o, "subscribe"))
    assert welcome["Content"] == services.settings.replies.welcome
    scene = await hook.send(event_xml(o, "subscribe", "qrscene_expo2026", {"Ticket": "t"}))
    assert "expo2026" in scene["Content"]
    assert "expo2026" in (await hook.send(event_xml(o, "SCAN", "expo2026", {"Ticket": "t"})))["Content"]
    assert (await hook.send(event_xml(o, "CLICK", "NO_SUCH_KEY")))["Content"] == texts.UNKNOWN_CLICK
    assert await hook.send(event_xml(o, "VIEW", "http://127.0.0.1/x")) == "success"
    assert await hook.send(event_xml(o, "LOCATION", None, {"Latitude": "30.2", "Longitude": "120.1",
                                                            "Precision": "10"})) == "success"
    cases = [
        ("image", {"PicUrl": "http://127.0.0.1/p.jpg", "MediaId": "m1"}, texts.IMAGE),
        ("voice", {"MediaId": "m2", "Format": "amr"}, texts.VOICE),
        ("voice", {"MediaId": "m2", "Format": "amr", "Recognition": "新闻"},
         texts.VOICE_RECOGNIZED.format(text="新闻")),
        ("video", {"MediaId": "m3", "ThumbMediaId": "t"}, texts.VIDEO),
        ("shortvideo", {"MediaId": "m4", "ThumbMediaId": "t"}, texts.VIDEO),
        ("location", {"Location_X": "30.2", "Location_Y": "120.1", "Scale": "15", "Label": "西湖"},
         texts.LOCATION.format(label="西湖")),
        ("link", {"Title": "好文", "Description": "d", "Url": "http://127.0.0.1/a"}, texts.LINK.format(title="好文")),
        ("somethingnew", {"Foo": "bar"}, texts.OTHER),
    ]
    for kind, fields, expected in cases:
        assert (await hook.send(message_xml(o, kind, fields)))["Content"] == expected, kind

    unbound = []

    async def on_unsubscribe(db, openid, now):  # the member units the follower was bound to
        unbound.append(openid)

    monkeypatch.setattr(binding, "on_unsubscribe", on_unsubscribe)
    assert await hook.send(event_xml(o, "unsubscribe")) == "success"
    assert unbound == [o]
    await services.messagelog.flush()
    async with services.db() as s:
        row = await s.get(Follower, o)
    assert row.subscribed is False and row.first_seen <= row.last_seen


async def test_rule_added_by_another_process_answers_without_restart(env, make_settings):
    services, hook, _ = env
    assert (await hook.send(text_xml("o_a", "年会")))["Content"].startswith("抱歉")
    # "Another process": its own engine and services on the same database, as `main.py keywords add` does.
    async with make_services(make_settings, services.settings.database.url) as other:
        rule = await keywords.add_rule(other, "exact", "年会", "年会在 12 月举行")
        await keywords.add_rule(other, "regex", r"^\d{4}年报$", "年报见官网",
                                title="年报", url="http://127.0.0.1/r")
    services.clock.advance(keywords.REFRESH_SECONDS + 0.1)
    assert (await hook.send(text_xml("o_a", "年会")))["Content"] == "年会在 12 月举行"
    assert (await hook.send(text_xml("o_a", "2025年报")))["MsgType"] == "news"

    async with make_services(make_settings, services.settings.database.url) as other:
        assert await keywords.remove_rule(other, rule.id)
        # A seeded rule an editor deletes stays deleted when [[keywords]] seeds again.
        seeded = next(r for r in await keywords.list_rules(other) if r.pattern == "联系方式")
        assert await keywords.remove_rule(other, seeded.id)
        other_with_seeds = other
        other_with_seeds.settings = services.settings
        assert await keywords.seed(other_with_seeds) == 0
    services.clock.advance(keywords.REFRESH_SECONDS + 0.1)
    assert (await hook.send(text_xml("o_a", "年会")))["Content"].startswith("抱歉")
    assert (await hook.send(text_xml("o_a", "联系方式")))["Content"].startswith("抱歉")


async def test_news_article_limits(make_settings, migrated):
    many = News(NewsItem(title=f"第{i}篇", url=f"http://127.0.0.1/{i}") for i in range(10))
    r = Router("news-test")

    @r.message("text")
    @r.event("click")
    async def ten(message, ctx):
        return many

    async with make_services(make_settings, migrated) as services, webhook_client(services, [r]) as hook:
        to_message = await hook.send(text_xml("o_a", "新闻"))
        assert to_message["ArticleCount"] == "1" and to_message["Articles"]["item"]["Title"] == "第0篇"
        to_event = await hook.send(event_xml("o_a", "CLICK", "NEWS"))
        assert to_event["ArticleCount"] == "8" and len(to_event["Articles"]["item"]) == 8


LONG = "\n".join(f"第{i}行：" + "社会组织等级评估" * 12 for i in range(25))  # about 7.5 KB: 4 parts


def _long_router() -> Router:
    r = Router("long")

    @r.message("text")
    @r.event("click")
    async def long_text(message, ctx):
        return Text(LONG)

    return r


async def test_long_text_rest_goes_as_customer_service_messages(make_settings, migrated, sandbox):
    async with make_services(make_settings, migrated, wechat={"api_base_url": sandbox.url}) as services:
        async with webhook_client(services, [_long_router()]) as hook:
            sandbox.platform.follower_action("o_long", "message")
            first = await hook.send(text_xml("o_long", "长文"))
            assert len(first["Content"].encode()) <= 2048
            await hook.client.app[__import__("bot.server").server.WEBHOOK].dispatcher.drain()
    cs = [m for m in sandbox.platform.state["cs_messages"] if m["openid"] == "o_long"]
    parts = [first["Content"], *(m["payload"]["content"] for m in cs)]
    assert all(len(p.encode()) <= 2048 for p in parts)
    assert "\n".join(parts) == LONG


async def test_long_text_without_window_continues_with_more(make_settings, migrated, sandbox):
    async with make_services(make_settings, migrated, wechat={"api_base_url": sandbox.url}) as services:
        async with webhook_client(services, [_long_router()]) as hook:
            # A click opens only 3 customer-service messages; the text needs more: 「更多」 instead.
            first = await hook.send(event_xml("o_more", "CLICK", "LONG"))
            assert first["Content"].endswith(bot_texts.MORE_HINT) and len(first["Content"].encode()) <= 2048
            parts = [first["Content"][: -len(bot_texts.MORE_HINT)]]
            while True:
                nxt = await hook.send(text_xml("o_more", "更多"))
                more = nxt["Content"].endswith(bot_texts.MORE_HINT)
                parts.append(nxt["Content"][: -len(bot_texts.MORE_HINT)] if more else nxt["Content"])
                if not more:
                    break
            assert "\n".join(parts) == LONG
            # The step is used up: 更多 now goes to the rules like any text (and this time, after a
            # message, the window would take the rest as customer-service messages).
            again = await hook.send(text_xml("o_more", "更多"))
            assert again["Content"].startswith("第0行") and not again["Content"].endswith(bot_texts.MORE_HINT)
    assert sandbox.platform.state["cs_messages"] == []


async def test_job_finish_events_are_parsed_and_dispatched(make_settings, migrated):
    seen = []
    r = Router("pushes-test")

    @r.event("publishjobfinish", "masssendjobfinish")
    async def record(message, ctx):
        seen.append(message)
        return None

    async with make_services(make_settings, migrated) as services, webhook_client(services, [r]) as hook:
        xml = publish_job_finish_xml("2247483", 0, "AID_1", ["http://127.0.0.1/s/1", "http://127.0.0.1/s/2"])
        assert await hook.send(xml, mode="safe") == "success"
        assert await hook.send(publish_job_finish_xml("2247484", 2, fail_idx=[1, 2])) == "success"
        xml = mass_send_job_finish_xml(1000001, "send success", 100, 90, 88, 2, ["http://127.0.0.1/m/1"], 2)
        assert await hook.send(xml) == "success"
        # The same second, another job: a different dedupe key, dispatched too.
        assert await hook.send(mass_send_job_finish_xml(1000002, "err(30003)")) == "success"
    pub, failed, mass, mass2 = seen
    assert pub.event == "publishjobfinish" and pub.publish_id == "2247483" and pub.status == 0
    assert pub.article_id == "AID_1" and [(u.idx, u.url) for u in pub.article_urls] == [
        (1, "http://127.0.0.1/s/1"), (2, "http://127.0.0.1/s/2")]
    assert failed.status == 2 and failed.fail_idx == [1, 2] and failed.article_urls == []
    assert mass.event == "masssendjobfinish" and mass.msg_id == 1000001 and mass.succeeded
    assert (mass.total_count, mass.filter_count, mass.sent_count, mass.error_count) == (100, 90, 88, 2)
    assert [(u.idx, u.url) for u in mass.article_urls] == [(1, "http://127.0.0.1/m/1")] and mass.check_state == 2
    assert mass2.msg_id == 1000002 and not mass2.succeeded


async def test_message_log_records_in_and_out_and_forget(env):
    services, hook, _ = env
    await hook.send(text_xml("o_log", "联系方式"))
    await hook.send(text_xml("o_other", "联系方式"))
    writer = services.messagelog
    assert writer.pending  # nothing written on the reply's path
    await writer.flush()
    rows = await messagelog.tail(services, 10, "o_log")
    assert [(r.direction, r.channel, r.content) for r in rows] == [
        ("in", "webhook", "联系方式"), ("out", "passive", "电话 0571")]
    assert rows[1].elapsed_ms is not None and rows[0].msg_key.startswith("m:")
    assert await messagelog.forget(services, "o_log") == 2
    async with services.db() as s:
        assert (await s.execute(select(MessageLog).where(MessageLog.openid == "o_log"))).first() is None
        assert await s.get(Follower, "o_log") is None
        assert await s.get(Follower, "o_other") is not None
    services.clock.advance(181 * 86400)
    assert await messagelog.purge_old(services) == 2


async def test_writer_flushes_on_its_own_and_on_shutdown(make_settings, migrated):
    async with make_services(make_settings, migrated, log={"flush_seconds": 0.05}) as services:
        async with webhook_client(services) as hook:
            first = await hook.send(text_xml("o_w", "帮助"))
            # Written by the writer on its own, nobody flushed. An empty `pending` alone is not
            # "written": the writer takes the rows before its statement commits.
            written = 0
            for _ in range(100):
                async with services.db() as s:
                    written = len((await s.execute(select(MessageLog))).scalars().all())
                if written == 2:
                    break
                await asyncio.sleep(0.02)
            assert written == 2 and not services.messagelog.pending
            second = await hook.send(text_xml("o_w", "联系我们"))
        async with services.db() as s:  # the rest written when the services closed
            rows = (await s.execute(select(MessageLog).order_by(MessageLog.id))).scalars().all()
            follower = await s.get(Follower, "o_w")
        assert first["Content"].startswith(texts.HELP_HEADER)
        assert [(r.openid, r.direction, r.channel, r.msg_type, r.content) for r in rows] == [
            ("o_w", "in", "webhook", "text", "帮助"), ("o_w", "out", "passive", "text", first["Content"]),
            ("o_w", "in", "webhook", "text", "联系我们"), ("o_w", "out", "passive", "text", second["Content"]),
        ]
        assert follower is not None and follower.last_seen >= follower.first_seen
        assert services.followers._dirty == set()
