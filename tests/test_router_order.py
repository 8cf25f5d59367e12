"""bot/router.py's `route`: the first rule that matches wins, in router order then declaration order,
whether the rules are tried one by one or, for runs of case-blind exact rules, by one lookup; rules
added or changed after a message was routed are seen by the next."""

from __future__ import annotations

from bot.router import Captured, Router, route
from tests.webhook_helpers import text_xml
from wechat import protocol


def text(content: str):
    return protocol.parse(text_xml("o_route", content))


def named(router: Router, name: str, rule):
    async def handler(message, ctx):
        return name

    handler.__name__ = name
    rule(handler)


def winner(routers, content: str, services=None) -> str | None:
    routed = route(routers, text(content), services)
    return None if routed is None else routed.handler.__name__


def test_an_earlier_rule_of_another_kind_wins_over_a_later_exact_one():
    r = Router("r")
    named(r, "exact_a", r.exact("你好"))
    named(r, "prefix", r.prefix("新闻"))
    named(r, "exact_b", r.exact("新闻", "Hello"))
    assert winner([r], "新闻") == "prefix"
    assert winner([r], "  hello ") == "exact_b"  # stripped and case-blind
    assert winner([r], "你好") == "exact_a"
    assert winner([r], "再见") is None


def test_the_first_of_two_exact_rules_for_one_word_wins_and_routers_keep_their_order():
    first, second = Router("first"), Router("second")
    named(second, "second_router", second.exact("年会"))
    named(first, "one", first.exact("年会"))
    named(first, "two", first.exact("年会", "年报"))
    assert winner([first, second], "年会") == "one"
    assert winner([first, second], "年报") == "two"
    assert winner([second, first], "年会") == "second_router"


def test_a_case_sensitive_exact_rule_is_tried_as_written():
    r = Router("r")
    named(r, "upper", r.exact("VIP", case=True))
    named(r, "any", r.exact("vip"))
    assert winner([r], "VIP") == "upper"
    assert winner([r], "vip") == "any"


def test_rules_added_and_live_rules_changed_after_routing_are_seen():
    r = Router("r", live=lambda services: services)
    named(r, "declared", r.exact("甲"))
    none: list = []
    assert winner([r], "乙", services=none) is None
    assert r.plan(none) is r.plan(none)  # made once while nothing changes
    named(r, "added", r.exact("乙"))
    assert winner([r], "乙", services=none) == "added"
    live = Router("live")
    named(live, "live_rule", live.exact("丙"))
    assert winner([r], "丙", services=live.rules) == "live_rule"
    assert winner([r], "丙", services=none) is None


def test_an_exact_rule_routed_by_lookup_says_which_rule_and_router_it_was():
    r = Router("kw")
    named(r, "word", r.exact("年会", "Annual"))
    routed = route([r], text("annual"), None)
    assert routed.captured == Captured() and routed.describe == "kw: exact 年会/Annual" and routed.router is r


def test_a_non_text_message_skips_the_exact_rules():
    r = Router("r")
    named(r, "word", r.exact("subscribe"))
    named(r, "events", r.event("subscribe"))
    event = protocol.parse(
        "<xml><ToUserName><![CDATA[gh_x]]></ToUserName><FromUserName><![CDATA[o_route]]></FromUserName>"
        "<CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[subscribe]]></Event></xml>")
    assert route([r], event, None).handler.__name__ == "events"
