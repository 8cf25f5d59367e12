"""Chinese full-text search on SQLite and PostgreSQL: 2-character and longer terms, title hits
before body hits, newer before older, and the index kept in step with re-imports."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from core.clock import FakeClock
from store.content.extract import Extracted, make_digest
from store.content.importer import Importer
from store.content.search import latest, search, search_hits
from store.content.terms import index_terms, query_terms
from store.db import make_engine, make_session_factory
from store.migrate import upgrade
from store.models.content import ArticleTerm

ARTICLES = [
    # (slug, title, date, body)
    ("a", "社会组织等级评估工作启动", date(2024, 3, 1), "今年的评估工作分三个阶段进行。"),
    ("b", "年会筹备会召开", date(2024, 5, 1), "会议研究了社会组织等级评估工作的材料准备。"),
    ("c", "公益培训走进社区", date(2024, 6, 1), "培训内容包括财务管理和信息公开。"),
    ("d", "等级评估专家库更新", date(2023, 1, 9), "新增评估专家二十名。"),
    ("e", "关于年度报告的通知", None, "请各单位按时报送年度报告，评估结果将同步公开。"),
    ("f", "5A级社会组织名单公布", date(2024, 7, 1), "共有 207 家社会组织获评 5A 级，WeChat 公众号同步发布。"),
]


@pytest.fixture
async def db(db_url, make_settings):
    await upgrade(db_url)
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    settings = make_settings(database={"url": db_url})
    importer = Importer(settings, factory, FakeClock(), http=None)
    for slug, title, when, body in ARTICLES:
        await importer.save(Extracted(
            url=f"https://www.example.org/news/{slug}.html", title=title, published_at=when, source_name="",
            author="", body_html=f"<p>{body}</p>", body_text=body, digest=make_digest(body),
        ))  # fmt: skip
    yield factory, importer
    await engine.dispose()


def slugs(articles) -> list[str]:
    return [a.source_url.rsplit("/", 1)[-1].removesuffix(".html") for a in articles]


def test_terms():
    assert index_terms("等级评估 5A级") == {"等", "级", "评", "估", "等级", "级评", "评估", "5a"}
    assert query_terms("等级评估") == {"等级", "级评", "评估"}
    assert query_terms("评") == {"评"}
    assert query_terms("WeChat") == {"wechat"}


async def test_longer_term_inside_longer_word(db):
    factory, _ = db
    async with factory() as session:
        hits = await search_hits(session, "等级评估", 10)
    # Title hits first (newest first among them), then body hits.
    assert [(s, h.in_title) for s, h in zip(slugs(h.article for h in hits), hits, strict=True)] == [
        ("a", True),
        ("d", True),
        ("b", False),
    ]


async def test_two_character_term_and_ranking(db):
    factory, _ = db
    async with factory() as session:
        assert slugs(await search(session, "评估", 10)) == ["a", "d", "b", "e"]
        assert slugs(await search(session, "培训", 10)) == ["c"]
        assert slugs(await search(session, "评估", 2)) == ["a", "d"]


async def test_three_characters_words_latin_and_misses(db):
    factory, _ = db
    async with factory() as session:
        assert slugs(await search(session, "社会组织", 10)) == ["f", "a", "b"]
        assert slugs(await search(session, "筹备会", 10)) == ["b"]
        assert slugs(await search(session, "评估 材料", 10)) == ["b"]  # every word must occur
        assert slugs(await search(session, "5A", 10)) == ["f"]
        assert slugs(await search(session, "wechat", 10)) == ["f"]
        assert slugs(await search(session, "年", 10)) == ["b", "e", "a"]  # one character: unigrams
        assert await search(session, "估评", 10) == []  # both characters present, never adjacent
        assert await search(session, "量子计算", 10) == []
        assert await search(session, "  ，。 ", 10) == []
        assert await search(session, "100%_", 10) == []
        # Confirmed in the database for words without letters: LIKE's wildcards are only characters there.
        assert await search(session, "207%", 10) == [] and await search(session, "获评_5a", 10) == []
        assert slugs(await search(session, "207 获评", 10)) == ["f"]


async def test_reimport_reindexes_changed_article(db):
    factory, importer = db
    x = Extracted(
        url="https://www.example.org/news/c.html",
        title="公益培训走进社区",
        published_at=date(2024, 6, 1),
        source_name="",
        author="",
        body_html="<p>志愿服务</p>",
        body_text="志愿服务",
        digest="",
    )
    assert (await importer.save(x))[0] == "updated"
    async with factory() as session:
        assert slugs(await search(session, "志愿", 10)) == ["c"]
        assert await search(session, "财务", 10) == []
        n = (await session.execute(select(func.count()).select_from(ArticleTerm))).scalar()
    assert (await importer.save(x))[0] == "unchanged"
    async with factory() as session:
        assert (await session.execute(select(func.count()).select_from(ArticleTerm))).scalar() == n


async def test_latest(db):
    factory, _ = db
    async with factory() as session:
        assert slugs(await latest(session, 3)) == ["f", "c", "b"]
        assert slugs(await latest(session, 10))[-1] == "e"  # undated last
