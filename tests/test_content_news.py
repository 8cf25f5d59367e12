"""The follower-facing news handlers, called as the dispatcher calls them: a wechatpy message, a Context."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from wechatpy import parse_message

from app import ROUTERS, open_services
from bot.context import Context
from bot.conversation import NoConversation
from bot.router import help_lines, route
from core.clock import FakeClock
from store.content.extract import Extracted, make_digest
from store.content.importer import Importer
from store.models.content import Article, Image, ImageUpload
from store.shared import MemoryState
from tests.content_site import make_png
from wechat.replies import News, Text


def text_message(content: str):
    return parse_message(
        "<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[o_follower]]></FromUserName>"
        f"<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
        "<MsgId>1234567890</MsgId></xml>"
    )


def click_message(key: str):
    return parse_message(
        "<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[o_follower]]></FromUserName>"
        "<CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event>"
        f"<EventKey><![CDATA[{key}]]></EventKey></xml>"
    )


@pytest.fixture
async def services(migrated, make_settings):
    settings = make_settings(database={"url": migrated})
    clock = FakeClock()
    async with open_services(settings, clock, shared=MemoryState(clock)) as services:
        yield services


async def add(services, slug, title, when, body, image: bytes | None = None, **fields) -> int:
    url = f"https://www.example.org/news/{slug}.html"
    images = {f"https://www.example.org/img/{slug}.png": image} if image else {}
    html = f"<p>{body}</p>" + "".join(f'<img src="{u}">' for u in images)
    x = Extracted(
        url=url,
        title=title,
        published_at=when,
        source_name="",
        author="",
        body_html=html,
        body_text=body,
        digest=make_digest(body),
        images=list(images),
    )
    _, article_id = await Importer(services.settings, services.db, services.clock, http=None).save(x, images)
    if fields:
        async with services.db() as session, session.begin():
            article = await session.get(Article, article_id)
            for k, v in fields.items():
                setattr(article, k, v)
    return article_id


async def answer(services, message):
    routed = route(ROUTERS, message, services)
    assert routed is not None and routed.describe.startswith("news:"), routed
    ctx = Context(services, "o_follower", None, NoConversation(), routed.captured.args, routed.captured.match,
                  ROUTERS)
    return await routed.handler(message, ctx)


async def seed(services):
    await add(
        services,
        "a",
        "社会组织等级评估工作启动",
        date(2024, 3, 1),
        "今年的评估工作分三个阶段进行。",
        make_png(1),
    )
    await add(services, "b", "年会筹备会召开", date(2024, 5, 1), "会议研究了等级评估材料。")
    await add(
        services,
        "c",
        "公益培训走进社区",
        date(2024, 6, 1),
        "培训内容包括财务管理。",
        status="published",
        wechat_url="https://mp.weixin.qq.com/s/ccc",
    )


async def test_latest_by_word_and_menu(services):
    await seed(services)
    for message in (text_message("新闻"), text_message("最新"), click_message("NEWS_LATEST")):
        reply = await answer(services, message)
        assert isinstance(reply, Text)
        lines = reply.content.splitlines()
        assert lines[0] == "最新动态："
        assert '<a href="https://mp.weixin.qq.com/s/ccc">公益培训走进社区</a>（2024年6月1日）' in lines[1]
        assert "news/b.html" in lines[2] and "news/a.html" in lines[3]


async def test_one_clear_hit_is_a_news_reply(services):
    await seed(services)
    reply = await answer(services, text_message("新闻 等级评估"))
    # a has it in the title, b only in the body: a is the clear best hit.
    assert isinstance(reply, News) and len(reply.articles) == 1
    item = reply.articles[0]
    assert item.title == "社会组织等级评估工作启动" and item.url == "https://www.example.org/news/a.html"
    assert item.description == "今年的评估工作分三个阶段进行。"
    assert item.picurl == "https://www.example.org/img/a.png"  # not on WeChat yet: the website's image

    # Once the cover is hosted by WeChat for this account, that URL is used.
    async with services.db() as session, session.begin():
        cover = select(Article.cover_image_id).where(Article.title.like("社会组织%")).scalar_subquery()
        sha = (await session.execute(select(Image.sha256).where(Image.id == cover))).scalar_one()
        w = services.settings.wechat
        session.add(
            ImageUpload(
                sha256=sha,
                account=f"{w.api_base_url}#{w.appid}",
                kind="image",
                url="http://mmbiz.qpic.cn/cover.png",
                media_id="m1",
            )
        )
    reply = await answer(services, text_message("搜索 等级评估"))
    assert reply.articles[0].picurl == "http://mmbiz.qpic.cn/cover.png"


async def test_several_hits_are_a_text_list(services):
    await seed(services)
    await add(services, "d", "等级评估专家库更新", date(2023, 1, 9), "新增专家。")
    reply = await answer(services, text_message("搜索：评估"))
    assert isinstance(reply, Text)
    lines = reply.content.splitlines()
    assert lines[0] == "与“评估”相关的新闻："
    assert [line.split(". ")[0] for line in lines[1:4]] == ["1", "2", "3"]
    assert "news/a.html" in lines[1] and "news/d.html" in lines[2] and "news/b.html" in lines[3]


async def test_no_result_suggests_recent(services):
    await seed(services)
    reply = await answer(services, text_message("新闻 量子计算"))
    assert isinstance(reply, Text)
    assert reply.content.startswith("没有找到与“量子计算”相关的新闻。")
    assert "公益培训走进社区" in reply.content and "评估" in reply.content


async def test_empty_store_and_bare_search(services):
    reply = await answer(services, text_message("新闻"))
    assert reply == Text("暂时还没有新闻，请稍后再来看看。")
    reply = await answer(services, text_message("搜索"))
    assert "请在“搜索”后面加上关键词" in reply.content


async def test_long_list_stays_within_text_limit(services):
    for i in range(5):
        await add(services, f"l{i}", "等级评估" + "很长的标题" * 30 + str(i), date(2024, 1, 1 + i), "正文")
    reply = await answer(services, text_message("新闻 很长的标题"))
    assert len(reply.content.encode()) <= 2000
    assert reply.content.count("<a href") == 3 and reply.content.endswith("换个关键词试试。\n回复序号查看该篇。")


def test_help_lines_declared():
    lines = help_lines(ROUTERS)
    assert any(line.startswith("新闻 — ") for line in lines)
    assert any("搜索 关键词" in line for line in lines)
