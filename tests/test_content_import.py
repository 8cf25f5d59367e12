"""Importing the news from a small local website (tests/content_site.py) and from saved files."""

from __future__ import annotations

import hashlib
from datetime import date

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from core.clock import FakeClock
from store.content.extract import parse_date, parse_page
from store.content.importer import Importer
from store.content.search import search
from store.content.terms import article_terms
from store.content.texts import import_summary
from store.db import make_engine, make_session_factory
from store.models.content import Article, ArticleImage, ArticleTerm, Image
from tests.content_site import HITS, STORIES, Story, make_png, make_site_app, page_a, page_b

CHROME = [
    "登录",
    "注册",
    "返回首页",
    "扫二维码",
    "人阅读",
    "您当前的位置",
    "分享到",
    "打印本页",
    "alert",
    "广告",
]


@pytest.fixture
async def site():
    server = TestServer(make_site_app(slow_seconds=1.0), host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def store(migrated, make_settings):
    settings = make_settings(
        database={"url": migrated},
        content={"fetch_delay_seconds": 0, "fetch_timeout_seconds": 0.5, "fetch_concurrency": 4},
    )
    engine = make_engine(migrated)
    db = make_session_factory(engine)
    async with aiohttp.ClientSession() as http:
        yield settings, db, http
    await engine.dispose()


def test_chinese_dates():
    assert parse_date("2024-03-14  人阅读") == date(2024, 3, 14)
    assert parse_date("发布时间：2024年3月4日 来源") == date(2024, 3, 4)
    assert parse_date("2024/3/14") == date(2024, 3, 14)
    assert parse_date("2024.03.14") == date(2024, 3, 14)
    assert parse_date("2024年13月40日") is None
    assert parse_date("第2024期") is None


async def test_listing_import_then_unchanged(site, store):
    settings, db, http = store
    base = str(site.make_url("/news/"))
    report = await Importer(settings, db, FakeClock(), http).run(base)

    assert sorted(report.added) == sorted(str(site.make_url(f"/news/{s.slug}.html")) for s in STORIES)
    failed = dict(report.failed)
    assert set(failed) == {
        str(site.make_url(p)) for p in ("/news/gone.html", "/news/slow.html", "/news/report.pdf")
    }
    assert "404" in failed[str(site.make_url("/news/gone.html"))]
    assert "秒内没有回应" in failed[str(site.make_url("/news/slow.html"))]
    assert "不是网页（application/pdf）" in failed[str(site.make_url("/news/report.pdf"))]
    assert report.image_failures == []
    assert "新增 6 篇，更新 0 篇，未变 0 篇，失败 3 篇" in import_summary(report)

    async with db() as session:
        articles = {a.source_url: a for a in (await session.execute(select(Article))).scalars()}
        images = (await session.execute(select(Image))).scalars().all()
        links = (await session.execute(select(func.count()).select_from(ArticleImage))).scalar()
    assert len(articles) == 6 and len(images) == 6 and links == 6  # the QR code was not taken
    for s in STORIES:
        a = articles[str(site.make_url(f"/news/{s.slug}.html"))]
        assert a.title == s.title
        assert a.published_at == parse_date(s.date)
        assert a.source_name == s.source
        assert a.status == "imported"
        for paragraph in s.paragraphs:
            assert paragraph in a.body_text
        for word in CHROME:
            assert word not in a.body_html and word not in a.body_text, (s.slug, word)
        assert "来源" not in a.body_text and s.title not in a.body_text
        assert a.body_html.count("<img") == 1 and "data-sha256" in a.body_html
        assert a.cover_image_id is not None and len(a.digest) <= 128
        if s.layout == "B":
            assert a.author == "记者甲" and a.tags == []
        else:
            assert a.tags == ["新闻动态"]
    # Images are content-addressed files under media_dir, with their resolved original URLs.
    media = settings.path(settings.content.media_dir)
    for img in images:
        assert (media / img.path).read_bytes()[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0")
        assert img.path.endswith(f"{img.sha256}.{'png' if img.mime == 'image/png' else 'jpg'}")
        assert img.original_url.startswith(str(site.make_url("/uploads/")))
        assert img.width > 0 and img.height > 0

    before = {url: (a.updated_at, a.id) for url, a in articles.items()}
    again = await Importer(settings, db, FakeClock(), http).run(base)
    assert len(again.unchanged) == 6 and not again.added and not again.updated
    assert "新增 0 篇，更新 0 篇，未变 6 篇，失败 3 篇" in import_summary(again)
    async with db() as session:
        after = {
            a.source_url: (a.updated_at, a.id) for a in (await session.execute(select(Article))).scalars()
        }
    assert after == before
    # The unchanged articles' images were not downloaded again.
    assert site.app[HITS]["/uploads/2024/03/a1.png"] == 1


async def test_changed_page_updates_in_place(site, store, tmp_path):
    settings, db, http = store
    s = STORIES[0]
    page = tmp_path / "n101.html"
    page.write_text(page_a(s).replace(f"..{s.image}", "http://127.0.0.1:1/none.png"), encoding="utf-8")
    importer = Importer(settings, db, FakeClock(), http)
    first = await importer.run(str(page))
    assert len(first.added) == 1
    assert len(first.image_failures) == 1  # the image host is down: article kept, image reported
    async with db() as session, session.begin():
        article = (await session.execute(select(Article))).scalar_one()
        article.status = "published"
        article.wechat_url = "https://mp.weixin.qq.com/s/abc"
    page.write_text(page_a(s).replace(s.paragraphs[1], "会议还部署了下一阶段的重点工作。"), encoding="utf-8")
    second = await Importer(settings, db, FakeClock(), http).run(str(tmp_path))
    assert len(second.updated) == 1
    async with db() as session:
        updated = (await session.execute(select(Article))).scalar_one()
    assert updated.id == article.id and updated.status == "published"
    assert updated.wechat_url == "https://mp.weixin.qq.com/s/abc"
    assert "下一阶段的重点工作" in updated.body_text
    assert updated.source_url == page.resolve().as_uri()


async def test_single_article_url_and_gbk_page(site, store):
    settings, db, http = store
    url = str(site.make_url("/news/n102.html"))
    report = await Importer(settings, db, FakeClock(), http).run(url)
    assert report.added == [url]
    async with db() as session:
        a = (await session.execute(select(Article))).scalar_one()
    assert a.title == STORIES[1].title and a.source_name == "浙江日报"
    assert "onclick" not in a.body_html and "<p>" in a.body_html  # <br> lines became paragraphs


async def test_since_skips_older_articles(site, store):
    settings, db, http = store
    report = await Importer(settings, db, FakeClock(), http).run(
        str(site.make_url("/news/")), since=date(2024, 4, 10)
    )
    assert sorted(report.added) == sorted(str(site.make_url(f"/news/{s.slug}.html")) for s in STORIES[3:])
    assert not report.failed  # the broken, slow and PDF links are dated before --since
    assert len(report.skipped) == 6


def test_site_selectors_override(make_settings):
    from core.config import SourceSettings

    html = (
        page_a(STORIES[0])
        .replace("<h1>", "<h1 class='x'>")
        .replace('<div class="info">', '<div class="info"><span class="src">发布单位：秘书处</span>')
    )
    site = SourceSettings(
        name="s", title="div.location", source="span.src", body="div.content", drop=["p:last-child"]
    )
    x = parse_page(html, "http://127.0.0.1/news/a.html", site)
    assert x.title.startswith("您当前的位置")  # the selector wins over the guess
    assert x.source_name == "发布单位：秘书处"
    assert STORIES[0].paragraphs[0] in x.body_text


SEED_LIKE = """<html><head><title>总会 为社会组织高质量发展搭建平台</title></head><body>
<div class="top"><a href="/login">登录</a> | <a href="/reg">注册</a></div>
<div class="crumb">您当前的位置:<a href="/">首页</a>  /  <a href="/news/">新闻动态</a></div>
<div class="col"><h2>新闻动态</h2></div>
<div class="detail"><h3>总会 为社会组织高质量发展搭建平台</h3><div>2024-03-14 &nbsp;&nbsp; 人阅读</div>
<div class="con"><p>总会牢牢锚定高质量发展目标，在推动等级评估、培育专业人才等方面系统谋划、扎实推进。</p>
<p><strong>坚持党建引领  当好红色堡垒的“擎旗手”</strong></p><p><img src="/u/11.jpg"></p>
<p>2023年12月7日,在总会指导下,某协会举办了健步走活动。</p>
<p>严格执行制度——认真落实学习制度，把学习融入日常、抓在经常，推动制度化、常态化。</p>
<p><img src="../u/22.jpg"></p><p>2023年,总会第三次被评为5A级社会组织。</p>
<p>(作者系总会监事长)</p><p>来源:中国社会报</p></div></div>
<div class="foot"><a href="/">返回首页</a><span>扫二维码</span><a>会员登录</a><a>会员注册</a></div>
</body></html>"""


def test_seed_like_page_without_configuration():
    """Shaped like the federation's real article pages: breadcrumb, column heading, h3 title,
    "2024-03-14  人阅读", images with captions, 来源 at the end, chrome around."""
    x = parse_page(SEED_LIKE, "http://127.0.0.1/news/2024/1.html")
    assert x.title == "总会 为社会组织高质量发展搭建平台"
    assert x.published_at == date(2024, 3, 14) and x.source_name == "中国社会报"
    assert x.images == ["http://127.0.0.1/u/11.jpg", "http://127.0.0.1/news/u/22.jpg"]
    assert (
        "等级评估" in x.body_text and "2023年12月7日" in x.body_text and "(作者系总会监事长)" in x.body_text
    )
    for word in CHROME:
        assert word not in x.body_html
    assert x.author == "" and x.tags == ["新闻动态"]


def test_page_b_bytes_are_decoded_from_meta_charset():
    x = parse_page(page_b(STORIES[3]), "http://127.0.0.1/news/n104.html")
    assert x.title == STORIES[3].title and x.published_at == date(2024, 4, 18) and x.author == "记者甲"


def test_column_heading_is_not_the_title():
    html = """<html><head><title>站点</title></head><body><div class="menu"><a href="/n/">新闻动态</a></div>
    <div class="side"><h3>新闻动态</h3></div><div><h1><a href="/n/1.html">总会召开年会筹备会议</a></h1><p>2024-01-02</p>
    <div class="c"><p>总会召开年会筹备会议，研究部署年会各项筹备工作，会议由秘书长主持，各部门负责人参加。</p></div></div>
    </body></html>"""
    x = parse_page(html, "http://127.0.0.1/n/1.html")
    assert x.title == "总会召开年会筹备会议" and x.published_at == date(2024, 1, 2)
    assert x.body_text.startswith("总会召开年会筹备会议，研究部署")


def test_listing_selectors_override():
    from core.config import SourceSettings
    from store.content.extract import Listing
    from tests.content_site import listing

    html = listing(1).replace(
        '<div class="pager">', '<div class="pager"><a class="go" href="list_9.html">9</a>'
    )
    site = SourceSettings(name="s", listing_item="ul.newslist li:nth-child(-n+2)", next_page="a.go")
    x = parse_page(html, "http://127.0.0.1/news/", site)
    assert isinstance(x, Listing)
    assert [u for u, _ in x.items] == ["http://127.0.0.1/news/n106.html", "http://127.0.0.1/news/n105.html"]
    assert x.items[0][1] == date(2024, 5, 20) and x.next_url == "http://127.0.0.1/news/list_9.html"


async def test_folder_with_local_images(store, tmp_path):
    settings, db, http = store
    site = tmp_path / "saved"
    (site / "img").mkdir(parents=True)
    (site / "img" / "a.png").write_bytes(make_png(5))
    (site / "a.html").write_text(
        page_a(STORIES[0]).replace(f"..{STORIES[0].image}", "img/a.png"), encoding="utf-8"
    )
    (site / "b.htm").write_bytes(page_b(STORIES[1]).replace(STORIES[1].image.encode(), b"img/missing.jpg"))
    (site / "notes.txt").write_text("not a page", encoding="utf-8")
    report = await Importer(settings, db, FakeClock(), http).run(str(site))
    assert len(report.added) == 2 and not report.failed
    assert [url.rsplit("/", 1)[-1] for url, _ in report.image_failures] == ["missing.jpg"]
    async with db() as session:
        images = (await session.execute(select(Image))).scalars().all()
    assert len(images) == 1 and images[0].original_url == "" and images[0].mime == "image/png"


async def test_reimport_rebuilds_an_updated_articles_postings_and_images(store, tmp_path):
    """One run that updates one page, adds another and leaves a third alone: the updated article's
    old search terms and image links are gone and its new ones are in, the added one has its own,
    the unchanged one's are as they were."""
    settings, db, http = store
    site = tmp_path / "saved"
    (site / "img").mkdir(parents=True)
    for i, name in enumerate(("a", "a2", "b", "c")):
        (site / "img" / f"{name}.png").write_bytes(make_png(i + 1))

    def story(slug: str, title: str, words: str, image: str) -> str:
        return page_a(Story(slug, title, "2024-03-14", "中国社会报",
                            [f"本次活动围绕{words}展开，各单位会员积极参加。", "会议对下一步工作作出部署。"],
                            image, "A")).replace(f"..{image}", image)  # fmt: skip

    (site / "a.html").write_text(story("a", "甲单位工作会议召开", "湿地保护", "img/a.png"), encoding="utf-8")
    (site / "b.html").write_text(story("b", "乙单位工作会议召开", "非遗传承", "img/b.png"), encoding="utf-8")
    first = await Importer(settings, db, FakeClock(), http).run(str(site))
    assert len(first.added) == 2 and not first.image_failures

    async def state() -> dict[str, tuple[list[str], list[str], list[str], int]]:
        """title → (articles found for each probe word, its image files in order, its postings)."""
        async with db() as session:
            found = {w: [a.title for a in await search(session, w, 10)] for w in ("湿地", "航天", "非遗", "古籍")}
            out = {}
            for a in (await session.execute(select(Article))).scalars():
                files = (await session.execute(
                    select(Image.path).join(ArticleImage, ArticleImage.image_id == Image.id)
                    .where(ArticleImage.article_id == a.id).order_by(ArticleImage.position)
                )).scalars().all()  # fmt: skip
                postings = (await session.execute(
                    select(func.count()).select_from(ArticleTerm).where(ArticleTerm.article_id == a.id)
                )).scalar()  # fmt: skip
                words = sorted(w for w, titles in found.items() if a.title in titles)
                out[a.title] = (words, [f.rsplit("/", 1)[-1].split(".")[0] for f in files], postings)
            return out

    before = await state()
    sha = {name: hashlib.sha256((site / "img" / f"{name}.png").read_bytes()).hexdigest() for name in ("a", "a2", "b", "c")}
    assert {t: v[:2] for t, v in before.items()} == {
        "甲单位工作会议召开": (["湿地"], [sha["a"]]),
        "乙单位工作会议召开": (["非遗"], [sha["b"]]),
    }

    (site / "a.html").write_text(story("a", "甲单位工作会议召开", "航天科普", "img/a2.png"), encoding="utf-8")
    (site / "c.html").write_text(story("c", "丙单位工作会议召开", "古籍修复", "img/c.png"), encoding="utf-8")
    again = await Importer(settings, db, FakeClock(), http).run(str(site))
    assert [[u.rsplit("/", 1)[-1] for u in urls] for urls in (again.added, again.updated, again.unchanged)] == [
        ["c.html"], ["a.html"], ["b.html"]
    ]
    after = await state()
    assert {t: v[:2] for t, v in after.items()} == {
        "甲单位工作会议召开": (["航天"], [sha["a2"]]),
        "乙单位工作会议召开": (["非遗"], [sha["b"]]),
        "丙单位工作会议召开": (["古籍"], [sha["c"]]),
    }
    assert after["乙单位工作会议召开"][2] == before["乙单位工作会议召开"][2]
    async with db() as session:
        for a in (await session.execute(select(Article))).scalars():
            in_title, in_all = article_terms(a.title, a.body_text)
            assert after[a.title][2] == len(in_title) + len(in_all), a.title  # no stale posting left
