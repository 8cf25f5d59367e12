"""The 统计 pages in a real browser (Debian's chromium through Playwright, as the other browser tests)
at a phone's 360 px and a desktop's 1280 px: reached from the nav, the charts drawn and visible, and
nothing wider than the screen but the tables' own scrolling boxes. One browser for both widths, so
it stays short. Screenshots go to $SCREENSHOT_DIR (default: the test's temporary folder)."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestServer

from app import create_app, open_services
from core.clock import FakeClock
from store import editors
from store.migrate import upgrade
from store.shared import MemoryState
from tests.test_console_browser import DESKTOP, PHONE, shots  # noqa: F401 - the fixture
from tests.test_members_stats import _load, seed_registry
from tests.test_reading_report import fill
from tests.test_simulator_browser import browser  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser]
PASSWORD = "stats-browser-2026"


class Env:
    def __init__(self, services, clock) -> None:
        self.services, self.clock = services, clock

    @property
    def db(self):
        return self.services.db


async def test_the_stats_pages_at_360_and_1280_px(make_settings, sqlite_url, browser, shots):  # noqa: F811
    await upgrade(sqlite_url)
    clock = FakeClock()
    async with open_services(make_settings(database={"url": sqlite_url}), clock, shared=MemoryState(clock)) as svc:
        await editors.add(svc.db, svc.clock, "ed", "editor", PASSWORD)
        await _load(Env(svc, clock), seed_registry())
        await fill(svc.db, 2026, 90, 500)
        server = TestServer(create_app(svc, scheduler=False))
        await server.start_server()
        try:
            base = str(server.make_url("/console"))
            for viewport in (PHONE, DESKTOP):
                page = await browser.new_page(viewport=viewport)
                await page.goto(base + "/login")
                await page.fill("#name", "ed")
                await page.fill("#password", PASSWORD)
                await page.click("#login-submit")
                await page.click("nav >> text=统计")
                assert "在符合参评条件的435家单位会员中" in await page.inner_text("#headline")
                for chart in ("#chart-grades svg", "#chart-regions svg"):
                    box = await page.locator(chart).bounding_box()
                    assert box and 0 < box["width"] <= viewport["width"], chart
                width = await page.evaluate("document.documentElement.scrollWidth")
                assert width <= viewport["width"], width
                await shots(page, f"registry-{viewport['width']}")
                await page.click("#tab-reading")
                assert "年均推文90篇，阅读量超4万" in await page.inner_text("#headline")
                assert await page.locator("#chart-pushes rect.bar").count() == 60
                assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
                await shots(page, f"reading-{viewport['width']}")
                await page.close()
        finally:
            await server.close()
