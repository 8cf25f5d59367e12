"""`main.py news import` of an older CMS's column (tests/cms_site.py): a two-entry listing of block links
with a pager, a table-layout article, an ASP.NET page inside one <form>, a short notice beside many
links. And the page-level rules behind them, one test each."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from main import main
from store.content.charset import decode_html
from store.content.extract import Extracted, Listing, parse_page
from store.db import make_engine, make_session_factory
from store.migrate import upgrade
from store.models.content import Article
from tests.cms_site import ENTRIES, column_page, form_article, make_cms_app, short_notice, table_article


@pytest.fixture
async def config(tmp_path):
    db = tmp_path / "bot.db"
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[wechat]
appid = "wxtest0000000001"
secret = "s"
token = "testtoken"
account_id = "gh_test"
api_base_url = "http://127.0.0.1:9"
[database]
url = "sqlite+aiosqlite:///{db}"
[content]
media_dir = "{tmp_path / "media"}"
fetch_delay_seconds = 0
""",
        encoding="utf-8",
    )
    await upgrade(f"sqlite+aiosqlite:///{db}")
    return str(path), f"sqlite+aiosqlite:///{db}"


async def test_news_import_of_a_small_column(config, capsys):
    path, url = config
    server = TestServer(make_cms_app(), host="127.0.0.1")
    await server.start_server()
    try:
        code = await asyncio.to_thread(main, ["news", "import", str(server.make_url("/xwdt/")), "--config", path])
    finally:
        await server.close()
    out = capsys.readouterr().out
    assert code == 0 and "新增 3 篇，更新 0 篇，未变 0 篇，失败 0 篇" in out, out

    engine = make_engine(url)
    async with make_session_factory(engine)() as session:
        articles = {a.source_url.rsplit("/", 1)[-1]: a for a in (await session.execute(select(Article))).scalars()}
    await engine.dispose()
    # The listing pages themselves are not articles; every entry of both pages is.
    assert sorted(articles) == ["c201.html", "c202.html", "c203.html"]
    table, form, notice = articles["c201.html"], articles["c202.html"], articles["c203.html"]
    assert [a.title for a in (table, form, notice)] == [e.title for e in ENTRIES]
    assert (table.published_at, table.source_name, table.author) == (date(2024, 3, 1), "总会秘书处", "张堃")
    assert (form.published_at, form.source_name, form.author) == (date(2024, 2, 26), "总会党支部", "李思远")
    assert (notice.published_at, notice.author) == (date(2024, 2, 20), "王晓敏")
    # The column is the breadcrumb's last link that names one, never its "正文".
    assert table.tags == form.tags == notice.tags == ["新闻动态"]
    assert "——报告总结了一年来" in table.body_text  # GBK decoding: —— stays ——
    assert "浏览次数" not in table.body_text and "发布时间" not in table.body_text
    assert form.body_text.startswith("本网讯")  # the bold dateline lead is the article's, not metadata
    assert "主题活动" in form.body_text and "分享到" not in form.body_text
    assert "等级评估申报工作现已启动" in notice.body_text and "年检工作的通知" not in notice.body_text


def test_two_entry_listing_with_a_pager():
    first = parse_page(column_page(1), "http://127.0.0.1/xwdt/")
    assert isinstance(first, Listing)
    assert first.items == [
        ("http://127.0.0.1/xwdt/c201.html", date(2024, 3, 1)),
        ("http://127.0.0.1/xwdt/c202.html", date(2024, 2, 26)),
    ]
    assert first.next_url == "http://127.0.0.1/xwdt/index_2.html"  # <a><span>下一页&gt;&gt;</span></a>
    last = parse_page(column_page(2), "http://127.0.0.1/xwdt/index_2.html")
    assert isinstance(last, Listing) and last.next_url is None
    assert last.items == [("http://127.0.0.1/xwdt/c203.html", date(2024, 2, 20))]  # not the pager's links


def test_short_notice_beside_many_links_is_an_article():
    x = parse_page(short_notice(), "http://127.0.0.1/xwdt/c203.html")
    assert isinstance(x, Extracted) and x.title == ENTRIES[2].title


def test_gbk_labelled_gb2312_decodes_as_a_browser_does():
    page = table_article()
    assert "堃".encode("gbk") in page  # a GBK-only character: strict gb2312 would fail the page
    text = decode_html(page)
    assert "张堃" in text and "——" in text and "――" not in text
    # Re-saved as UTF-8 under the old label, the bytes are still read right.
    assert "张堃" in decode_html(page.decode("gbk").encode("utf-8"))
    x = parse_page(page, "http://127.0.0.1/xwdt/c201.html")
    assert x.author == "张堃" and "——报告总结" in x.body_text


def test_whole_page_in_a_form():
    x = parse_page(form_article(), "http://127.0.0.1/xwdt/c202.html")
    assert isinstance(x, Extracted)
    assert "党建联建 共促发展" in x.body_text and "将把学习成果转化为" in x.body_text
    assert x.source_name == "总会党支部"  # 来源于：


def test_editor_is_never_the_author():
    html = """<html><head><title>总会召开秘书长办公会</title></head><body><h1>总会召开秘书长办公会</h1>
    <div>发布时间：2024-05-06 来源：总会秘书处作者：责任编辑：赵编辑</div>
    <div class="con"><p>5月6日，总会召开秘书长办公会，研究部署近期重点工作，各部门负责人参加会议。</p></div>
    <p>编辑：钱小编</p></body></html>"""
    x = parse_page(html, "http://127.0.0.1/n/1.html")
    assert x.author == "" and x.source_name == "总会秘书处"
