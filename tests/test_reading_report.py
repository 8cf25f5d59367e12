"""The reading report (store/reading/report.py): a year's articles, reads, means, top articles and
follower growth; the federation's sentence ("年均推文N篇，阅读量超M万", its comma full-width as a reader
sees it) for one year and as the yearly mean over several; the xlsx with Chinese headers; a push's
articles linked to their figures."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from cli.reading import text
from store.db import make_engine, make_session_factory
from store.models.content import Article
from store.models.pushes import Push, PushArticle
from store.models.reading import ArticleDay, FollowerDay, FollowerSource, ReadArticle
from store.reading import records, tables, texts
from store.reading.report import push_figures, reading_report

# The federation's news page as we hold it (NFKC-normalised: its comma came out ASCII).
SEED = "“浙江省社会组织总会”微信公众号年均推文1500篇,阅读量超62万。"


@pytest.fixture
async def open_db():
    """A session factory on a database URL; its engine disposed after the test (an engine left to the
    garbage collector closes its aiosqlite connection on a loop that is gone, in a later test)."""
    engines = []

    def open_(url: str):
        engines.append(make_engine(url))
        return make_session_factory(engines[-1])

    yield open_
    for engine in engines:
        await engine.dispose()


async def fill(db, year: int, articles: int, reads_each: int, days: int = 3, prefix: str = "") -> None:
    """`articles` articles sent in `year`, each read `reads_each` times over `days` days."""
    async with db.begin() as s:
        art, day_rows = [], []
        for n in range(articles):
            sent = date(year, 1, 1) + timedelta(days=n % 360)
            msgid = f"{prefix}{year}{n:05d}_1"
            art.append({"msgid": msgid, "msg_data_id": msgid[:-2], "idx": 1, "sent_on": sent,
                        "title": f"{year}年第{n}篇", "content_url": "", "notified": True})
            share = [reads_each // days] * days
            share[0] += reads_each - sum(share)
            day_rows += [{"msgid": msgid, "ref_date": sent + timedelta(days=k), "read_user": r, "share_user": 1,
                          "fav_user": 0} for k, r in enumerate(share)]
        await records.upsert(s, ReadArticle, art)
        await records.upsert(s, ArticleDay, day_rows)


async def test_the_seed_sentence_from_a_year_of_figures_and_the_mean_over_several(migrated, open_db):
    db = open_db(migrated)
    await fill(db, 2026, 1500, 414)  # 621,000 reads
    r = await reading_report(db, 2026)
    assert (r.years[0].articles, r.years[0].reads) == (1500, 621_000)
    sentence = texts.headline(r, "浙江省社会组织总会")
    assert unicodedata.normalize("NFKC", sentence) == SEED
    assert "，" in sentence and "," not in sentence  # a phone shows the Chinese comma, like the registry's
    assert r.years[0].mean_reads == 414.0
    await fill(db, 2024, 1000, 300)  # 300,000
    await fill(db, 2025, 1300, 500)  # 650,000
    several = await reading_report(db, 2026, since=2024)
    assert [y.articles for y in several.years] == [1000, 1300, 1500]
    # the yearly mean: (1000 + 1300 + 1500) / 3 = 1266.7 → 1267; (300,000 + 650,000 + 621,000) / 3 = 523,666
    assert texts.headline(several) == "年均推文1267篇，阅读量超52万。"
    assert texts.headline(await reading_report(db, 2024)) == "年均推文1000篇，阅读量超30万。"
    small = open_db(migrated.replace("test.db", "small.db"))
    from store.migrate import upgrade
    await upgrade(migrated.replace("test.db", "small.db"))
    await fill(small, 2026, 12, 100)
    assert texts.headline(await reading_report(small, 2026)) == "年均推文12篇，阅读量1200。"


async def test_top_articles_follower_growth_and_the_printed_report(migrated, open_db):
    db = open_db(migrated)
    await fill(db, 2026, 5, 100)
    await fill(db, 2026, 2, 900, prefix="9")
    async with db.begin() as s:
        await records.upsert(s, FollowerDay, [{"ref_date": date(2025, 12, 31), "cumulate_user": 1000},
                                              {"ref_date": date(2026, 3, 1), "cumulate_user": 1040}])
        await records.upsert(s, FollowerSource, [
            {"ref_date": date(2026, 1, 5), "user_source": 30, "new_user": 50, "cancel_user": 4},
            {"ref_date": date(2026, 2, 5), "user_source": 0, "new_user": 3, "cancel_user": 9}])
    r = await reading_report(db, 2026, top=3)
    y = r.years[0]
    assert (y.articles, y.reads, y.shares, y.followers_before, y.followers_after) == (7, 2300, 21, 1000, 1040)
    assert (y.new_followers, y.cancelled, y.growth) == (53, 13, 40)
    assert [a.reads for a in r.top] == [900, 900, 100] and r.top[0].title == "2026年第0篇"
    printed = text(r, "测试公众号")
    assert printed.splitlines()[1] == "“测试公众号”微信公众号年均推文7篇，阅读量2300。"
    assert "2026 年：发文 7 篇，阅读 2300 次" in printed and "粉丝 1000 → 1040（新增 53，取消 13，净增 40）" in printed


async def test_the_xlsx_opens_with_chinese_headers(migrated, open_db, tmp_path):
    db = open_db(migrated)
    await fill(db, 2026, 3, 50)
    path = tmp_path / "reading.xlsx"
    tables.write_xlsx(path, await reading_report(db, 2026), "测试公众号")
    wb = load_workbook(path)
    assert wb.sheetnames == ["按年", "阅读最多的文章"]
    years = [list(r) for r in wb["按年"].iter_rows(values_only=True)]
    assert years[0][:2] == ["开头一句", "“测试公众号”微信公众号年均推文3篇，阅读量150。"]
    assert years[2][:4] == ["年份", "发文篇数", "阅读（人次）", "篇均阅读"] and years[3][:3] == [2026, 3, 150]
    top = [list(r) for r in wb["阅读最多的文章"].iter_rows(values_only=True)]
    assert top[0][:4] == ["名次", "标题", "发出日期", "阅读（人次）"] and top[1][3] == 50


async def test_a_push_s_articles_are_linked_to_their_figures(migrated, open_db):
    db = open_db(migrated)
    now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    async with db.begin() as s:
        arts = [Article(title=f"文章{i}", author="秘书处", source_url=f"https://example.org/{i}", body_html="<p>x</p>",
                        body_text="x", digest="", tags=[], status="ready", content_hash=f"h{i}") for i in range(3)]
        s.add_all(arts)
        await s.flush()
        broadcast = Push(kind="broadcast", planned_at=now, msg_data_id="2247", state="sent")
        publish = Push(kind="publish", planned_at=now, state="published")
        s.add_all([broadcast, publish])
        await s.flush()
        s.add_all([PushArticle(push_id=broadcast.id, article_id=arts[0].id, position=0),
                   PushArticle(push_id=broadcast.id, article_id=arts[1].id, position=1),
                   PushArticle(push_id=publish.id, article_id=arts[2].id, position=0, url="https://mp.example/s/p")])
        ids = (broadcast.id, publish.id, [a.id for a in arts])
    async with db.begin() as s:
        await records.upsert(s, ReadArticle, [
            {"msgid": "2247_1", "msg_data_id": "2247", "idx": 1, "sent_on": now.date(), "title": "文章0",
             "content_url": "", "notified": True},
            {"msgid": "2247_2", "msg_data_id": "2247", "idx": 2, "sent_on": now.date(), "title": "文章1",
             "content_url": "", "notified": True},
            {"msgid": "3001_1", "msg_data_id": "3001", "idx": 1, "sent_on": now.date(), "title": "文章2",
             "content_url": "https://mp.example/s/p", "notified": False}])
        await records.upsert(s, ArticleDay, [{"msgid": "2247_2", "ref_date": now.date(), "read_user": 70},
                                             {"msgid": "2247_1", "ref_date": now.date(), "read_user": 300}])
        assert await records.link_pushes(s) == 3
        assert await records.link_pushes(s) == 0
    figures = await push_figures(db, ids[0])
    assert [(a.msgid, a.article_id, a.reads) for a in figures] == [("2247_1", ids[2][0], 300),
                                                                   ("2247_2", ids[2][1], 70)]
    assert [(a.msgid, a.article_id, a.reads) for a in await push_figures(db, ids[1])] == [
        ("3001_1", ids[2][2], 0)]


async def test_followers_over_time_for_a_chart(migrated, open_db):
    from store.reading.report import FollowerPoint, follower_series

    db = open_db(migrated)
    async with db.begin() as s:
        await records.upsert(s, FollowerDay, [{"ref_date": date(2026, 1, d), "cumulate_user": 100 + d} for d in (1, 2)])
        await records.upsert(s, FollowerSource, [
            {"ref_date": date(2026, 1, 2), "user_source": 0, "new_user": 2, "cancel_user": 1},
            {"ref_date": date(2026, 1, 2), "user_source": 30, "new_user": 3, "cancel_user": 0}])
    assert await follower_series(db, date(2026, 1, 1), date(2026, 1, 31)) == [
        FollowerPoint(date(2026, 1, 1), 101, 0, 0), FollowerPoint(date(2026, 1, 2), 102, 5, 1)]
