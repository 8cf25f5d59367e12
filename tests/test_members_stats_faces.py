"""The registry's figures where people read them: `main.py members stats` (text, --json, --xlsx that
opens with openpyxl under Chinese headers, --on a past day), followers' 统计 / 会员统计 (public
figures only) and a bound unit's 我的状态 (its place in the ranking, its grade's expiry)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from core.clock import FakeClock
from store.members import stats_texts, texts
from store.members.binding import issue_code
from store.members.demo import demo_rows, load_demo
from store.members.stats import place_in_ranking, registry_figures
from store.members.status import local_today
from tests.fixtures.members import HEADER, code, row, write_csv
from tests.test_members_webhook import PRIVATE, say
from tests.webhook_helpers import webhook_client
from tests.webhook_support import make_services

# The CLI runs on the real clock: grades relative to the federation's year stay valid.
THIS_YEAR = local_today(datetime.now(UTC), "Asia/Shanghai").year


@pytest.fixture
def registry(cli, tmp_path):
    rows = [
        [*HEADER, "登记日期", "参评资格", "参评次数"],
        [*row("浙江省甲协会", code(1), "会长单位", grade="5A", grade_year=str(THIS_YEAR - 1), region="杭州市西湖区"), "2001-01-01", "", "3"],
        [*row("浙江省乙协会", code(2), grade="4A", grade_year=str(THIS_YEAR - 2), region="宁波市"), "2002-02-02", "", "1"],
        [*row("浙江省丙协会", code(3), grade="", grade_year="", region="杭州市"), "2003-03-03", "否", "0"],
        [*row("浙江省丁协会", code(4), kind="基金会", grade="3A", grade_year=str(THIS_YEAR - 5)), "2004-04-04", "", "2"],
    ]  # fmt: skip
    status, out, _ = cli("members", "import", str(write_csv(tmp_path / "units.csv", rows)))
    assert status == 0, out


def test_cli_prints_the_headline_tables_expiring_grades_and_the_ranking(cli, registry):
    status, out, _ = cli("members", "stats", "--by", "region")
    assert status == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("单位会员统计（截至") and lines[0].endswith("结束时）")
    # 丙 said 否; 甲, 乙 and 丁 hold valid grades (丁's 3A is in its last year); 5A + 4A = 2 of 3.
    assert lines[1] == (
        "在符合参评条件的3家单位会员中，有3家获得评估等级。"
        "其中，5A级社会组织1家、4A级社会组织1家，约占总会内等级社会组织总数的67%。"
    )
    assert "单位会员 4 家；符合参评条件 3 家，其中获评有效等级 3 家" in out
    assert "按地区（市、区县）：" in out and "西湖区" in out
    assert f"{THIS_YEAR}-12-31  3A（{THIS_YEAR - 5} 年评定）  浙江省丁协会" in out  # expires this year
    ranking = out[out.index("会内排名") :].splitlines()[1:]
    assert [line.split()[-1] for line in ranking] == [
        "浙江省甲协会",
        "浙江省乙协会",
        "浙江省丁协会",
        "浙江省丙协会",
    ]


def test_cli_json(cli, registry):
    status, out, _ = cli("members", "stats", "--json", "--months", "24")
    assert status == 0
    data = json.loads(out)
    assert data["headline"] == {"eligible": 3, "graded": 3, "grade_5a": 1, "grade_4a": 1, "percent": 67}
    assert data["headline_text"].startswith("在符合参评条件的3家单位会员中")
    assert data["months"] == 24 and data["total"]["units"] == 4
    assert [k["label"] for k in data["by_kind"]] == ["社会团体", "基金会"]
    # Beside an xlsx, stdout is still one JSON document.
    status, out, err = cli("members", "stats", "--json", "--xlsx", str(cli.tmp / "f.xlsx"))
    assert status == 0 and json.loads(out)["total"]["units"] == 4 and "已写入" in err


def test_cli_xlsx_opens_with_chinese_headers(cli, registry, tmp_path):
    path = tmp_path / "figures.xlsx"
    status, out, _ = cli("members", "stats", "--xlsx", str(path), "--top", "1")
    assert status == 0 and out.endswith(f"已写入 {path}\n")
    wb = load_workbook(path, read_only=True)
    assert wb.sheetnames == ["概况", "按单位类型", "按会员类别", "按地区", "即将到期", "会内排名"]
    first = {name: next(wb[name].iter_rows(values_only=True)) for name in wb.sheetnames}
    assert first["概况"] == ("项目", "数值")
    assert first["按单位类型"][:4] == ("单位类型", "单位数", "符合参评条件", "获评有效等级（符合参评条件）")
    assert first["按地区"][:2] == ("市", "区（县）")
    assert first["即将到期"] == ("单位名称", "评估等级", "评估年度", "有效期至")
    assert first["会内排名"] == ("名次", "单位名称", "评估等级（有效）", "参评次数", "最近评估年度")
    summary = {k: v for k, v in wb["概况"].iter_rows(min_row=2, values_only=True)}
    assert summary["总会的表述"].startswith("在符合参评条件的3家单位会员中") and summary["单位会员"] == 4
    assert len(list(wb["会内排名"].iter_rows(min_row=2))) == 4  # the whole ranking, whatever --top says
    wb.close()


def test_cli_a_past_day_and_days_it_cannot_count(cli, registry):
    status, out, _ = cli("members", "stats", "--on", "2020-01-01")
    assert status == 0 and "单位会员 0 家" in out  # nothing was imported before today
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    assert cli("members", "stats", "--on", tomorrow)[:2] == (2, f"{tomorrow} 还没有到，名录只能统计到今天\n")
    assert cli("members", "stats", "--on", "昨天")[:2] == (2, "“昨天”不是日期，应为 YYYY-MM-DD\n")
    assert cli("members", "stats", "--xlsx", "/nonexistent/dir/x.xlsx")[0] == 2


# --- followers ---------------------------------------------------------------------------------------


@pytest.fixture
async def env(make_settings, migrated):
    clock = FakeClock()  # 2026-01-05
    async with make_services(make_settings, migrated, clock=clock) as services:
        await load_demo(services)
        async with webhook_client(services) as hook:
            yield services, hook, clock


async def test_followers_get_the_public_figures(env):
    services, hook, clock = env
    figures = await registry_figures(services.db, date(2026, 1, 5), timezone="Asia/Shanghai",
                                     roles=services.settings.members.roles, top=0)  # fmt: skip
    for word in ("统计", "会员统计"):
        reply = await say(hook, "o_alice", word)
        assert reply == stats_texts.follower_reply(figures)
    assert reply.splitlines()[:2] == [
        "【总会单位会员统计】截至2026年1月5日",
        "在符合参评条件的33家单位会员中，有13家获得评估等级。其中，5A级社会组织4家、4A级社会组织7家，约占总会内等级社会组织总数的85%。",
    ]
    assert "单位会员共 34 家：社会团体 22 家、基金会 4 家、社会服务机构 8 家。" in reply
    # Counts only: no unit is named, nothing private appears.
    assert not [r.name for r in demo_rows() if r.name in reply]
    assert not [p for p in PRIVATE if p in reply] and "会内排名" not in reply
    assert stats_texts.HELP_STATS in await say(hook, "o_alice", "帮助")


async def test_my_status_shows_the_place_in_the_ranking_and_the_grades_expiry(env):
    services, hook, clock = env
    unit = next(r for r in demo_rows() if r.name == "浙江省婚姻家庭协会")  # 4A of 2021
    bind_code, member, _ = await issue_code(services.db, unit.credit_code, clock.now(), 60)
    assert (await say(hook, "o_member", f"绑定 {bind_code}")).startswith("绑定成功")

    status = await say(hook, "o_member", "我的状态")
    place = await place_in_ranking(services.db, member.id, date(2026, 1, 5), "Asia/Shanghai")
    assert place == (8, 34)
    assert "会内排名：第 8 位（共 34 家；依次按评估等级、参评次数、最近评估年度排序）" in status
    assert "评估等级到期日：2026年12月31日（还有 360 天）" in status
    # Anyone else looking the unit up sees neither.
    other = await say(hook, "o_stranger", "会员 浙江省婚姻家庭协会")
    assert "会内排名" not in other and "到期日" not in other

    clock.advance(365 * 86400)  # 2027-01-05: the grade has expired
    assert "评估等级已于2026年12月31日到期" in await say(hook, "o_member", "我的状态")


async def test_my_status_of_a_unit_never_evaluated(env):
    services, hook, clock = env
    unit = next(r for r in demo_rows() if r.grade is None)
    bind_code, _, _ = await issue_code(services.db, unit.credit_code, clock.now(), 60)
    await say(hook, "o_member", f"绑定 {bind_code}")
    status = await say(hook, "o_member", "我的状态")
    assert "会内排名：第 " in status and "到期" not in status
    assert texts.NOT_BOUND not in status
