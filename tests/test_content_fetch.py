"""Polite fetching: a clear User-Agent, bounded concurrency, a pause after each request, size caps."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from core.clock import FakeClock
from store.content.fetch import Fetcher, FetchError
from tests.content_site import make_png


@pytest.fixture
async def server():
    seen = {"agents": set(), "inflight": 0, "max_inflight": 0}

    async def page(request):
        seen["agents"].add(request.headers.get("User-Agent"))
        seen["inflight"] += 1
        seen["max_inflight"] = max(seen["max_inflight"], seen["inflight"])
        await asyncio.sleep(0.02)
        seen["inflight"] -= 1
        return web.Response(text="<html><body><p>正文</p></body></html>", content_type="text/html")

    async def big(request):
        return web.Response(body=make_png(1, (400, 400)) + b"\0" * 5000, content_type="image/png")

    async def no_type(request):
        return web.Response(body=b"<!DOCTYPE html><html><body>x</body></html>", headers={"Content-Type": ""})

    app = web.Application()
    app.router.add_get("/page/{n}", page)
    app.router.add_get("/big.png", big)
    app.router.add_get("/html-without-type", no_type)
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server()
    yield srv, seen
    await srv.close()


async def test_concurrency_delay_and_user_agent(server, make_settings):
    srv, seen = server
    settings = make_settings(content={"fetch_concurrency": 2, "fetch_delay_seconds": 1.5})
    clock = FakeClock()
    start = clock.monotonic()
    async with aiohttp.ClientSession() as http:
        fetcher = Fetcher(settings.content, http, clock)
        pages = await asyncio.gather(*(fetcher.page(str(srv.make_url(f"/page/{i}"))) for i in range(6)))
        assert all(b"<p>" in p.body for p in pages)
        page = await fetcher.page(str(srv.make_url("/html-without-type")))
        assert page.body.startswith(b"<!DOCTYPE html>")
    assert seen["max_inflight"] <= 2
    assert seen["agents"] == {settings.content.user_agent}
    assert clock.monotonic() - start == pytest.approx(7 * 1.5)  # every request paused after itself


async def test_image_size_cap(server, make_settings):
    srv, _ = server
    settings = make_settings(content={"max_image_bytes": 2048, "fetch_delay_seconds": 0})
    async with aiohttp.ClientSession() as http:
        fetcher = Fetcher(settings.content, http, FakeClock())
        with pytest.raises(FetchError, match="文件过大"):
            await fetcher.image(str(srv.make_url("/big.png")))
        with pytest.raises(FetchError, match="不是图片"):
            await fetcher.image(str(srv.make_url("/page/1")))
