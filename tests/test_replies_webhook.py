"""What followers say that is not a command, and the numbers they answer lists with, through the real
webhook: a greeting gets a greeting and the help, a number after a list (even after a first choice)
gets the item, a number with no list or 「更多」 with nothing more gets a sensible answer; dates of
other years carry the year."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app import ROUTERS
from core.clock import FakeClock
from handlers import texts
from handlers.help import help_text
from store.content.extract import Extracted
from store.content.importer import Importer
from tests.webhook_helpers import text_xml, webhook_client
from tests.webhook_support import make_services

ARTICLES = [  # slug, title, date
    ("a", "总会召开年度工作会议", date(2026, 3, 1)),
    ("b", "等级评估培训班开班", date(2025, 12, 20)),
    ("c", "2024年度会员大会回顾", date(2024, 3, 1)),
]


@pytest.fixture
async def env(make_settings, migrated):
    clock = FakeClock(datetime(2026, 3, 5, 2, 0, tzinfo=UTC))
    async with make_services(make_settings, migrated, clock=clock, wechat={"display_name": "省社会组织总会"}) as services:
        importer = Importer(services.settings, services.db, clock, http=None)
        for slug, title, when in ARTICLES:
            await importer.save(Extracted(
                url=f"https://www.example.org/news/{slug}.html", title=title, published_at=when, source_name="",
                author="", body_html=f"<p>{title}。</p>", body_text=f"{title}。", digest=title, images=[]))
        async with webhook_client(services) as hook:
            yield services, hook, clock


async def say(hook, openid: str, text: str) -> dict | str:
    return await hook.send(text_xml(openid, text), mode="safe")


@pytest.mark.parametrize("hello", ["你好", "您好！", "Hello", "在吗？", "你好呀"])
async def test_a_greeting_gets_a_greeting_and_the_help(env, hello):
    _, hook, _ = env
    reply = await say(hook, "o_hi", hello)
    assert reply["Content"] == "您好！这里是省社会组织总会。\n\n" + help_text(ROUTERS)


async def test_thanks_and_more_with_nothing_more(env):
    _, hook, _ = env
    assert (await say(hook, "o_hi", "谢谢！"))["Content"] == texts.THANKS_REPLY
    assert (await say(hook, "o_hi", "更多"))["Content"] == texts.NO_MORE


async def test_a_news_list_is_answered_by_number_and_shows_other_years(env):
    services, hook, clock = env
    listing = (await say(hook, "o_reader", "新闻"))["Content"]
    lines = listing.splitlines()
    assert lines[1] == '1. <a href="https://www.example.org/news/a.html">总会召开年度工作会议</a>（3月1日）'
    assert lines[2] == '2. <a href="https://www.example.org/news/b.html">等级评估培训班开班</a>（2025年12月20日）'
    assert lines[3] == '3. <a href="https://www.example.org/news/c.html">2024年度会员大会回顾</a>（2024年3月1日）'
    assert lines[-1] == "回复序号查看该篇。"

    card = await say(hook, "o_reader", "3")
    assert card["MsgType"] == "news" and card["Articles"]["item"]["Title"] == "2024年度会员大会回顾"
    # A second number after the first choice: the list still answers.
    card = await say(hook, "o_reader", "1")
    assert card["Articles"]["item"]["Title"] == "总会召开年度工作会议"
    assert (await say(hook, "o_reader", "9"))["Content"] == "请回复列表中的序号（1–3）。"

    clock.advance(31 * 60)  # the list expired
    assert (await say(hook, "o_reader", "2"))["Content"] == texts.NUMBER_NO_LIST
    assert (await say(hook, "o_stranger", "2"))["Content"] == texts.NUMBER_NO_LIST  # never had a list
