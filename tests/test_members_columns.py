"""The registry file's columns for the figures: 登记日期, 参评资格, 参评次数 and the region, read and
checked with each bad row reported by line; a file without one of the new columns leaves what the
registry holds; an export imports back unchanged."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from store.members import regions
from store.members.registry import export_table, list_units, write_table
from store.models.members import Member
from tests.fixtures.members import HEADER, code, row

EXTRA = ["登记日期", "参评资格", "参评次数"]


def extended(
    name: str, unit_code: str, registered: str = "", eligible: str = "", evaluations: str = "", **kw
):
    return [*row(name, unit_code, **kw), registered, eligible, evaluations]


async def _by_code(env) -> dict[str, Member]:
    async with env.db() as session:
        return {m.credit_code: m for m in await session.scalars(select(Member))}


async def test_the_new_columns_are_read(members_env):
    rows = [
        [*HEADER, "成立登记日期", "是否符合参评条件", "评估次数"],
        extended("浙江省甲协会", code(1), "2010-05-04", "是", "3次", region="杭州市 西湖区"),
        extended("浙江省乙协会", code(2), "2012年3月", "否", "0", grade="", grade_year=""),
        extended("浙江省丙协会", code(3), "", "", "", region="浙江"),
    ]
    report = await members_env.import_rows(rows)
    assert report.ok, report.summary()
    units = await _by_code(members_env)
    a, b, c = units[code(1)], units[code(2)], units[code(3)]
    assert (a.registered_on, a.eligible, a.evaluations, a.region) == (
        date(2010, 5, 4),
        True,
        3,
        "杭州市西湖区",
    )
    assert (b.registered_on, b.eligible, b.evaluations) == (date(2012, 3, 1), False, 0)
    assert (c.registered_on, c.eligible, c.evaluations, c.region) == (None, None, None, "浙江")


async def test_bad_values_are_row_errors_with_their_line(members_env):
    rows = [
        [*HEADER, *EXTRA],
        extended("浙江省甲协会", code(1), eligible="也许"),  # line 2
        extended("浙江省乙协会", code(2), evaluations="三次"),  # line 3
        extended("浙江省丙协会", code(3), region="杭州西湖"),  # line 4
        extended("浙江省丁协会", code(4), registered="2030-01-01"),  # line 5
        extended(
            "浙江省戊协会", code(5), registered="2022-01-01", grade_year="2021", joined="2022-05-01"
        ),  # line 6
        extended("浙江省己协会", code(6), registered="2019-01-01", joined="2018-03-01"),  # line 7
        extended("浙江省庚协会", code(7), evaluations="0"),  # line 8: 4A of 2021 yet never evaluated
        extended("浙江省辛协会", code(8), registered="2010-02-30"),  # line 9
        extended("浙江省壬协会", code(9), "2010-01-01", "是", "2"),  # line 10: fine
    ]
    report = await members_env.import_rows(rows)
    assert [(r.line, r.reason) for r in report.rejected] == [
        (2, "参评资格“也许”应为“是”或“否”（或留空）"),
        (3, "参评次数“三次”不是次数（应为 0 至 30 的整数）"),
        (4, "所在地区“杭州西湖”应为市名，可跟区（县）名，如“杭州市西湖区”；省级单位填省名，如“浙江省”"),
        (5, "登记日期 2030-01-01 不合理"),
        (6, "评估年度早于登记日期"),
        (7, "入会时间早于登记日期"),
        (8, "有评估等级但参评次数为 0"),
        (9, "登记日期“2010-02-30”不是日期"),
    ]
    assert set(await _by_code(members_env)) == {code(9)}


async def test_a_file_without_the_new_columns_keeps_what_the_registry_holds(members_env):
    await members_env.import_rows(
        [[*HEADER, *EXTRA], extended("浙江省甲协会", code(1), "2010-05-04", "否", "2")]
    )
    # An older file, without those columns, changes the role only.
    report = await members_env.import_rows([HEADER, row("浙江省甲协会", code(1), "理事单位")], "old.csv")
    assert [c.fields for c in report.updated] == [{"role": ("会员单位", "理事单位")}]
    a = (await _by_code(members_env))[code(1)]
    assert (a.registered_on, a.eligible, a.evaluations) == (date(2010, 5, 4), False, 2)
    # A file with the column and an empty cell says the file does not state it: cleared.
    await members_env.import_rows(
        [[*HEADER, *EXTRA], extended("浙江省甲协会", code(1), "2010-05-04", "", "2", role="理事单位")],
        "new.csv",
    )
    assert (await _by_code(members_env))[code(1)].eligible is None


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
async def test_an_export_imports_back_unchanged(members_env, suffix):
    await members_env.import_rows([
        [*HEADER, *EXTRA],
        extended("浙江省甲协会", code(1), "2010-05-04", "是", "3", region="金华市义乌市"),
        extended("浙江省乙协会", code(2), "", "否", ""),
    ])  # fmt: skip
    path = members_env.tmp / f"export{suffix}"
    write_table(path, export_table(await list_units(members_env.db)))
    again = await members_env.import_file(path)
    assert again.ok and (len(again.added), len(again.updated), again.unchanged) == (0, 0, 2)


@pytest.mark.parametrize(
    ("text", "city", "county"),
    [
        ("杭州市西湖区", "杭州市", "西湖区"),
        ("金华市义乌市", "金华市", "义乌市"),
        ("浙江省杭州市", "杭州市", ""),
        ("浙江省", "浙江省", ""),
        ("浙江", "浙江省", ""),
        ("上海市浦东新区", "上海市", "浦东新区"),
        ("恩施土家族苗族自治州恩施市", "恩施土家族苗族自治州", "恩施市"),
        ("杭州市 / 上城区", "杭州市", "上城区"),
    ],
)
def test_regions_are_a_city_then_a_county(text, city, county):
    assert regions.parse(text) == regions.Region(city, county)


@pytest.mark.parametrize("text", ["杭州", "西湖区", "杭州市西湖", "浙江省西湖"])
def test_what_is_not_a_region(text):
    with pytest.raises(ValueError):
        regions.parse(text)
