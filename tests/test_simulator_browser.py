"""The follower simulator in a real browser: headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright) follows the account, sends a keyword and sees the reply, against a real bot and a real
local platform. Without the browser the test skips, except on CI (CI=true), where it must run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import CI

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
# The machine runs as root with no outside network.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.browser, pytest.mark.asyncio]


@pytest.fixture
async def browser():
    if not HAVE_CHROMIUM:
        reason = f"{CHROMIUM} is not installed (Debian: apt-get install chromium fonts-wqy-zenhei)"
        if CI:
            pytest.fail(f"CI must run the browser test: {reason}")
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            await b.close()


async def test_follow_send_keyword_see_reply(chat_world, browser):
    world = await chat_world(wechat={"display_name": "省社会组织总会"})
    menu = {"button": [{"type": "click", "name": "最新动态", "key": "NEWS_LATEST"},
                       {"name": "会员服务", "sub_button": [{"type": "click", "name": "我的状态", "key": "MEMBER_STATUS"}]},
                       {"type": "click", "name": "帮助", "key": "HELP"}]}
    assert (await world.sandbox.api("menu/create", menu))["errcode"] == 0
    page = await browser.new_page(viewport={"width": 760, "height": 820})
    await page.goto(f"{world.sandbox.url}/simulator")

    await page.fill("#new-openid", "o_browser_follower")
    await page.click("#create-follower")
    await page.wait_for_function("document.querySelector('#follower-select').value === 'o_browser_follower'")
    follow = page.locator("#follow-big")
    await follow.wait_for(state="visible")
    await follow.click()
    await page.locator(".msg.account .bubble").first.wait_for()  # the welcome message
    assert await page.locator(".notice", has_text="你关注了公众号").count() == 1
    assert await page.inner_text("#account-name") == "省社会组织总会"  # its name, not gh_…

    # An account with a menu opens on the menu bar, as in WeChat; switch to the keyboard.
    await page.locator("#menu-bar").wait_for(state="visible")
    assert await page.locator("#menu .menu-item > button").all_inner_texts() == ["最新动态", "会员服务", "帮助"]
    await page.click("#to-input")
    await page.fill("#text", "联系方式")
    await page.click("#send")
    reply = page.locator(".msg.account .bubble", has_text="秘书处电话 0571-8800 0000（测试）")
    await reply.wait_for(timeout=10_000)
    assert await page.locator(".msg.follower .bubble", has_text="联系方式").count() == 1

    await page.fill("#text", "年报")
    await page.click("#send")
    card = page.locator("a.news", has_text="2025 年度报告")
    await card.wait_for(timeout=10_000)
    assert await card.get_attribute("href") == "https://example.org/r.html"

    # A link in a text is a link, as on the phone, not "<a href=…>" markup.
    await page.fill("#text", "通知")
    await page.click("#send")
    bubble = page.locator(".msg.account .bubble", has_text="年会通知")
    await bubble.wait_for(timeout=10_000)
    assert await bubble.inner_text() == "详见年会通知。"
    assert await bubble.locator("a").get_attribute("href") == "https://example.org/notice.html"

    # Back to the menu: a top button with sub-buttons opens them above the bar.
    await page.click("#to-menu")
    await page.click("#menu .menu-item:nth-child(2) > button")
    await page.locator("#menu .sub button", has_text="我的状态").wait_for(state="visible")
    # A tap shows the button's name, then the answer.
    await page.click("#menu .menu-item:nth-child(3) > button")
    await page.locator(".notice", has_text="点击了菜单“帮助”").wait_for(timeout=10_000)
    assert await page.locator(".notice", has_text="NEWS_LATEST").count() == 0
    await page.locator(".msg.account .bubble", has_text="您可以这样使用本公众号").wait_for(timeout=10_000)

    shot = os.environ.get("SIMULATOR_SCREENSHOT")  # set it to look at the page while developing
    if shot:
        await page.screenshot(path=shot)
