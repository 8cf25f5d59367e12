"""The console in a real browser (Debian's /usr/bin/chromium driven by Playwright, as the simulator's
browser test), at a phone's 360 px and a desktop's 1280 px, against the real bot and the local
platform: a wrong password refused and the lock-out; an editor builds a push of two articles, sees
the phone preview, sends a preview to herself (the platform records it) and submits; she cannot
approve; the approver, on a phone, rejects with a comment; she sees it, edits and resubmits; the
approver approves and sends; after the platform's job-finish event the push shows 已完成; the audit
log shows each action with its author. Screenshots go to $SCREENSHOT_DIR (default: the test's
temporary folder), printed at the start of each test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.console_support import PASSWORDS, add_accounts
from tests.scheduler_support import bot_env
from tests.test_simulator_browser import browser  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.asyncio]
PHONE = {"width": 360, "height": 760}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def shots(request, tmp_path):
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path) / request.node.name.replace("[", "_").strip("]")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {folder}")
    request.node.user_properties.append(("screenshots", str(folder)))
    n = iter(range(100))

    async def take(page, name: str) -> None:
        await page.screenshot(path=str(folder / f"{next(n):02d}-{name}.png"), full_page=True)

    return take


@pytest.fixture
async def world(sandbox, make_settings):
    async with bot_env(sandbox, make_settings, console={"max_failures": 3}) as env:
        await add_accounts(env.services)
        yield env


async def sign_in(page, base: str, name: str, password: str | None = None) -> None:
    await page.goto(base + "/login")
    await page.fill("#name", name)
    await page.fill("#password", password or PASSWORDS[name])
    await page.click("#login-submit")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360px", "1280px"])
async def test_wrong_password_refused_then_locked_out(world, browser, shots, viewport):  # noqa: F811
    base = world.base_url + "/console"
    page = await browser.new_page(viewport=viewport)
    await sign_in(page, base, "alice", "not-her-password")
    assert "账号或密码不正确" in await page.inner_text("#login-error")
    assert "还可以再试 2 次" in await page.inner_text("#login-error")
    await shots(page, "wrong-password")
    for _ in range(2):
        await sign_in(page, base, "alice", "still-wrong")
    await sign_in(page, base, "alice")  # the right password, too late
    assert "请 15 分钟后再试" in await page.inner_text("#login-error")
    assert await page.locator("nav.nav").count() == 0  # not signed in
    await shots(page, "locked-out")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"]  # nothing wider than the screen


async def test_plan_review_and_publish_two_articles(world, browser, shots):  # noqa: F811
    env = world
    base = env.base_url + "/console"
    ids = await env.articles(2)
    editor = await (await browser.new_context(viewport=DESKTOP)).new_page()
    approver = await (await browser.new_context(viewport=PHONE, is_mobile=True)).new_page()

    await sign_in(editor, base, "alice")
    await editor.click("text=推送")
    await editor.click("#new-push")
    for aid in ids:
        await editor.click(f'a.add[data-id="{aid}"]')
    assert await editor.locator("#chosen li").count() == 2
    await editor.check("#kind-publish")
    await shots(editor, "composer")
    await editor.click("#save-push")
    assert "已创建推送" in await editor.inner_text("main")
    push_id = int(editor.url.rsplit("/", 1)[1])
    await env.drive(push_id, ("drafted", "previewed"))

    await editor.click("#phone-preview")
    assert "第 0 篇第 0 段" in await editor.inner_text(".wechat-article >> nth=0")
    assert await editor.locator("#phone").evaluate("e => e.getBoundingClientRect().width") <= 360
    await shots(editor, "phone-preview")
    await editor.go_back()
    await editor.check('input[name="to"][value="o_editor_0001"]')
    await editor.click("#send-preview")
    assert "已发到 o_editor_0001" in await editor.inner_text("main")
    assert [c["params"]["body"]["touser"] for c in env.sandbox.calls("message/mass/preview")] == ["o_editor_0001"]
    await editor.click("#submit-review")
    assert await editor.inner_text("#push-review") == "待审批"
    assert await editor.locator("#approve").count() == 0  # an editor cannot approve
    await shots(editor, "submitted")

    await sign_in(approver, base, "bob")
    await approver.goto(f"{base}/pushes/{push_id}")
    await approver.fill("#comment", "请把两篇的顺序对调")
    await approver.click("#reject")
    assert "已退回" in await approver.inner_text("main")
    await shots(approver, "rejected-on-phone")

    await editor.reload()
    assert "审批意见：请把两篇的顺序对调" in await editor.inner_text("#review-comment")
    await editor.click("#edit-push")
    await editor.click("#chosen li >> nth=1 >> text=↑")
    await editor.click("#save-push")
    await editor.click("#submit-review")
    assert await editor.inner_text("#push-review") == "待审批"

    await approver.reload()
    await approver.click("#approve")
    assert "已批准" in await approver.inner_text("main")
    await approver.click("#send-now")
    await env.drive(push_id, ("done",))
    await approver.reload()
    assert await approver.inner_text("#push-status") == "已完成"
    await shots(approver, "done-on-phone")
    width = await approver.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]

    await editor.goto(f"{base}/audit?target_id={push_id}")
    rows = [(await r.locator(".actor").inner_text(), await r.locator(".action").inner_text())
            for r in await editor.locator("table.audit tbody tr").all()]
    assert rows[::-1] == [("alice", "创建推送"), ("alice", "发送预览"), ("alice", "提交审批"), ("bob", "退回推送"),
                          ("alice", "修改推送"), ("alice", "提交审批"), ("bob", "批准推送"), ("bob", "立即发送")]
    await shots(editor, "audit-log")
