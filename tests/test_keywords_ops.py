"""The keyword-rule operations both faces use: add, edit (checked like a new rule, answered at once),
delete, reorder; and the trial run of a text through the real routers, which names the rule that
answers and its reply, and neither sends nor logs anything."""

from __future__ import annotations

import pytest

from app import ROUTERS, open_services
from bot.trial import explain
from core.clock import FakeClock
from store import keywords
from store.shared import MemoryState
from wechat.replies import News, Text


@pytest.fixture
async def services(migrated, make_settings):
    clock = FakeClock()
    settings = make_settings(database={"url": migrated})
    async with open_services(settings, clock, shared=MemoryState(clock)) as s:
        yield s


async def test_an_edited_rule_answers_the_trial_at_once_and_nothing_is_logged(services):
    rule = await keywords.add_rule(services, "exact", "会费", "会费标准见官网。")
    first = await explain(services, ROUTERS, "会费")
    assert first.keyword_rule_id == rule.id and first.reply == Text("会费标准见官网。")

    edited, changed = await keywords.edit_rule(services, rule.id, "contains", "会费", "2026 年会费每年 3000 元。",
                                               priority=rule.priority)
    assert changed == {"match": ("exact", "contains"), "reply": ("会费标准见官网。", "2026 年会费每年 3000 元。")}
    found = await explain(services, ROUTERS, "请问会费多少")
    assert found.keyword_rule_id == rule.id and found.ran
    assert found.reply == Text("2026 年会费每年 3000 元。")
    assert services.messagelog.pending == []  # a trial is neither a message nor a reply
    assert services.followers.unwritten() == set()

    _, nothing = await keywords.edit_rule(services, rule.id, "contains", "会费", "2026 年会费每年 3000 元。",
                                          priority=rule.priority)
    assert nothing == {}


async def test_a_built_in_rule_is_named_and_an_unknown_text_falls_through(services):
    helped = await explain(services, ROUTERS, "帮助")
    assert helped.keyword_rule_id is None and helped.rule.startswith("help") and helped.ran
    assert isinstance(helped.reply, Text) and "新闻" in helped.reply.content
    nothing = await explain(services, ROUTERS, "zzzz-无规则")
    assert nothing.keyword_rule_id is None and nothing.rule.startswith("fallback")


async def test_edit_checks_like_add_and_says_when_the_rule_is_gone(services):
    rule = await keywords.add_rule(services, "exact", "地址", "杭州市")
    with pytest.raises(keywords.RuleError, match="不是有效的正则表达式"):
        await keywords.edit_rule(services, rule.id, "regex", "([", "x", priority=100)
    with pytest.raises(keywords.RuleError, match="回复是空的"):
        await keywords.edit_rule(services, rule.id, "exact", "地址", "  ", priority=100)
    assert (await keywords.get_rule(services, rule.id)).reply == "杭州市"  # nothing of a refused edit
    assert await keywords.remove_rule(services, rule.id)
    assert await keywords.edit_rule(services, rule.id, "exact", "地址", "x", priority=1) is None
    assert await keywords.get_rule(services, rule.id) is None


async def test_reorder_decides_which_rule_answers(services):
    a = await keywords.add_rule(services, "contains", "活动", "近期活动：年会。", priority=100)
    b = await keywords.add_rule(services, "contains", "活动", "活动报名请联系秘书处。", priority=100,
                                title="活动报名", url="https://example.org/signup")
    assert (await explain(services, ROUTERS, "活动")).keyword_rule_id == a.id
    ordered = await keywords.reorder(services, [b.id, a.id, 99999])
    assert [(r.id, r.priority) for r in ordered] == [(b.id, 10), (a.id, 20)]
    found = await explain(services, ROUTERS, "活动")
    assert found.keyword_rule_id == b.id and isinstance(found.reply, News)
    assert found.reply.articles[0].title == "活动报名"


async def test_another_process_sees_the_edit_within_a_second(migrated, make_settings, services):
    rule = await keywords.add_rule(services, "exact", "电话", "0571-1")
    other_clock = FakeClock()
    settings = make_settings(database={"url": migrated})
    async with open_services(settings, other_clock, shared=MemoryState(other_clock)) as other:
        await other.keywords.refresh()
        await keywords.edit_rule(services, rule.id, "exact", "电话", "0571-2", priority=100)
        other_clock.advance(keywords.REFRESH_SECONDS)
        await other.keywords.refresh_soon()
        assert [r.reply for r in other.keywords.rules] == ["0571-2"]

