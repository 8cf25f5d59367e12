"""Sources that import on their own (scheduler/sources.py): a polled source imports a new article
within one poll interval, once; an unchanged site costs one conditional request per poll; queue mode
joins or starts a push that waits for an editor's approval; failures back off and tell the editors;
one process polls a source at a time; `news sources` shows the runs."""

from __future__ import annotations

import asyncio
from argparse import Namespace
from collections import Counter
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from cli import news
from core.clock import FakeClock
from core.config import ConfigError
from scheduler import sources
from scheduler.service import start_scheduler
from store.models.content import Article
from store.models.pushes import Notification, Push
from store.models.sources import SourceRun, SourceState
from tests.content_site import CHROME_A_HEAD, CHROME_FOOT, Story, make_png, page_a
from tests.scheduler_support import EDITOR, bot_env


def story(n: int) -> Story:
    return Story(f"s{n}", f"总会第{n}期工作简报发布会议召开", f"2024-06-{n:02d}", "总会秘书处",
                 [f"第{n}期简报介绍了总会近期围绕等级评估、会员服务和公益项目开展的各项工作，内容翔实。",
                  "与会代表就下一阶段的重点工作进行了讨论，并提出了意见和建议。"], f"/uploads/s{n}.png", "A")


class PollSite:
    """A column whose listing answers conditional requests (ETag, Last-Modified) with 304."""

    def __init__(self) -> None:
        self.stories = [story(1), story(2)]
        self.hits: Counter[str] = Counter()
        self.not_modified = 0
        self.failing = False
        self.delay = 0.0

    def add(self, n: int) -> str:
        self.stories.append(story(n))
        return f"/news/s{n}.html"

    def app(self) -> web.Application:
        async def handle(request: web.Request) -> web.StreamResponse:
            path = request.path
            self.hits[path] += 1
            if path == "/news/":
                await asyncio.sleep(self.delay)
                if self.failing:
                    raise web.HTTPInternalServerError()
                etag = f'"v{len(self.stories)}"'
                modified = f"Sat, 01 Jun 2024 08:{len(self.stories):02d}:00 GMT"
                if request.headers.get("If-None-Match") == etag:
                    self.not_modified += 1
                    return web.Response(status=304, headers={"ETag": etag})
                rows = "".join(f'<li><a href="{s.slug}.html">{s.title}</a><span>{s.date}</span></li>'
                               for s in reversed(self.stories))
                html = (f"<html><head><meta charset='utf-8'><title>新闻动态</title></head><body>{CHROME_A_HEAD}"
                        f"<ul class='newslist'>{rows}</ul>{CHROME_FOOT}</body></html>")
                return web.Response(text=html, content_type="text/html",
                                    headers={"ETag": etag, "Last-Modified": modified})
            if path.startswith("/uploads/"):
                return web.Response(body=make_png(len(path)), content_type="image/png")
            for s in self.stories:
                if path == f"/news/{s.slug}.html":
                    return web.Response(text=page_a(s), content_type="text/html")
            raise web.HTTPNotFound()

        app = web.Application()
        app.router.add_get("/{tail:.*}", handle)
        return app


@pytest.fixture
async def site():
    s = PollSite()
    server = TestServer(s.app(), host="127.0.0.1")
    await server.start_server()
    s.url = str(server.make_url("/news/"))
    yield s
    await server.close()


def source(site: PollSite, **extra) -> dict:
    return {"name": "总会新闻", "url": site.url, "poll": "every 1 min", **extra}


async def count(env, model, *where) -> int:
    async with env.services.db() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


async def runs(env) -> list[SourceRun]:
    async with env.services.db() as s:
        return list((await s.scalars(select(SourceRun).order_by(SourceRun.id))).all())


def test_poll_settings_are_checked(make_settings):
    ok = make_settings(sources=[{"name": "a", "base_url": "http://x/", "poll": "*/30 * * * *", "on_new": "queue"},
                                {"name": "b", "url": "http://x/news/", "poll": "every  30 min"}])
    assert ok.sources[0].poll_seconds is None and ok.sources[1].poll_seconds == 1800
    assert ok.sources[1].poll_url == "http://x/news/"
    for bad in ({"name": "c", "base_url": "http://x/", "poll": "sometimes"},
                {"name": "d", "base_url": "http://x/", "poll": "every 0 min"},
                {"name": "e", "poll": "every 5 min"},
                {"name": "f", "base_url": "http://x/", "poll": "every 5 min", "on_new": "publish"}):
        with pytest.raises(ConfigError, match="sources"):
            make_settings(sources=[bad])


async def test_a_polled_source_imports_a_new_article_once_and_an_unchanged_site_costs_one_request(
        site, sandbox, make_settings):
    sections = dict(sources=[source(site, poll="every 1 s")], content={"fetch_delay_seconds": 0})
    async with bot_env(sandbox, make_settings, webhook=False, **sections) as env:
        handle = await start_scheduler(env.services)
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 10
            while await count(env, Article) < 2:
                assert loop.time() < deadline, "the first poll did not import the column"
                await asyncio.sleep(0.05)
            added_at = loop.time()
            path = site.add(3)
            while await count(env, Article) < 3:
                assert loop.time() < added_at + 10, "the new article was not imported"
                await asyncio.sleep(0.05)
            # Within one poll interval (1 s), with the scheduler's scheduling slack.
            took = loop.time() - added_at
            assert took < 1.6, [(r.started_at.time(), r.finished_at.time(), r.added) for r in await runs(env)]
            before = (site.hits["/news/"], site.not_modified)
            await asyncio.sleep(2.5)
        finally:
            await handle.stop()
        assert await count(env, Article, Article.source_url == site.url + "s3.html") == 1
        assert site.hits[path] == 1  # fetched once, never again
        polls = site.hits["/news/"] - before[0]
        assert polls >= 2 and site.not_modified - before[1] == polls  # every later poll: one 304
        rows = await runs(env)
        quiet = rows[-polls:]
        assert all(r.not_modified and r.requests == 1 and r.found == 0 for r in quiet)
        new = next(r for r in rows if r.added == 1)
        assert (new.found, new.added, new.failed, new.not_modified) == (1, 1, 0, False)
        # 2 articles and their images on the first run; the listing, the page and its image on the second.
        assert new.requests == 3


async def test_queue_mode_joins_or_starts_a_push_that_waits_for_an_editor(site, sandbox, make_settings):
    sections = dict(sources=[source(site, on_new="queue")], content={"fetch_delay_seconds": 0})
    clock = FakeClock()
    async with bot_env(sandbox, make_settings, scheduler={"auto_approve": True}, clock=clock, **sections) as env:
        src = env.settings.sources[0]
        async with aiohttp.ClientSession() as http:
            first = await sources.poll(env.services, src, "test", http)
            assert (first.added, first.queued) == (2, 0)  # the first run takes stock: nothing queued
            assert await count(env, Push) == 0
            assert await count(env, Article, Article.status == "ready") == 2

            site.add(3)
            clock.advance(60)
            run = await sources.poll(env.services, src, "test", http)
            assert (run.found, run.added, run.queued, run.error) == (1, 1, 1, None)
            async with env.services.db() as s:
                (push,) = (await s.scalars(select(Push))).all()
            assert push.compose_key.startswith("import:") and push.state == "planned"

            site.add(4)
            clock.advance(60)
            assert (await sources.poll(env.services, src, "test", http)).queued == 1
            assert await count(env, Push) == 1  # joined, not a second push
            # Drafted, and then it waits for an editor although [scheduler] auto_approve is on.
            drafted = await env.drive(push.id, ("drafted",), until_fn=lambda p: p.next_run_at is None)
            assert drafted.approved_by is None
            await env.runner.tick()
            assert (await env.push(push.id)).state == "drafted"
            assert await count(env, Notification, Notification.push_id == push.id, Notification.kind == "approval") == 1

            site.add(5)
            clock.advance(60)
            assert (await sources.poll(env.services, src, "test", http)).queued == 1
        again = await env.push(push.id)
        assert again.state == "planned" and again.approved_by is None  # redrafted with the new article
        async with env.services.db() as s:
            titles = (await s.scalars(select(Article.title).where(Article.status == "queued")
                                      .order_by(Article.id))).all()
        assert titles == [story(n).title for n in (3, 4, 5)]


async def test_failures_back_off_and_tell_the_editors(site, sandbox, make_settings, capsys):
    sections = dict(sources=[source(site)], content={"fetch_delay_seconds": 0})
    clock = FakeClock()
    async with bot_env(sandbox, make_settings, clock=clock, webhook=False, **sections) as env:
        src = env.settings.sources[0]
        site.failing = True

        async def notices() -> list[Notification]:
            async with env.services.db() as s:
                return list((await s.scalars(select(Notification).where(Notification.source == src.name)
                                             .order_by(Notification.id))).all())

        async with aiohttp.ClientSession() as http:
            run = await sources.poll(env.services, src, "test", http)
            assert "HTTP 500" in run.error
            (note,) = await notices()
            assert note.openid == EDITOR and "总会新闻" in note.text and "HTTP 500" in note.text
            assert "按原间隔重试" in note.text
            assert await sources.poll(env.services, src, "test", http) is None  # not due yet
            clock.advance(60)
            assert (await sources.poll(env.services, src, "test", http)).error  # 2nd: waits 2 intervals
            assert len(await notices()) == 1
            clock.advance(60)
            assert await sources.poll(env.services, src, "test", http) is None
            clock.advance(60)
            assert (await sources.poll(env.services, src, "test", http)).error  # 3rd: waits 4 intervals
            third = (await notices())[-1]
            assert "已连续失败 3 次" in third.text and "4 分钟" in third.text
            async with env.services.db() as s:
                state = await s.get(SourceState, src.name)
            assert state.failures == 3 and state.next_poll_at > clock.now() + timedelta(minutes=3)

            await news._sources(Namespace(runs=5), env.services)
            shown = capsys.readouterr().out
            assert "〔总会新闻〕" in shown and "已连续失败 3 次" in shown and "北京时间" in shown
            assert "HTTP 500" in shown and "轮询：every 1 min" in shown

            site.failing = False
            clock.advance(4 * 60)
            ok = await sources.poll(env.services, src, "test", http)
            assert (ok.error, ok.added) == (None, 2)
            assert "已恢复" in (await notices())[-1].text
            # The source notices go out with the push notices (the editor's window is closed here); the
            # newest of a source supersedes the older ones.
            await env.runner.tick()
            assert [n.status for n in await notices()] == ["obsolete", "obsolete", "waiting"]


async def test_one_process_polls_a_source_at_a_time(site, sandbox, make_settings, db_url):
    """Two processes' services on one database (SQLite, PostgreSQL), three polls at once: one runs."""
    sections = dict(sources=[source(site)], content={"fetch_delay_seconds": 0}, database={"url": db_url})
    async with bot_env(sandbox, make_settings, webhook=False, **sections) as a, \
            bot_env(sandbox, make_settings, webhook=False, **sections) as b:
        src = a.settings.sources[0]
        site.delay = 0.3
        async with aiohttp.ClientSession() as http:
            got = await asyncio.gather(sources.poll(a.services, src, "a1", http), sources.poll(b.services, src, "b", http),
                                       sources.poll(a.services, src, "a2", http))
        assert sum(r is not None for r in got) == 1
        assert site.hits["/news/"] == 1 and await count(a, Article) == 2
        async with a.services.db() as s:
            state = await s.get(SourceState, src.name)
        assert state.claimed_by is None and state.etag == '"v2"'  # released, validators kept
