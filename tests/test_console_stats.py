"""The console's 统计 pages and the dashboard's webhook tiles, on SQLite and PostgreSQL: the registry
page from the registry that matches the federation's news page (its sentence, its bars by grade and
region, its tables, a past day from history), the reading page (the year's sentence, followers over
time, reads per push), every table downloaded as xlsx through the CLI's writers (Chinese headers), and
the webhook's figures of the last 24 hours as tiles."""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import date, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from openpyxl import load_workbook

from app import create_app
from console import charts
from core import metrics
from store import editors
from store.models.reading import FollowerDay
from store.models.webhook import MessageLog
from store.reading import records
from tests.test_members_stats import SEED_SENTENCE, _load, seed_registry
from tests.test_reading_report import SEED, fill

PASSWORD = "stats-pass-2026"


@pytest.fixture
async def console(members_env):
    svc = members_env.services
    await editors.add(svc.db, svc.clock, "ed", "editor", PASSWORD)
    async with TestClient(TestServer(create_app(svc, scheduler=False))) as client:
        page = await client.get("/console/login")
        token = re.search(r'name="_csrf" value="([^"]+)"', await page.text()).group(1)
        r = await client.post("/console/login", data={"name": "ed", "password": PASSWORD, "_csrf": token})
        assert r.status == 200
        client.env = members_env
        yield client


def bars_of(html: str, chart_id: str) -> dict[str, int]:
    """The bars (label → value) of the SVG in the section `chart_id`."""
    section = html[html.index(f'id="{chart_id}"'):]
    svg = section[section.index("<svg"): section.index("</svg>")]
    return {label: int(v) for label, v in re.findall(r'<rect class="bar[^"]*"[^>]*data-label="([^"]*)" '
                                                     r'data-value="(\d+)"', svg)}


def workbook(body: bytes):
    return load_workbook(io.BytesIO(body))


async def test_the_registry_page_says_the_seed_sentence_and_draws_its_bars(console):
    await _load(console.env, seed_registry())
    r = await console.get("/console/stats")
    html = await r.text()
    assert r.status == 200
    sentence = re.search(r'<p class="headline">([^<]+)</p>', html).group(1)
    assert unicodedata.normalize("NFKC", sentence) == SEED_SENTENCE
    assert '<a href="/console/stats" aria-current="page">统计</a>' in html  # in the nav
    grades = bars_of(html, "chart-grades")
    assert grades == {"5A": 207, "4A": 115, "3A": 30, "2A": 8, "1A": 0, "等级已过期": 40, "未参加评估": 50}
    assert bars_of(html, "chart-regions") == {"杭州市": 450}
    for title in ("概况", "按单位类型", "按会员类别", "按地区", "即将到期", "会内排名"):
        assert f"<h2>{title}</h2>" in html
    assert "<th>单位类型</th>" in html and "<th>会员类别</th>" in html and "<th>名次</th>" in html
    assert html.count('class="download"') == 6


async def test_a_past_day_comes_from_history_and_a_future_day_is_refused(console):
    await _load(console.env, seed_registry())
    html = await (await console.get("/console/stats?on=2026-01-04&months=6")).text()  # the day before the import
    assert "在符合参评条件的0家单位会员中，暂无单位获得评估等级。" in html
    assert "截至2026年1月4日" in html and 'value="6"' in html
    html = await (await console.get("/console/stats?on=2027-01-01")).text()
    assert "2027-01-01 还没有到，名录只能统计到今天" in html
    assert unicodedata.normalize("NFKC", re.search(r'class="headline">([^<]+)<', html).group(1)) == SEED_SENTENCE
    assert "不是月数" in await (await console.get("/console/stats?months=abc")).text()


async def test_every_registry_table_downloads_as_the_cli_writes_it(console):
    await _load(console.env, seed_registry())
    r = await console.get("/console/stats/registry.xlsx")
    assert r.status == 200 and r.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = workbook(await r.read())
    assert wb.sheetnames == ["概况", "按单位类型", "按会员类别", "按地区", "即将到期", "会内排名"]
    assert [c.value for c in wb["按地区"][1]][:3] == ["市", "区（县）", "单位数"]
    assert len(list(wb["会内排名"].iter_rows())) == 451  # the whole ranking, the page lists 20
    one = await console.get("/console/stats/registry.xlsx", params={"sheet": "按单位类型", "on": "2026-01-05"})
    wb = workbook(await one.read())
    assert wb.sheetnames == ["按单位类型"]
    assert [c.value for c in wb["按单位类型"][1]][:2] == ["单位类型", "单位数"]
    assert [c.value for c in wb["按单位类型"][2]][:2] == ["社会团体", 450]
    assert (await console.get("/console/stats/registry.xlsx", params={"sheet": "无此表"})).status == 404
    assert (await console.get("/console/stats/registry.xlsx", params={"on": "x"})).status == 400


async def test_the_reading_page_says_the_year_and_draws_followers_and_pushes(console):
    db = console.env.db
    await fill(db, 2026, 1500, 414)  # 621,000 reads: the seed's second sentence
    async with db.begin() as s:
        await records.upsert(s, FollowerDay, [{"ref_date": date(2026, 1, 1) + timedelta(days=k),
                                               "cumulate_user": 1000 + 3 * k} for k in range(5)])
    html = await (await console.get("/console/stats/reading?year=2026")).text()
    sentence = re.search(r'<p class="headline">([^<]+)</p>', html).group(1)
    assert unicodedata.normalize("NFKC", sentence) == SEED.replace("“浙江省社会组织总会”微信公众号", "")
    assert "，" in sentence
    line = re.search(r'<polyline class="line" points="[^"]+" data-points="(\d+)" data-last="(\d+)"', html)
    assert line.groups() == ("5", "1012")
    pushes = bars_of(html, "chart-pushes")
    assert len(re.findall(r'<rect class="bar', html[html.index('id="chart-pushes"'):])) == 60  # the last 60
    assert set(pushes.values()) == {414}
    for title in ("按年", "阅读最多的文章", "粉丝变化", "各次推送的阅读"):
        assert f"<h2>{title}</h2>" in html
    wb = workbook(await (await console.get("/console/stats/reading.xlsx?year=2026")).read())
    assert wb.sheetnames == ["按年", "阅读最多的文章", "粉丝变化", "各次推送的阅读"]
    assert [c.value for c in wb["按年"][3]][:3] == ["年份", "发文篇数", "阅读（人次）"]
    assert [c.value for c in wb["按年"][4]][:3] == [2026, 1500, 621_000]
    assert [c.value for c in wb["粉丝变化"][1]] == ["日期", "粉丝总数（当天结束时）", "新增关注", "取消关注"]
    assert len(list(wb["各次推送的阅读"].iter_rows())) == 1501  # fill() sends each article on its own
    one = workbook(await (await console.get("/console/stats/reading.xlsx?year=2026&sheet=粉丝变化")).read())
    assert one.sheetnames == ["粉丝变化"]
    assert "--since 不能晚于 --year" in await (await console.get("/console/stats/reading?year=2025&since=2026")).text()


async def test_the_dashboard_shows_the_webhook_s_last_24_hours(console):
    svc = console.env.services
    now = svc.clock.now()
    async with svc.db.begin() as s:
        s.add_all([MessageLog(at=now - timedelta(hours=h), openid="o_x", direction="in", channel="webhook",
                              msg_type="text") for h in (1, 2, 30)])
        s.add_all([MessageLog(at=now - timedelta(hours=1), openid="o_x", direction="out", channel="passive",
                              msg_type="text", elapsed_ms=ms) for ms in (120.0, 4900.0)])
    html = await (await console.get("/console/")).text()
    tiles = html[html.index('id="webhook"'):]
    assert "公众号消息（最近 24 小时）" in tiles
    assert re.search(r'id="tile-messages"><dt>收到的消息和事件</dt><dd>2</dd>', tiles)  # the 30-hour-old one is out
    assert re.search(r'id="tile-within"><dt>4.5 秒内回复</dt><dd>1 <small>共回复 2 条</small>', tiles)
    fallbacks = int(metrics.sample("wxbot_deadline_fallbacks_total"))
    assert re.search(rf'id="tile-fallbacks"><dt>超时兜底回复</dt><dd>[^<]*(<span[^>]*>[^<]*</span> )?{fallbacks} ', tiles)
    assert f"<dd>{int(metrics.sample('wxbot_dedupe_hits_total'))} <small>自进程启动以来" in tiles


def test_a_chart_escapes_its_labels_and_draws_a_zero_as_nothing():
    svg = charts.bars([charts.Bar("<b>甲</b>", 3), charts.Bar("乙", 0)], title="标题 & 说明", unit="家")
    assert "<b>" not in svg and "&lt;b&gt;甲&lt;/b&gt;" in svg and "标题 &amp; 说明" in svg
    assert re.search(r'width="0.0" height="16.0" data-label="乙" data-value="0"', svg)
    empty = charts.line([], title="空", unit="人", empty="还没有数据")
    assert "data-points" not in empty and "还没有数据" in empty
