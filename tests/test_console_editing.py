"""The console's editing pages without a browser (the local platform behind them): each page answers
for its role, and each change goes through the same operation as the CLI and into the audit log:
a member file's dry run then its import, a binding code shown once, a keyword rule edited and tried,
an over-long WeChat title refused with its count, the menu checked in bytes and synced, an erasure
in two steps."""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from app import create_app, open_services
from store import editors, keywords
from store.content.articles import ArticleFilter, find_articles
from store.content.demo import load_demo
from store.migrate import upgrade
from store.models.console import AuditEntry
from store.models.webhook import Follower, MessageLog
from tests.fixtures.members import HEADER, code, row, write_csv

PASSWORD = "editing-pass-word-1"


@pytest.fixture
async def console(sandbox, make_settings):
    settings = sandbox.settings_for(make_settings)
    await upgrade(settings.database_url)
    async with open_services(settings) as svc:
        for name, role in (("ed", "editor"), ("ad", "admin")):
            await editors.add(svc.db, svc.clock, name, role, PASSWORD + name)
        async with TestClient(TestServer(create_app(svc, scheduler=False))) as client:
            client.svc = svc
            yield client


def token_of(html: str) -> str:
    return re.search(r'name="_csrf" value="([^"]+)"', html).group(1)


async def login(client, name: str) -> str:
    page = await client.get("/console/login")
    resp = await client.post("/console/login", data={"name": name, "password": PASSWORD + name,
                                                      "_csrf": token_of(await page.text())})
    return token_of(await resp.text())


async def actions(client) -> list[tuple[str, str]]:
    async with client.svc.db() as session:
        return [(a.actor, a.action) for a in await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
                if a.action not in ("login", "logout")]


async def test_every_page_answers_for_an_editor_and_the_menu_only_for_an_admin(console):
    await login(console, "ed")
    for path in ("/articles", "/imports", "/members", "/keywords", "/messages", "/followers", "/keywords?try=帮助"):
        resp = await console.get("/console" + path)
        assert resp.status == 200, path
        assert "<script>" not in await resp.text()  # no inline script
    assert (await console.get("/console/menu")).status == 403


async def test_member_file_dry_run_then_import_and_a_code_shown_once(console, tmp_path):
    csrf = await login(console, "ed")
    a, b = code(21), code(22)
    data = write_csv(tmp_path / "m.csv", [HEADER, row("浙江省摄影家协会", a), row("浙江省书法家协会", b, role="名誉会长单位")])
    resp = await console.post("/console/members/upload", data={"_csrf": csrf, "file": data.open("rb")})
    html = await resp.text()
    assert resp.status == 200 and "试运行结果" in html and "第 3 行" in html and "未知的会员类别“名誉会长单位”" in html
    token = re.search(r'name="token" value="([0-9a-f]{32})"', html).group(1)
    assert (await console.get("/console/members?q=摄影")).status == 200
    assert "浙江省摄影家协会" not in await (await console.get("/console/members")).text()  # nothing written yet

    resp = await console.post("/console/members/apply", data={"_csrf": csrf, "token": token})
    html = await resp.text()
    assert "导入结果" in html and "第 3 行" in html
    listing = await (await console.get("/console/members")).text()
    member_id = re.search(r'href="/console/members/(\d+)">浙江省摄影家协会', listing).group(1)

    resp = await console.post(f"/console/members/{member_id}/code", data={"_csrf": csrf})
    html = await resp.text()
    bind_code = re.search(r'id="bind-code" class="code" value="([A-Z0-9]{8})"', html).group(1)
    assert "（北京时间）" in html and "离开本页后将无法再次查看" in html
    assert bind_code not in await (await console.get(f"/console/members/{member_id}")).text()
    async with console.svc.db() as session:
        entries = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "member_bind_code")))
    assert entries and all(bind_code not in str(e.after) + e.summary for e in entries)
    assert await actions(console) == [("ed", "member_import"), ("ed", "member_bind_code")]


async def test_a_keyword_rule_edited_answers_the_trial_at_once(console):
    csrf = await login(console, "ed")
    rule = await keywords.add_rule(console.svc, "exact", "会费", "会费标准见官网。")
    resp = await console.post(f"/console/keywords/{rule.id}", data={
        "_csrf": csrf, "action": "save", "match": "exact", "pattern": "会费", "kind": "text",
        "reply": "2026 年会费每年 3000 元。", "priority": "100"})
    assert "已保存自动回复" in await resp.text()
    html = await (await console.get("/console/keywords?try=会费")).text()
    assert f"自动回复 #{rule.id}" in html and "2026 年会费每年 3000 元。" in html
    resp = await console.post(f"/console/keywords/{rule.id}", data={
        "_csrf": csrf, "action": "save", "match": "regex", "pattern": "([", "kind": "text", "reply": "x", "priority": "1"})
    assert "未保存：不是有效的正则表达式" in await resp.text()
    assert await actions(console) == [("ed", "keyword_edit")]


async def test_a_wechat_title_over_32_characters_is_refused_with_its_count(console):
    csrf = await login(console, "ed")
    assert "没有符合条件的文章" in await (await console.get("/console/articles")).text()
    await load_demo(console.svc)  # as an import elsewhere: its sources are filters at once
    listing = await (await console.get("/console/articles")).text()
    [source] = {a.source_name for a in (await find_articles(console.svc.db, ArticleFilter(), limit=1)).articles}
    assert source and f"<option>{source}</option>" in listing
    article_id = re.search(r'href="/console/articles/(\d+)"', listing).group(1)
    long_title = "省社会组织总会召开2024年度等级评估工作推进会暨第六届会员大会筹备会议"
    resp = await console.post(f"/console/articles/{article_id}", data={"_csrf": csrf, "wechat_title": long_title,
                                                                       "digest": "", "tags": ""})
    html = await resp.text()
    assert resp.status == 400 and "微信标题有 36 个字，超过微信规定的 32 个字，未保存" in html
    assert f'value="{long_title}"' in html  # what was typed stays
    resp = await console.post(f"/console/articles/{article_id}", data={"_csrf": csrf, "wechat_title": "年会筹备会议",
                                                                       "digest": "", "tags": "通知"})
    assert "已保存文章" in await resp.text()
    assert await actions(console) == [("ed", "article_edit")]
    listing = await (await console.get("/console/articles")).text()  # the tag just given is a filter at once
    assert "<option>通知</option>" in listing
    only = await (await console.get("/console/articles?column=通知")).text()
    assert re.findall(r'href="/console/articles/(\d+)"', only) == [article_id] and "共 1 篇" in only


async def test_the_menu_is_checked_in_bytes_saved_and_synced(console, sandbox):
    csrf = await login(console, "ad")
    resp = await console.post("/console/menu", data={"_csrf": csrf, "b0_name": "联合会会员服务", "b0_type": "click",
                                                     "b0_value": "K"})
    html = await resp.text()
    assert resp.status == 400 and "名称有 21 字节，最多 16 字节" in html
    resp = await console.post("/console/menu", data={
        "_csrf": csrf, "b0_name": "最新动态", "b0_type": "click", "b0_value": "NEWS_LATEST",
        "b1_name": "会员服务", "b1s0_name": "我的状态", "b1s0_type": "click", "b1s0_value": "MEMBER_STATUS"})
    assert "菜单已保存" in await resp.text()
    assert sandbox.calls("menu/create") == []
    resp = await console.post("/console/menu/sync", data={"_csrf": csrf})
    assert "菜单已同步到公众号" in await resp.text()
    assert sandbox.platform.state["menu"] == {"button": [
        {"type": "click", "name": "最新动态", "key": "NEWS_LATEST"},
        {"name": "会员服务", "sub_button": [{"type": "click", "name": "我的状态", "key": "MEMBER_STATUS"}]}]}
    assert await actions(console) == [("ad", "menu_save"), ("ad", "menu_sync")]


async def test_the_menu_offers_the_bots_click_keys_by_name_and_previews_under_the_accounts_name(sandbox, make_settings):
    from app import ROUTERS
    from console import words

    settings = sandbox.settings_for(make_settings, wechat={"display_name": "省社会组织总会"})
    await upgrade(settings.database_url)
    async with open_services(settings) as svc:
        await editors.add(svc.db, svc.clock, "ad", "admin", PASSWORD + "ad")
        async with TestClient(TestServer(create_app(svc, scheduler=False))) as client:
            csrf = await login(client, "ad")
            resp = await client.post("/console/menu", data={
                "_csrf": csrf, "b0_name": "最新动态", "b0_type": "click", "b0_value": "NEWS_LATEST",
                "b1_name": "旧按钮", "b1_type": "click", "b1_value": "OLD_KEY"})  # a key of its own is still saved
            html = await resp.text()
    assert "菜单已保存" in html
    keys = dict(re.findall(r'<option value="([A-Z_]+)">([^<]+)</option>', html.split('id="click-keys"', 1)[1]))
    assert keys == {"HELP": "帮助说明", "NEWS_LATEST": "最新文章", "MEMBER_STATUS": "我的会员状态",
                    "MEMBER_HELP": "会员查询帮助"}
    assert set(keys) == {k for r in ROUTERS for k in r.clicks}  # every key the bot answers, each with a name
    assert re.search(r'id="b0-key"[^>]*>最新文章<', html) and re.search(r'id="b0-value"[^>]*list="click-keys"', html)
    assert re.search(rf'id="b1-key"[^>]*>{words.CLICK_KEY_UNKNOWN}<', html) and 'value="OLD_KEY"' in html
    assert '<div class="bar" id="menu-account">省社会组织总会</div>' in html


async def test_erasing_a_follower_takes_two_steps_that_name_the_effect(console):
    csrf = await login(console, "ed")
    now = console.svc.clock.now()
    async with console.svc.db.begin() as session:
        session.add(Follower(openid="o-erase", subscribed=True, first_seen=now, last_seen=now))
        session.add(MessageLog(at=now, openid="o-erase", direction="in", channel="webhook", msg_type="text", content="你好"))
    assert "你好" in await (await console.get("/console/messages/o-erase")).text()
    html = await (await console.post("/console/followers/o-erase/erase", data={"_csrf": csrf})).text()
    assert "将永久删除粉丝 o-erase 的 1 条消息记录" in html
    html = await (await console.post("/console/followers/o-erase/erase", data={"_csrf": csrf, "confirm": "o-other"})).text()
    assert "确认内容与粉丝 openid 不一致，未删除" in html
    html = await (await console.post("/console/followers/o-erase/erase", data={"_csrf": csrf, "confirm": "o-erase"})).text()
    assert "已删除粉丝 o-erase 的数据：1 条消息记录" in html
    async with console.svc.db() as session:
        assert await session.get(Follower, "o-erase") is None
    assert await actions(console) == [("ed", "follower_erase")]


async def test_the_member_list_pages(console, tmp_path, monkeypatch):
    import console.pages.members as members_page

    monkeypatch.setattr(members_page, "PAGE", 1)
    csrf = await login(console, "ed")
    data = write_csv(tmp_path / "two.csv", [HEADER, row("浙江省摄影家协会", code(41)), row("浙江省书法家协会", code(42))])
    html = await (await console.post("/console/members/upload", data={"_csrf": csrf, "file": data.open("rb")})).text()
    token = re.search(r'name="token" value="([0-9a-f]{32})"', html).group(1)
    await console.post("/console/members/apply", data={"_csrf": csrf, "token": token})
    first = await (await console.get("/console/members")).text()
    assert "浙江省书法家协会" in first and "浙江省摄影家协会" not in first
    next_url = re.search(r'href="([^"]+)">下一页', first).group(1).replace("&amp;", "&")
    second = await (await console.get(next_url)).text()
    assert "浙江省摄影家协会" in second and "下一页" not in second
