"""The console's editing pages in a real browser (Debian's Chromium driven by Playwright) against a
real bot and the local platform, at 360 px and at 1280 px: a member file with a bad row and a
likely typo → its dry run → applied, the rejected row named; a binding code issued in the page binds
a simulated follower whose 我的状态 then shows the unit; a keyword rule edited in the page answers a
follower at once, and "try a message" showed that answer first; a WeChat title over 32 characters
refused with its count; an import of a local site with its progress and report; the menu edited and
synced appears in the simulator. Screenshots go to $CONSOLE_SCREENSHOTS (printed at the end)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from store import editors
from store.content.demo import load_demo
from store.members.importer import import_file
from store.members.status import local_today
from tests.content_site import make_site_app
from tests.fixtures.members import HEADER, code, row, write_csv
from tests.test_simulator import account_items, follow, send
from tests.test_simulator_browser import browser  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.asyncio]
PASSWORD = "browser-pass-word-1"
SHOTS = Path(os.environ.get("CONSOLE_SCREENSHOTS", "/tmp/console-screenshots"))
PHONE, DESKTOP = {"width": 360, "height": 780}, {"width": 1280, "height": 900}


async def _world(chat_world, *names: tuple[str, str]):
    world = await chat_world(wechat={"display_name": "省社会组织总会"})
    for name, role in names:
        await editors.add(world.services.db, world.services.clock, name, role, PASSWORD + name)
    return world


async def _login(browser, world, name: str, viewport: dict):  # noqa: F811
    page = await browser.new_page(viewport=viewport)
    await page.goto(world.console_url + "/login")
    await page.fill("input[name=name]", name)
    await page.fill("input[name=password]", PASSWORD + name)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/console/")
    return page


async def _fits(page) -> None:
    """Nothing wider than the window (tables scroll inside their own box)."""
    wide = await page.evaluate("""[...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap, .nav'))
        .map(e => e.tagName + '.' + e.className + '#' + e.id + ':' + Math.round(e.getBoundingClientRect().right))""")
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), wide[:8]


async def _shot(page, name: str) -> None:
    await asyncio.to_thread(SHOTS.mkdir, parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360", "1280"])
async def test_member_file_dry_run_apply_then_a_code_binds_a_follower(chat_world, browser, tmp_path, viewport):  # noqa: F811
    world = await _world(chat_world, ("li", "editor"))
    svc = world.services
    known, new, typo, bad = code(31), code(32), code(33), code(34)
    now = svc.clock.now()
    await import_file(svc.db, write_csv(tmp_path / "seed.csv", [HEADER, row("浙江省音乐家协会", known)]), now,
                      local_today(now, svc.settings.scheduler.timezone), svc.settings.members.roles)
    upload = write_csv(tmp_path / "名录.csv", [
        HEADER,
        row("浙江省摄影家协会", new),  # line 2: added
        row("浙江省书法家协会", bad, role="名誉会长单位"),  # line 3: a bad role
        row("浙江省音乐家协会", typo),  # line 4: the known unit's name under another code
    ])
    page = await _login(browser, world, "li", viewport)
    await page.goto(world.console_url + "/members")
    await page.set_input_files("#member-file", str(upload))
    await page.click("#member-upload")
    await page.locator("#import-summary").wait_for()
    assert "将新增 1 家" in await page.inner_text("#import-summary")
    assert "第 4 行" in await page.inner_text("#likely-typos") and known in await page.inner_text("#likely-typos")
    assert "未知的会员类别“名誉会长单位”" in await page.inner_text("#rejected")
    await _fits(page)
    await _shot(page, f"members-dry-run-{viewport['width']}")
    await page.click("#member-apply")
    await page.locator("h1", has_text="导入结果").wait_for()
    rejected = await page.inner_text("#rejected")
    assert "第 3 行" in rejected and "第 4 行" in rejected

    await page.goto(world.console_url + "/members?q=摄影家")
    await page.click("#member-list a:has-text('浙江省摄影家协会')")
    await page.click("#issue-code")
    bind_code = await page.input_value("#bind-code")
    assert len(bind_code) == 8 and "（北京时间）" in await page.inner_text("#bind-until")
    await _fits(page)
    await _shot(page, f"member-code-{viewport['width']}")

    await world.api("POST", "followers", json={"openid": "o_unit_contact"})
    await follow(world, "o_unit_contact")
    bound = account_items(await send(world, "o_unit_contact", f"绑定 {bind_code}"))
    assert "浙江省摄影家协会" in bound[0]["text"]
    status = account_items(await send(world, "o_unit_contact", "我的状态"))
    assert "浙江省摄影家协会" in status[0]["text"]
    await page.reload()
    assert "o_unit_contact" in await page.inner_text("#bound")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "360"])
async def test_an_edited_rule_shows_in_the_trial_then_answers_a_follower(chat_world, browser, viewport):  # noqa: F811
    world = await _world(chat_world, ("li", "editor"))
    page = await _login(browser, world, "li", viewport)
    await page.goto(world.console_url + "/keywords")
    rule = page.locator("#rules li", has_text="联系方式")
    await rule.locator("summary").click()
    await rule.locator("textarea[name=reply]").fill("秘书处新电话 0571-8888 0001")
    await rule.locator("button[value=save]").click()
    await page.locator(".flash", has_text="已保存自动回复").wait_for()
    await page.fill("#try-text", "联系方式")
    await page.click("#try-send")
    assert await page.inner_text("#try-reply") == "秘书处新电话 0571-8888 0001"
    await _fits(page)
    await _shot(page, f"keywords-try-{viewport['width']}")
    await follow(world, "o_kw_follower")
    answer = account_items(await send(world, "o_kw_follower", "联系方式"))
    assert answer[0]["text"] == "秘书处新电话 0571-8888 0001"


async def test_a_wechat_title_over_32_characters_is_refused_with_the_count(chat_world, browser):  # noqa: F811
    world = await _world(chat_world, ("li", "editor"))
    await load_demo(world.services)
    page = await _login(browser, world, "li", PHONE)
    await page.goto(world.console_url + "/articles")
    await page.click("#article-list tbody a >> nth=0")
    title = "省社会组织总会召开2024年度等级评估工作推进会暨第六届会员大会筹备会议"
    await page.fill("#wechat-title", title)
    assert "36/32 字" in await page.inner_text("#wechat-title-count")  # counted as the editor types
    await page.click("#article-save")
    assert "微信标题有 36 个字，超过微信规定的 32 个字" in await page.inner_text("#article-problems")
    assert await page.input_value("#wechat-title") == title
    await _fits(page)
    await _shot(page, "article-title-refused-360")


async def test_an_import_of_a_local_site_shows_progress_and_its_report(chat_world, browser):  # noqa: F811
    world = await _world(chat_world, ("li", "editor"))
    site = TestServer(make_site_app(slow_seconds=3.0), host="127.0.0.1")
    await site.start_server()
    try:
        page = await _login(browser, world, "li", DESKTOP)
        await page.goto(world.console_url + "/imports")
        await page.fill("#import-url", str(site.make_url("/news/")))
        await page.click("#import-start")
        assert "正在导入" in await page.inner_text("#import-progress")  # the slow page holds it open
        await page.locator("#import-report").wait_for(timeout=20_000)  # the page refreshes itself
        assert "失败 3 篇" in await page.inner_text("#import-report")
        failures = await page.inner_text("#import-failures")
        assert "gone.html" in failures and "HTTP 404" in failures
        await _shot(page, "import-report-1280")
    finally:
        await site.close()


async def test_the_menu_edited_and_synced_appears_in_the_simulator(chat_world, browser):  # noqa: F811
    world = await _world(chat_world, ("boss", "admin"))
    page = await _login(browser, world, "boss", PHONE)
    await page.goto(world.console_url + "/menu")
    await page.fill("#b0-name", "联合会会员服务")
    assert "21/16 字节" in await page.inner_text("#b0-bytes")  # counted in bytes as typed
    await page.click("#menu-save")
    assert "名称有 21 字节，最多 16 字节" in await page.inner_text("#menu-problems")
    await page.fill("#b0-name", "最新动态")
    await page.fill("#b0-value", "NEWS_LATEST")
    assert await page.inner_text("#b0-key") == "最新文章"  # the bot's key, named as it is typed or picked
    assert await page.get_attribute("#b0-value", "list") == "click-keys"
    assert await page.inner_text("#menu-account") == "省社会组织总会"
    await page.fill("#b1-name", "会员")
    await page.locator("fieldset >> nth=1").locator("summary").click()
    await page.fill("#b1s0-name", "我的状态")
    await page.fill("#b1s0-value", "MEMBER_STATUS")
    await page.click("#menu-save")
    await page.locator(".flash", has_text="菜单已保存").wait_for()
    assert await page.locator("#menu-preview .btn-name").all_inner_texts() == ["最新动态", "会员"]
    await page.click("#menu-sync")
    await page.locator(".flash", has_text="菜单已同步到公众号").wait_for()
    await _fits(page)
    await _shot(page, "menu-synced-360")

    sim = await browser.new_page(viewport=PHONE)
    await sim.goto(f"{world.sandbox.url}/simulator")
    await sim.fill("#new-openid", "o_menu_follower")
    await sim.click("#create-follower")
    await sim.locator("#follow-big").click()
    await sim.locator("#menu-bar").wait_for(state="visible")
    assert await sim.locator("#menu .menu-item > button").all_inner_texts() == ["最新动态", "会员"]
    print(f"console screenshots: {SHOTS}")
