"""Members through the real webhook (signed XML, the real app and routers): disambiguation by
number across two messages, binding and 「我的状态」, unsubscribing, and the privacy rule on every
reply path a follower can reach."""

from __future__ import annotations

import re

import pytest

from core.clock import FakeClock
from handlers import texts as handler_texts
from store.members import binding, texts
from store.members.demo import demo_rows, load_demo
from store.members.importer import ImportReport, upsert
from tests.webhook_helpers import event_xml, text_xml, webhook_client
from tests.webhook_support import make_services

ROWS = demo_rows()
UNIT = next(r for r in ROWS if r.name == "浙江省婚姻家庭协会")
OTHER = next(r for r in ROWS if r.name == "浙江省银行业协会")
# What only a bound follower may read: every unit's contacts, and the private lines' labels.
PRIVATE = (
    [r.contact_phone for r in ROWS]
    + [r.contact_person for r in ROWS]
    + [
        "会费缴至",
        "暂无缴费记录",
        "欠缴",
        "入会时间",
        "登记联系人",
        "仅绑定人员可见",
        "变更：",
        "复评",
    ]
)


@pytest.fixture
async def env(make_settings, migrated):
    clock = FakeClock()
    async with make_services(make_settings, migrated, clock=clock) as services:
        await load_demo(services)
        async with webhook_client(services) as hook:
            yield services, hook, clock


async def say(hook, openid: str, text: str) -> str:
    reply = await hook.send(text_xml(openid, text), mode="safe")
    return reply if isinstance(reply, str) else reply["Content"]


async def click(hook, openid: str, key: str) -> str:
    reply = await hook.send(event_xml(openid, "CLICK", key), mode="safe")
    return reply if isinstance(reply, str) else reply["Content"]


async def test_several_matches_are_answered_by_number(env):
    services, hook, clock = env
    listing = await say(hook, "o_alice", "会员 婚姻家庭协会")
    choices = dict(re.findall(r"^(\d)\. (\S+)$", listing, re.M))
    assert sorted(choices.values()) == ["宁波市婚姻家庭协会", "杭州市婚姻家庭协会", "浙江省婚姻家庭协会"]

    # Another follower's "2" is not an answer to alice's list.
    assert "【" not in await say(hook, "o_bob", "2")

    answer = await say(hook, "o_alice", "2")
    assert answer.startswith(f"【{choices['2']}】") and "本会会员：是" in answer
    # The list stays answerable after a choice: "3" next shows the third unit, not a fallback.
    assert (await say(hook, "o_alice", "3")).startswith(f"【{choices['3']}】")
    # A number the list does not have, and a list that expired after [members] choice_ttl_minutes.
    assert await say(hook, "o_alice", "7") == "请回复列表中的序号（1–3）。"
    await say(hook, "o_alice", "查询 婚姻家庭协会")
    clock.advance(services.settings.members.choice_ttl_minutes * 60 + 1)
    assert await say(hook, "o_alice", "1") == handler_texts.NUMBER_NO_LIST


async def test_lookup_replies_and_help(env):
    services, hook, clock = env
    single = await say(hook, "o_alice", "会员 zjsyxyxh")
    assert (
        single.startswith("【浙江省银行业协会】")
        and "评估等级：5A（2020 年评定，有效期至 2025 年，已过期）" in single
    )
    bare = await say(hook, "o_alice", "浙江省慈善联合总会")  # a bare unit name
    assert bare.startswith("【浙江省慈善联合总会】") and "5A（2022 年评定，有效期至 2027 年，有效）" in bare
    assert (await say(hook, "o_alice", OTHER.credit_code)).startswith("【浙江省银行业协会】")  # bare code
    expired = await say(hook, "o_alice", "宁波市老年人体育协会")
    assert "2A（2017 年评定，有效期至 2022 年，已过期）" in expired
    missing = await say(hook, "o_alice", "会员 上海市婚姻家庭研究会")
    assert missing.startswith("没有找到“上海市婚姻家庭研究会”") and "您是不是要找" in missing
    assert "· 杭州市婚姻家庭协会" in missing  # shares what distinguishes the query
    # Nothing but the 协会 every unit has in common: no suggestion (was: an unrelated unit).
    mars = await say(hook, "o_alice", "会员 火星协会")
    assert mars == "没有找到“火星协会”，该单位可能不是本会会员单位。\n可发送“会员 单位全称”或统一社会信用代码重新查询。"
    assert "您是不是要找" not in await say(hook, "o_alice", "会员 浙江省火星协会")
    assert await say(hook, "o_alice", "会员") == texts.LOOKUP_USAGE
    assert await click(hook, "o_alice", "MEMBER_HELP") == texts.MEMBER_HELP
    help_text = await say(hook, "o_alice", "帮助")
    for line in (texts.HELP_LOOKUP, texts.HELP_BIND, texts.HELP_STATUS, texts.HELP_UNBIND):
        assert line in help_text


async def test_private_facts_only_for_the_bound_follower(env):
    services, hook, clock = env
    # Give the unit a history, which is private too.
    changed = [r for r in demo_rows() if r.name == UNIT.name]
    changed = [type(changed[0])(**{**changed[0].__dict__, "dues_paid_through": 2027})]
    await upsert(services.db, changed, clock.now(), "import members.xlsx", ImportReport("x"))
    clock.advance(1)

    replies = []
    for text in [
        "会员 浙江省婚姻家庭协会",
        "查询 婚姻家庭协会",
        "1",
        "浙江省婚姻家庭协会",
        UNIT.credit_code,
        "zjshyjtxh",
        "会员 浙江省婚姻家廷协会",
        "会员 上海市婚姻家庭研究会",
        "我的状态",
        "会员状态",
        "绑定",
        "绑定 WRONG123",
        "解绑",
        "会员 慈善",
    ]:
        replies.append(await say(hook, "o_stranger", text))
    replies.append(await click(hook, "o_stranger", "MEMBER_STATUS"))
    replies.append(await click(hook, "o_stranger", "MEMBER_HELP"))
    assert "【浙江省婚姻家庭协会】" in replies[0]
    for reply in replies:
        leaked = [p for p in PRIVATE if p in reply]
        assert not leaked, (reply, leaked)
    assert replies[8] == texts.NOT_BOUND

    code, _, _ = await binding.issue_code(services.db, UNIT.credit_code, clock.now(), 60)
    assert (await say(hook, "o_member", f"绑定 {code}")).startswith("绑定成功：浙江省婚姻家庭协会")
    for status in (await say(hook, "o_member", "我的状态"), await click(hook, "o_member", "MEMBER_STATUS")):
        assert UNIT.contact_person in status and UNIT.contact_phone in status
        assert "会费缴至：2027 年底" in status and "会费缴至 2026 → 2027" in status
        assert "下次评估：请于 2026 年申请复评" in status  # 4A of 2021: valid through 2026
    own = await say(hook, "o_member", "会员 浙江省婚姻家庭协会")
    assert UNIT.contact_phone in own
    other = await say(hook, "o_member", "会员 浙江省银行业协会")
    assert other.startswith("【浙江省银行业协会】") and not [p for p in PRIVATE if p in other]
    # The code is spent: the stranger cannot use it.
    assert "已被使用" in await say(hook, "o_stranger", f"绑定 {code}")

    assert (await say(hook, "o_member", "解绑")) == texts.unbound([UNIT.name])
    assert await say(hook, "o_member", "我的状态") == texts.NOT_BOUND


async def test_unsubscribing_unbinds(env):
    services, hook, clock = env
    code, _, _ = await binding.issue_code(services.db, UNIT.credit_code, clock.now(), 60)
    assert (await say(hook, "o_member", f"绑定 {code}")).startswith("绑定成功")
    assert await hook.send(event_xml("o_member", "unsubscribe"), mode="safe") in ("success", "")
    _, bindings, events = await binding.bindings_of(services.db, UNIT.credit_code)
    assert [b.revoked_at is not None for b in bindings] == [True]
    assert [e.kind for e in events] == ["bind", "unsubscribe"]
