"""What people see of the local platform: published and mass-sent articles at their article_url
(`/s/<article_id>/<idx>`), draft previews, the uploaded images (`/mmbiz/<file>`), and an index at `/`
listing drafts, publishes, broadcasts, customer-service messages and the statistics (数据统计) so
editors can rehearse."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from html import escape

from aiohttp import web

from sandbox.platform import PLATFORM_TZ, Platform
from sandbox.platform.datacube import overview

# User-facing text (Chinese), in one place.
TEXTS = {
    "index_title": "本地微信平台（演示）",
    "zone": "北京时间",  # the platform's clock is WeChat's: Beijing time (PLATFORM_TZ)
    "drafts": "草稿箱",
    "publishes": "发布记录",
    "broadcasts": "群发记录",
    "cs": "客服消息",
    "stats": "数据统计",
    "stripped": "被过滤的外部图片",
    "none": "（无）",
    "deleted": "此内容已被发布者删除",
    "not_found": "该内容不存在",
    "read_original": "阅读原文",
    "status": {0: "发布成功", 1: "发布中", 2: "原创审核不通过", 3: "常规失败", 4: "平台审核不通过",
               5: "已被删除", 6: "已被封禁"},
    "mass_status": {"awaiting_confirmation": "等待管理员确认", "sending": "发送中", "sent": "已发送",
                    "failed": "发送失败", "deleted": "已删除"},
}

_STYLE = """<style>body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;max-width:760px;
margin:0 auto;padding:16px;color:#222}h1{font-size:22px}h2{font-size:17px;border-bottom:1px solid #ddd;
padding-bottom:4px;margin-top:28px}table{border-collapse:collapse;width:100%;font-size:13px}
td,th{border-bottom:1px solid #eee;padding:4px 6px;text-align:left;vertical-align:top}
.meta{color:#888;font-size:13px}img{max-width:100%}</style>"""


def setup(app: web.Application, platform: Platform) -> None:
    async def index(request: web.Request) -> web.Response:
        return _html(TEXTS["index_title"], _index_body(platform))

    async def article(request: web.Request) -> web.Response:
        return _article_page(platform.state["articles"].get(request.match_info["article_id"]),
                             request.match_info["idx"])

    async def draft(request: web.Request) -> web.Response:
        return _article_page(platform.state["drafts"].get(request.match_info["media_id"]),
                             request.match_info["idx"])

    async def image(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        data = await asyncio.to_thread(platform.store.read_file, name)
        if data is None:
            raise web.HTTPNotFound()
        ctype = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "bmp": "image/bmp"}.get(
            name.rsplit(".", 1)[-1], "application/octet-stream")
        return web.Response(body=data, content_type=ctype)

    app.router.add_get("/", index)
    app.router.add_get("/s/{article_id}/{idx:\\d+}", article)
    app.router.add_get("/draft/{media_id}/{idx:\\d+}", draft)
    app.router.add_get("/mmbiz/{name}", image)


def _html(title: str, body: str, status: int = 200) -> web.Response:
    page = (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width,initial-scale=1"><title>{escape(title)}</title>{_STYLE}</head>'
            f"<body>{body}</body></html>")
    return web.Response(text=page, content_type="text/html", status=status)


def _when(ts: float | None) -> str:
    if not ts:
        return ""
    return datetime.fromtimestamp(ts, UTC).astimezone(PLATFORM_TZ).strftime("%Y-%m-%d %H:%M:%S")


def _article_page(record: dict | None, idx: str) -> web.Response:
    items = record["news_item"] if record else []
    i = int(idx) - 1
    if not 0 <= i < len(items):
        return _html(TEXTS["not_found"], f"<p>{TEXTS['not_found']}</p>", 404)
    item = items[i]
    if item.get("is_deleted"):
        return _html(TEXTS["deleted"], f"<p>{TEXTS['deleted']}</p>", 404)
    # The content was cleaned by the platform (scripts removed, foreign images stripped): shown as is.
    source = item.get("content_source_url")
    body = (f"<h1>{escape(item['title'])}</h1><p class=meta>{escape(item.get('author') or '')}</p>"
            f"{item['content']}")
    if source:
        body += f'<p><a href="{escape(source)}">{TEXTS["read_original"]}</a></p>'
    return _html(item["title"], body)


def _links(record: dict) -> str:
    return "<br>".join(
        f'<a href="{escape(item.get("url", ""))}">{escape(item["title"])}</a>' for item in record.get("news_item") or [])


def _table(headers: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return f"<p class=meta>{TEXTS['none']}</p>"
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _index_body(platform: Platform) -> str:
    s = platform.state
    parts = [f"<h1>{TEXTS['index_title']}</h1>",
             f"<p class=meta>平台时间 {_when(platform.now())}（{TEXTS['zone']}，下列时间同此）；账号 "
             f"{escape(platform.wechat.display_name or platform.wechat.account_id)}"
             f"（{escape(platform.wechat.appid)}，{escape(platform.wechat.account_type)}）</p>"]
    drafts = sorted(s["drafts"].values(), key=lambda d: d["update_time"], reverse=True)
    parts.append(f"<h2>{TEXTS['drafts']}（{len(drafts)}）</h2>")
    parts.append(_table(["时间", "media_id", "文章"], [
        [_when(d["update_time"]), escape(d["media_id"][:12]) + "…", _links(d)] for d in drafts]))
    pubs = sorted(s["publishes"].values(), key=lambda p: p["submitted_at"], reverse=True)
    parts.append(f"<h2>{TEXTS['publishes']}（{len(pubs)}）</h2>")
    rows = []
    for p in pubs:
        article = s["articles"].get(p["article_id"] or "")
        status = TEXTS["status"].get(p["status"], str(p["status"]))
        if p["fail_idx"]:
            status += f"（失败篇目 {', '.join(map(str, p['fail_idx']))}）"
        rows.append([_when(p["submitted_at"]), escape(p["publish_id"]), escape(status),
                     _links(article) if article else escape("、".join(i["title"] for i in p["news_item"]))])
    parts.append(_table(["提交时间", "publish_id", "状态", "文章"], rows))
    masses = sorted(s["mass"].values(), key=lambda m: m["created_at"], reverse=True)
    parts.append(f"<h2>{TEXTS['broadcasts']}（{len(masses)}）</h2>")
    rows = []
    for m in masses:
        article = s["articles"].get(m["article_id"] or "")
        target = "全部粉丝" if m["is_to_all"] else (f"标签 {m['tag_id']}" if m["tag_id"] is not None else "指定粉丝")
        what = _links(article) if article else escape(str(m["payload"].get("content") or m["msgtype"]))
        rows.append([_when(m["created_at"]), str(m["msg_id"]), escape(target),
                     f"{len(m['recipients'])} 人", escape(TEXTS["mass_status"].get(m["status"], m["status"])), what])
    parts.append(_table(["时间", "msg_id", "对象", "送达", "状态", "内容"], rows))
    parts.append(_stats(platform))
    parts.append(f"<h2>{TEXTS['cs']}（{len(s['cs_messages'])}）</h2>")
    parts.append(_table(["时间", "粉丝", "类型", "内容"], [
        [_when(m["at"]), escape(m["openid"]), escape(m["msgtype"]), escape(_cs_text(m))]
        for m in reversed(s["cs_messages"][-200:])]))
    if s["stripped_images"]:
        parts.append(f"<h2>{TEXTS['stripped']}（{len(s['stripped_images'])}）</h2>")
        parts.append(_table(["时间", "接口", "文章", "图片地址"], [
            [_when(x["at"]), escape(x["where"]), escape(x["title"]), escape(x["url"])]
            for x in reversed(s["stripped_images"][-100:])]))
    return "".join(parts)


def _stats(platform: Platform) -> str:
    """What /datacube/ will report: figures up to the latest ready day (the next day after 08:00)."""
    o = overview(platform)
    return (f"<h2>{TEXTS['stats']}</h2><p class=meta>截至 {o['ready']}（北京时间次日 8 点后更新）；"
            f"累计关注 {o['followers']} 人</p>" + _table(["日期", "msgid", "方式", "标题", "阅读人数", "分享人数"], [
                [a["day"], escape(a["msgid"]), "群发" if a["notified"] else "发布（不通知）", escape(a["title"]),
                 str(a["read_user"]), str(a["share_user"])] for a in o["articles"]]))


def _cs_text(message: dict) -> str:
    payload = message["payload"]
    if message["msgtype"] == "text":
        return payload.get("content", "")
    if message["msgtype"] == "news":
        return "、".join(a.get("title", "") for a in payload.get("articles", []))
    return str(payload.get("media_id") or payload.get("article_id") or "")
