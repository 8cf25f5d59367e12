"""Looking members up the way people type them: full name, short name, name without province or
city, pinyin initials (either reading of a heteronym), one wrong character, credit code; and the
index noticing an import made by another process."""

from __future__ import annotations

from store.db import make_engine, make_session_factory
from store.members.demo import demo_rows, load_demo
from store.members.importer import ImportReport, upsert
from store.members.index import MemberIndex, MemberLookup
from tests.fixtures.members import code

DEMO = {r.name: r for r in demo_rows()}


async def _lookup(env, query: str):
    return await env.services.members.lookup(query)


def _names(result) -> list[str]:
    return [e.name for e in result.entries]


async def test_lookups_people_type(members_env):
    assert await load_demo(members_env.services) == len(DEMO)
    cases = {
        "浙江省婚姻家庭协会": ("name", ["浙江省婚姻家庭协会"]),
        " 浙江省 婚姻家庭协会。": ("name", ["浙江省婚姻家庭协会"]),  # spaces and punctuation ignored
        "慈善联合总会": ("alias", ["浙江省慈善联合总会"]),  # short name
        "浙江慈善联合总会": ("alias", ["浙江省慈善联合总会"]),  # province without 省
        "义乌市小商品行业协会": ("alias", ["金华市义乌市小商品行业协会"]),  # without the city
        "阳光社会工作服务中心": ("alias", ["杭州市西湖区阳光社会工作服务中心"]),  # without city and district
        "zjshyjtxh": ("initials", ["浙江省婚姻家庭协会"]),
        "ZJSYHYXH": ("initials", ["浙江省银行业协会"]),  # 行 read háng
        "zjsyxyxh": ("initials", ["浙江省银行业协会"]),  # 行 read xíng: either reading is accepted
        "zjscjwhyjh": ("initials", ["浙江省长江文化研究会"]),  # 长 read cháng
        "zjszjwhyjh": ("initials", ["浙江省长江文化研究会"]),  # 长 read zhǎng
        "浙江省银航业协会": ("typo", ["浙江省银行业协会"]),  # one character wrong
        "浙江省慈善联合会": ("typo", ["浙江省慈善联合总会"]),  # one character missing
        DEMO["温州市慈善总会"].credit_code.lower(): ("code", ["温州市慈善总会"]),
    }
    for query, (how, names) in cases.items():
        result = await _lookup(members_env, query)
        assert (result.how, _names(result)) == (how, names), query

    several = await _lookup(members_env, "婚姻家庭协会")
    assert sorted(_names(several)) == ["宁波市婚姻家庭协会", "杭州市婚姻家庭协会", "浙江省婚姻家庭协会"]
    partial = await _lookup(members_env, "慈善")
    assert partial.how == "partial" and {"浙江省慈善联合总会", "杭州市慈善总会", "温州市慈善总会"} <= set(
        _names(partial)
    )

    bad = DEMO["温州市慈善总会"].credit_code
    bad = bad[:17] + ("1" if bad[17] != "1" else "2")
    assert (await _lookup(members_env, bad)).how == "bad_code"
    assert (await _lookup(members_env, code(12345))).how == "none"

    miss = await _lookup(members_env, "上海市婚姻家庭研究会")
    assert miss.how == "none" and miss.entries == ()
    suggested = [e.name for e in miss.suggestions]
    assert len(suggested) == 3 and sum(n.endswith("婚姻家庭协会") for n in suggested) >= 2


async def test_a_retired_unit_is_found_and_says_so(members_env):
    await load_demo(members_env.services)
    from store.members.importer import retire

    await retire(members_env.db, DEMO["舟山市海洋渔业协会"].credit_code, members_env.clock.now())
    members_env.clock.advance(1)
    (entry,) = (await _lookup(members_env, "舟山市海洋渔业协会")).entries
    assert entry.retired


async def test_the_index_sees_an_import_made_by_another_process(members_env, db_url):
    lookup = MemberLookup(members_env.db, members_env.clock)
    assert (await lookup.lookup("浙江省婚姻家庭协会")).how == "none"

    other = make_engine(db_url)  # another process: its own engine and sessions
    try:
        rows = [r for r in demo_rows() if r.name == "浙江省婚姻家庭协会"]
        await upsert(make_session_factory(other), rows, members_env.clock.now(), "demo", ImportReport("demo"))
    finally:
        await other.dispose()

    # The version is checked at most once a second: until then the old index answers.
    assert (await lookup.lookup("浙江省婚姻家庭协会")).how == "none"
    members_env.clock.advance(1.0)
    assert _names(await lookup.lookup("浙江省婚姻家庭协会")) == ["浙江省婚姻家庭协会"]
    index = lookup.index
    members_env.clock.advance(1.0)
    await lookup.current()
    assert lookup.index is index  # same version: not rebuilt


def test_heteronym_initials_are_bounded():
    from store.members.index import MAX_INITIALS, Entry, initials

    spellings = initials("长行会长行会长行会长行会")  # every character a heteronym: 2**12 combinations
    assert len(spellings) <= MAX_INITIALS * 4
    # Too many to list: the usual reading, and it with one character read the other way at a time.
    usual = "zhhzhhzhhzhh"
    other = {"z": "c", "h": "x"}  # 长 zhang/chang, 行 hang/xing, 会 hui/kuai
    one_off = {usual[:i] + (other[c] if i % 3 < 2 else "k") + usual[i + 1:] for i, c in enumerate(usual)}
    assert spellings == {usual} | one_off and len(spellings) == 13
    index = MemberIndex.build([Entry(1, "长行会", "X" * 18, "社会团体", "会员单位", None, None, "", False)])
    assert "zxh" in index.by_initials and "chk" in index.by_initials
