"""The article operations the console uses: list and search with filters (status, column, source,
date), the WeChat title counted as WeChat counts it, the cover chosen among the article's images;
an import of a local site run in the background with its progress and per-URL failure report, and
an uploaded HTML page imported."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from app import open_services
from core.clock import FakeClock
from store.content.articles import (
    ArticleFilter,
    article_with_images,
    edit_article,
    facets,
    find_articles,
    set_cover,
    title_length,
    too_long,
)
from store.content.demo import load_demo
from store.content.imports import ImportJobs, stage_html
from store.shared import MemoryState
from tests.content_site import STORIES, make_site_app, page_a


@pytest.fixture
async def services(migrated, make_settings):
    clock = FakeClock()
    settings = make_settings(database={"url": migrated}, content={"fetch_delay_seconds": 0, "fetch_timeout_seconds": 0.5})
    async with open_services(settings, clock, shared=MemoryState(clock)) as s:
        yield s


def test_the_wechat_title_is_counted_in_characters_as_wechat_counts():
    title = "省社会组织总会召开2024年度等级评估工作推进会暨第六届会员大会筹备会议"
    assert title_length(title) == 36 and title_length("  年会  ") == 2
    [problem] = too_long(wechat_title=title)
    assert (problem.field, problem.length, problem.limit) == ("wechat_title", 36, 32)
    assert too_long(wechat_title="年" * 32) == []


async def test_filters_select_by_status_column_source_and_date(services):
    assert await load_demo(services) > 3
    everything = await find_articles(services.db, ArticleFilter(), limit=100)
    assert everything.total == len(everything.articles) > 3
    dates = [a.published_at for a in everything.articles]
    assert dates == sorted(dates, reverse=True)

    columns, sources = await facets(services.db)
    assert sources and everything.articles[0].source_name in sources
    first = everything.articles[0]
    await edit_article(services.db, first.id, services.clock.now(), tags="年会专题,通知")
    columns, _ = await facets(services.db)
    assert "年会专题" in columns
    tagged = await find_articles(services.db, ArticleFilter(column="年会专题"))
    assert [a.id for a in tagged.articles] == [first.id] and tagged.total == 1
    by_source = await find_articles(services.db, ArticleFilter(source=first.source_name), limit=100)
    assert by_source.total >= 1 and all(a.source_name == first.source_name for a in by_source.articles)
    day = first.published_at
    on_day = await find_articles(services.db, ArticleFilter(since=day, until=day), limit=100)
    assert first.id in [a.id for a in on_day.articles] and all(a.published_at == day for a in on_day.articles)
    assert (await find_articles(services.db, ArticleFilter(status="withdrawn"))).total == 0

    found = await find_articles(services.db, ArticleFilter(query="评估"), limit=100)
    bodies = {a.id: (await article_with_images(services.db, a.id))[0].body_text for a in found.articles}  # a list has none
    assert found.total >= 1 and all("评估" in a.title or "评估" in bodies[a.id] for a in found.articles)
    assert found.in_body == {a.id for a in found.articles if "评估" not in a.title}
    narrowed = await find_articles(services.db, ArticleFilter(query="评估", since=date(2099, 1, 1)))
    assert narrowed.total == 0 and narrowed.articles == [] and narrowed.counted and not narrowed.more


async def test_a_search_pages_its_filtered_hits_and_counts_no_further_than_it_shows(services, monkeypatch):
    from store.content import articles as articles_module

    await load_demo(services)
    every = await find_articles(services.db, ArticleFilter(query="会"), limit=100)
    assert every.counted and not every.more and every.total == len(every.articles) >= 3
    first, second = await find_articles(services.db, ArticleFilter(query="会"), 0, 1), \
        await find_articles(services.db, ArticleFilter(query="会"), 1, 1)
    assert [a.id for a in first.articles + second.articles] == [a.id for a in every.articles[:2]]
    assert first.more and not first.counted and first.total == 1  # shown as 超过 1 篇
    tagged = every.articles[-1]  # the filter is met by the last hit alone: the walk goes on to find it
    await edit_article(services.db, tagged.id, services.clock.now(), tags="年会专题")
    only = await find_articles(services.db, ArticleFilter(query="会", column="年会专题"), limit=1)
    assert [a.id for a in only.articles] == [tagged.id] and only.counted and only.total == 1
    every_listed = [a.id for a in (await find_articles(services.db, ArticleFilter(), limit=100)).articles]
    monkeypatch.setattr(articles_module, "COUNT_UP_TO", 2)
    listed = await find_articles(services.db, ArticleFilter(), limit=1)
    assert (listed.total, listed.counted, listed.more) == (2, False, True)
    beyond = await find_articles(services.db, ArticleFilter(), offset=2, limit=1)  # paging goes past the count
    assert [a.id for a in beyond.articles] == every_listed[2:3] and beyond.more == (len(every_listed) > 3)


async def test_the_cover_is_one_of_the_articles_images(services):
    await load_demo(services)
    page = await find_articles(services.db, ArticleFilter(), limit=2)
    a, b = page.articles
    _, images_a = await article_with_images(services.db, a.id)
    _, images_b = await article_with_images(services.db, b.id)
    assert images_a and images_b
    assert (await set_cover(services.db, a.id, images_a[0].id, services.clock.now())).cover_image_id == images_a[0].id
    with pytest.raises(ValueError):
        await set_cover(services.db, a.id, images_b[0].id, services.clock.now())
    assert (await set_cover(services.db, a.id, None, services.clock.now())).cover_image_id is None
    assert await set_cover(services.db, 999_999, None, services.clock.now()) is None


async def test_an_import_runs_in_the_background_with_progress_and_a_failure_report(services):
    server = TestServer(make_site_app(slow_seconds=2.0), host="127.0.0.1")
    await server.start_server()
    seen = []
    try:
        jobs = ImportJobs(services.settings, services.db, services.clock)
        job = jobs.start(str(server.make_url("/news/")), by="editor-li", pages=1)
        while not job.done:
            seen.append((job.progress.pages_done, job.progress.pages_total))
            await asyncio.sleep(0.05)
    finally:
        await server.close()
    assert job.error is None and job.progress.finished and jobs.recent() == [job]
    assert job.progress.pages_done == job.progress.pages_total == 5 and job.progress.listing_pages == 1
    assert any(done < 5 for done, _ in seen)  # it was watched while it ran
    report = job.report
    assert (len(report.added), len(report.failed)) == (3, 2)
    assert sorted(url.rsplit("/", 1)[-1] for url, _ in report.failed) == ["gone.html", "slow.html"]
    assert any("HTTP 404" in reason for _, reason in report.failed)


async def test_an_unknown_source_is_said_and_an_uploaded_page_is_imported(services, tmp_path):
    jobs = ImportJobs(services.settings, services.db, services.clock)
    bad = jobs.start("http://127.0.0.1:9/", by="editor-li", source="没有的来源")
    await bad.task
    assert bad.error == "配置中没有名为“没有的来源”的 [[sources]]（已有：无）"

    path = stage_html(tmp_path / "uploads", page_a(STORIES[0]).encode(), "n101.html")
    job = jobs.start(str(path), by="editor-li", shown="n101.html")
    await job.task
    assert job.target == "n101.html" and len(job.report.added) == 1 and job.report.failed == []
    found = await find_articles(services.db, ArticleFilter(query="等级评估"))
    assert STORIES[0].title in [a.title for a in found.articles]
    with pytest.raises(ValueError, match=".html"):
        stage_html(tmp_path, b"x", "a.pdf")
    assert isinstance(path, Path) and path.read_bytes().startswith(b"<")
