"""Console pages in an office worker's words: 文章 → 导入 shows each polled source's rule, what becomes
of its new articles and its latest runs, as `main.py news sources` shows them (in Beijing time);
试一试 names a built-in feature in Chinese."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp.test_utils import TestClient, TestServer

from app import create_app, open_services
from console.pages.articles import poll_rule
from store import editors
from store.migrate import upgrade
from store.models.sources import SourceRun, SourceState
from tests.test_console_editing import PASSWORD, login


def test_the_poll_rule_in_words():
    assert poll_rule(1800, "every 30 min") == "每 30 分钟"
    assert poll_rule(7200, "every 2 h") == "每 2 小时"
    assert poll_rule(20, "every 20 s") == "每 20 秒"
    assert poll_rule(None, "*/30 8-18 * * *") == "按计划：*/30 8-18 * * *（北京时间的 cron 表达式）"


async def test_the_import_page_shows_each_polled_source_and_its_runs(sandbox, make_settings):
    settings = sandbox.settings_for(make_settings, sources=[
        {"name": "总会新闻", "url": "http://127.0.0.1:9/news/", "poll": "every 30 min", "on_new": "queue"},
        {"name": "政策法规", "base_url": "http://127.0.0.1:9/", "poll": "every 1 h"},
        {"name": "手动", "base_url": "http://127.0.0.1:9/"}])  # not polled: not listed
    await upgrade(settings.database_url)
    async with open_services(settings) as svc:
        await editors.add(svc.db, svc.clock, "ed", "editor", PASSWORD + "ed")
        async with svc.db.begin() as s:
            s.add(SourceState(name="总会新闻", failures=1, next_poll_at=datetime(2026, 3, 2, 2, 30, tzinfo=UTC),
                              last_run_at=datetime(2026, 3, 2, 2, 0, tzinfo=UTC),
                              last_ok_at=datetime(2026, 3, 2, 1, 0, tzinfo=UTC)))
            s.add(SourceRun(source="总会新闻", started_at=datetime(2026, 3, 2, 1, 0, tzinfo=UTC), requests=4, found=3,
                            added=2, updated=1, failed=0, queued=2))
            s.add(SourceRun(source="总会新闻", started_at=datetime(2026, 3, 2, 2, 0, tzinfo=UTC), requests=1,
                            error="列表页无法读取：HTTP 502"))
        async with TestClient(TestServer(create_app(svc, scheduler=False))) as client:
            await login(client, "ed")
            listing = await (await client.get("/console/articles")).text()
            assert "2 个网站自动导入" in listing
            html = await (await client.get("/console/imports")).text()
    assert "手动" not in html.split('id="sources"')[1]
    news, policy = html.split('id="source-1"')[1].split('id="source-2"')
    assert "每 30 分钟" in news and "导入并排入下一次推送（需编辑批准）" in news
    assert "2026-03-02 10:30" in news  # the next poll, 02:30 UTC in Beijing time
    assert "连续失败" in news and "列表页无法读取：HTTP 502" in news
    # The runs newest first: the failed one, then 3 found, 2 added, 1 updated, 0 failed, 2 queued.
    table = news.split('class="source-runs"')[1]
    assert table.index("2026-03-02 10:00") < table.index("2026-03-02 09:00")
    assert "<td>3</td><td>2</td><td>1</td><td>0</td><td>2</td>" in news
    assert "每 1 小时" in policy and "只导入" in policy and "尚未运行过" in policy


def test_a_built_in_rule_is_named_in_the_editors_words():
    """试一试 names the feature that answers, not the router's English description."""
    from console.pages.keywords import rule_shown

    assert rule_shown("help: exact 帮助/help/?/？/菜单") == "内置功能“帮助说明”（完全一致 帮助/help/?/？/菜单）"
    assert rule_shown("members: prefix 会员") == "内置功能“会员查询”（开头是 会员）"
    assert rule_shown("fallback") == "默认回复"
