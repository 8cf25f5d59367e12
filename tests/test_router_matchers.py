"""bot/router.py's rules one kind at a time: what each matches, what it captures, how it reads in
`keywords test` and 帮助, and the hooks and steps a router declares."""

from __future__ import annotations

from bot.router import Captured, Router, event_of, find_step, help_lines, route, text_of
from tests.webhook_helpers import event_xml, message_xml, text_xml
from wechat import protocol


async def handler(message, ctx):
    return None


def text(content: str):
    return protocol.parse(text_xml("o_m", content))


def event(name: str, key: str | None = None):
    return protocol.parse(event_xml("o_m", name, key=key))


def only(router: Router):
    (rule,) = router.rules
    return rule


def test_prefix_captures_the_rest_after_a_space_or_colon_and_the_bare_prefix():
    r = Router("news")
    r.prefix("新闻", "News")(handler)
    rule = only(r)
    assert rule.matcher(text("新闻 年会"), None) == Captured(args="年会")
    assert rule.matcher(text("新闻：年会"), None) == Captured(args="年会")
    assert rule.matcher(text("news, 年会"), None) == Captured(args="年会")  # case-blind, separators trimmed
    assert rule.matcher(text("新闻"), None) == Captured(args="")
    assert rule.matcher(text("新闻联播"), None) is None  # a longer word, not the prefix
    assert rule.matcher(event("CLICK", "新闻"), None) is None
    assert rule.describe == "news: prefix 新闻/News"


def test_contains_regex_and_message_types():
    r = Router("r")
    r.contains("年会", "年报")(handler)
    r.regex(r"^(\d{4})年报$")(handler)
    r.message("image", "voice")(handler)
    contains, regex, types = r.rules
    assert contains.matcher(text("今年年会在哪"), None) == Captured()
    assert contains.matcher(text("你好"), None) is None
    assert contains.matcher(event("CLICK", "年会"), None) is None
    found = regex.matcher(text("2025年报"), None)
    assert found is not None and found.match.group(1) == "2025"
    assert regex.matcher(text("年报"), None) is None and regex.matcher(event("CLICK"), None) is None
    image = protocol.parse(message_xml("o_m", "image", {"PicUrl": "http://127.0.0.1/p", "MediaId": "m"}))
    assert types.matcher(image, None) == Captured()
    assert types.matcher(text("你好"), None) is None
    assert [rule.describe for rule in r.rules] == ["r: contains 年会/年报", r"r: regex ^(\d{4})年报$",
                                                  "r: type image/voice"]


def test_event_click_and_scene_rules():
    r = Router("menu")
    r.event("subscribe")(handler)
    r.click("JOIN", "ABOUT")(handler)
    r.scene("7")(handler)
    subscribe, click, scene = r.rules
    assert subscribe.matcher(event("subscribe"), None) == Captured()
    assert subscribe.matcher(event("unsubscribe"), None) is None
    assert subscribe.matcher(text("subscribe"), None) is None
    assert click.matcher(event("CLICK", "JOIN"), None) == Captured(args="JOIN")
    assert click.matcher(event("CLICK", "OTHER"), None) is None
    assert click.matcher(event("VIEW", "JOIN"), None) is None
    assert r.clicks == ["JOIN", "ABOUT"]
    r.click("JOIN")(handler)  # offered once to the menu editor
    assert r.clicks == ["JOIN", "ABOUT"]
    assert scene.matcher(event("subscribe", "qrscene_7"), None) == Captured(args="7")
    assert scene.matcher(event("SCAN", "7"), None) == Captured(args="7")
    assert scene.matcher(event("SCAN", "8"), None) is None
    assert [rule.describe for rule in r.rules[:3]] == ["menu: event subscribe", "menu: click JOIN/ABOUT", "menu: scene 7"]


def test_exact_rules_read_as_written_and_give_their_help_line():
    r = Router("kw")
    r.exact("联系方式", "电话", help="联系方式：秘书处的电话")(handler)
    rule = only(r)
    assert rule.describe == "kw: exact 联系方式/电话"
    assert rule.matcher(text("电话"), None) == Captured()
    assert rule.matcher(text("Tel"), None) is None
    assert help_lines([r, Router("none")]) == ["联系方式：秘书处的电话"]


def test_a_router_keeps_its_hooks_and_steps_and_the_first_router_with_a_step_has_it():
    a, b = Router("a"), Router("b")

    @a.on_startup
    async def seed(services):
        return None

    @a.on_route
    async def refresh(services):
        return None

    @b.step("more", accepts=lambda text, data: text == "更多")
    async def more(message, ctx):
        return None

    assert a.startup == [seed] and a.before_route == [refresh]
    step = find_step([a, b], "more")
    assert step.handler is more and step.accepts("更多", {}) and not step.accepts("别的", {})
    assert find_step([a, b], "none") is None


def test_text_and_event_are_read_once_and_only_of_their_kind():
    message = text("  你好  ")
    assert text_of(message) == "你好" and event_of(message) is None
    click = event("CLICK", "JOIN")
    assert event_of(click) == "click" and text_of(click) is None

    class Slotted:  # an object that cannot keep what was worked out: still right, every time
        __slots__ = ("type", "content", "event")

        def __init__(self) -> None:
            self.type, self.content, self.event = "text", " 甲 ", None

    assert text_of(Slotted()) == "甲" and event_of(Slotted()) is None


def test_route_hands_over_the_captured_values_and_the_rule_that_matched():
    r = Router("r")
    r.prefix("问")(handler)
    routed = route([r], text("问 一下"), services={"any": 1})
    assert routed.captured == Captured(args="一下") and routed.describe == "r: prefix 问" and routed.router is r


def test_matchers_get_the_services_they_route_with():
    seen = []
    r = Router("r")

    def matcher(message, services):
        seen.append(services)
        return None

    r.rule(matcher, "custom")(handler)
    services = object()
    assert route([r], text("x"), services) is None and seen == [services]


def test_every_kind_of_rule_gives_its_help_line_and_names_all_its_words():
    r = Router("all")
    r.exact("甲", help="h-exact")(handler)
    r.prefix("乙", "丙", help="h-prefix")(handler)
    r.contains("丁", help="h-contains")(handler)
    r.regex("戊", help="h-regex")(handler)
    r.event("subscribe", "SCAN", help="h-event")(handler)
    r.click("K", help="h-click")(handler)
    r.scene("1", "2", help="h-scene")(handler)
    r.message("image", help="h-type")(handler)
    assert help_lines([r]) == ["h-exact", "h-prefix", "h-contains", "h-regex", "h-event", "h-click", "h-scene", "h-type"]
    assert [rule.describe for rule in r.rules][4:7] == ["all: event subscribe/SCAN", "all: click K", "all: scene 1/2"]


def test_a_prefix_that_is_part_of_a_longer_one_lets_the_longer_one_match():
    r = Router("r")
    r.prefix("新闻", "新闻联播")(handler)
    rule = only(r)
    assert rule.matcher(text("新闻联播 今天"), None) == Captured(args="今天")
    assert rule.matcher(text("新闻X年会"), None) is None
    assert rule.matcher(text("新闻 年会X"), None) == Captured(args="年会X")


def test_case_blind_exact_rules_match_any_case_and_are_looked_up_as_one_map():
    r = Router("r")
    r.exact("VIP", "Gold")(handler)
    r.exact("Member")(handler)
    rule = r.rules[0]
    assert rule.matcher(text("vip"), None) == Captured() and rule.matcher(text("GOLD"), None) == Captured()
    (looked_up,) = r.plan(None)
    assert looked_up == {"vip": r.rules[0], "gold": r.rules[0], "member": r.rules[1]}


def test_what_is_worked_out_of_a_message_is_kept_and_objects_without_a_type_match_nothing():
    click = protocol.parse(event_xml("o_m", "CLICK", key="K"))
    assert event_of(click) == "click" and event_of(click) == "click"  # the second read is the kept one
    typeless = object()
    assert text_of(typeless) is None and event_of(typeless) is None
    r = Router("r")
    r.message("text")(handler)
    assert only(r).matcher(typeless, None) is None


def test_a_step_knows_its_kind():
    r = Router("r")
    r.step("confirm", accepts=lambda text, data: True)(handler)
    assert r.steps["confirm"].kind == "confirm"
