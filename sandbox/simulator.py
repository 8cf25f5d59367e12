"""The follower simulator at `/simulator`: a WeChat-like chat with the account, for editors' rehearsals,
the browser test and `main.py sandbox say`.

What the follower does (follow, unfollow, send text, tap a menu button) goes to the bot through the
platform's WebhookDelivery, so it is signed (and in safe mode encrypted) and retried after 5 s with the
same body exactly as WeChat does. The chat shows the passive reply, then whatever reaches the follower
later: customer-service messages and broadcasts (and previews) from the platform's state, picked up
when the page polls. A freepublished article is not pushed to anyone: it exists only at its URL.

JSON API (all under /simulator/api/):
  GET  state                          account, mode, followers
  POST followers  {openid?}           create a follower (not yet following); a random openid if empty
  GET  chat?openid=&after=SEQ         transcript items after SEQ, subscribed flag, the synced menu
  POST send       {openid, text, follow_first?}
  POST event      {openid, event: subscribe|unsubscribe|click|view, key?}
send/event answer once the bot has answered (or WeChat would have given up), with the new items.
A text item carries `parts`: its text split where WeChat shows a link. The chat shows the account by
`[wechat] display_name` and a menu tap by the button's name, as a phone does.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xmltodict
from aiohttp import web

from sandbox.delivery import DeliveryResult, event_message, text_message
from sandbox.platform import PLATFORM_KEY, PLATFORM_SENDER, Platform

STATIC = Path(__file__).parent / "static"

# What the follower sees besides the account's messages (Chinese, as in WeChat), in one place.
TEXTS = {
    "followed": "你关注了公众号",
    "unfollowed": "你已取消关注该公众号",
    "clicked": "点击了菜单“{name}”",
    "viewed": "打开了菜单“{name}”的网页",
    "account": "公众号",  # the title bar when the account has no [wechat] display_name
    "unavailable": "该公众号暂时无法提供服务，请稍后再试",
    "retried": "5 秒内没有应答，微信用同一 MsgId 重试了 {n} 次",
    "transfer": "消息已转给人工客服",
    "cs": "客服消息",
    "broadcast": "群发",
    "preview": "群发预览",
    "not_following": "请先关注公众号再发消息",
    "media": {"voice": "[语音]", "video": "[视频]", "music": "[音乐]"},
}
EVENTS = {"subscribe": "subscribe", "unsubscribe": "unsubscribe", "click": "CLICK", "view": "VIEW"}
# WeChat renders <a href="…">…</a> in a text message as a link (also with data-miniprogram-* and single
# quotes); any other markup is shown as typed.
_LINK = re.compile(r"<a\b([^>]*)>(.*?)</a>", re.S | re.I)
_HREF = re.compile(r"""\bhref\s*=\s*(["'])(.*?)\1""", re.S | re.I)


def text_parts(text: str) -> list[dict]:
    """A text message as its phone shows it: [{"text": …}, {"text": …, "href": …}, …]; a link without
    a web address (a mini program's) keeps "href": ""."""
    parts: list[dict] = []
    at = 0
    for m in _LINK.finditer(text):
        if m.start() > at:
            parts.append({"text": text[at:m.start()]})
        href = _HREF.search(m.group(1))
        url = href.group(2) if href else ""
        parts.append({"text": m.group(2), "href": url if url.startswith(("http://", "https://")) else ""})
        at = m.end()
    if at < len(text) or not parts:
        parts.append({"text": text[at:]})
    return parts


def _text_item(text: str) -> dict:
    return {"type": "text", "text": text, "parts": text_parts(text)}


@dataclass
class Chat:
    items: list[dict] = field(default_factory=list)
    seen: set = field(default_factory=set)  # inbox entries already in `items`


class Simulator:
    """Transcripts per follower (in memory: the platform's state keeps what the account sent)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.chats: dict[str, Chat] = {}
        self._seq = itertools.count(1)
        # MsgIds are 64-bit in WeChat; a time-based start keeps them unique across restarts.
        self._msg_ids = itertools.count(int(time.time() * 1000) * 1000)

    # --- reading --------------------------------------------------------------------------------

    def account(self) -> dict:
        """What a follower sees of the account: its name (never the 原始ID gh_…, which WeChat keeps
        to itself)."""
        wechat = self.platform.wechat
        return {"name": wechat.display_name or TEXTS["account"], "account_id": wechat.account_id}

    def menu_name(self, key: str, event: str) -> str:
        """The name of the menu button a tap came from: by its key (click) or url (view)."""
        field = "key" if event == "click" else "url"
        for top in (self.platform.state["menu"] or {}).get("button", []):
            for b in [top, *top.get("sub_button", [])]:
                if b.get(field) == key and b.get("name"):
                    return b["name"]
        return key

    def followers(self) -> list[dict]:
        followers = self.platform.state["followers"].values()
        return [{"openid": f["openid"], "subscribed": f["subscribed"]}
                for f in sorted(followers, key=lambda f: f["openid"]) if f["openid"] != PLATFORM_SENDER]

    def subscribed(self, openid: str) -> bool:
        f = self.platform.state["followers"].get(openid)
        return bool(f and f["subscribed"])

    def chat(self, openid: str, after: int = 0) -> dict:
        chat = self._chat(openid)
        self._collect_inbox(openid, chat)
        return {
            "openid": openid,
            "subscribed": self.subscribed(openid),
            "menu": self.platform.state["menu"],
            "items": [i for i in chat.items if i["seq"] > after],
        }

    def _chat(self, openid: str) -> Chat:
        return self.chats.setdefault(openid, Chat())

    def _add(self, chat: Chat, **item: Any) -> dict:
        item["seq"] = next(self._seq)
        chat.items.append(item)
        return item

    def _collect_inbox(self, openid: str, chat: Chat) -> None:
        """Customer-service messages, broadcasts and previews addressed to this follower, in the order
        the platform accepted them."""
        state = self.platform.state
        entries: list[tuple[float, tuple, dict]] = []
        for n, m in enumerate(state["cs_messages"]):
            if m["openid"] == openid:
                entries.append((m["at"], ("cs", n, m["at"]), m))
        f = state["followers"].get(openid)
        for b in (f or {}).get("broadcasts", []):
            mass = state["mass"].get(str(b["msg_id"]))
            if mass is not None:
                entries.append((b["at"], ("mass", b["msg_id"]), mass))
        for p in state["previews"]:
            if p["openid"] == openid:
                entries.append((p["at"], ("preview", p["msg_id"]), p))
        for _, key, entry in sorted(entries, key=lambda e: e[0]):
            if key in chat.seen:
                continue
            chat.seen.add(key)
            tag = {"cs": TEXTS["cs"], "mass": TEXTS["broadcast"], "preview": TEXTS["preview"]}[key[0]]
            self._add(chat, side="account", tag=tag, **self._outbound_item(entry, key[0]))

    def _outbound_item(self, entry: dict, kind: str) -> dict:
        """An API-sent message (customer service, broadcast, preview) as a chat item."""
        msgtype, payload = entry["msgtype"], entry["payload"]
        if msgtype == "text":
            return _text_item(payload.get("content", ""))
        if msgtype == "news":
            return {"type": "news", "articles": [
                {"title": a.get("title", ""), "description": a.get("description", ""),
                 "url": a.get("url", ""), "picurl": a.get("picurl", "")} for a in payload.get("articles", [])
            ]}
        if msgtype in ("image", "voice", "video"):
            return self._media_item(msgtype, payload.get("media_id", ""))
        if msgtype == "mpnews":
            state, media_id = self.platform.state, payload.get("media_id")
            stored = state["news"].get(media_id) or state["drafts"].get(media_id) or {}
            items = entry.get("news_item") or stored.get("news_item") or []
            # A broadcast's articles live at their article URLs once sent (mass["article_urls"]).
            urls = entry.get("article_urls") or [i.get("url", "") for i in items]
            return {"type": "news", "articles": [
                {"title": i.get("title", ""), "description": i.get("digest", ""),
                 "url": urls[n] if n < len(urls) else "", "picurl": i.get("thumb_url", "")}
                for n, i in enumerate(items)
            ]}
        if msgtype == "mpnewsarticle":
            article = self.platform.state["articles"].get(payload.get("article_id"), {})
            items = article.get("news_item", [])
            return {"type": "news", "articles": [
                {"title": i.get("title", ""), "description": i.get("digest", ""), "url": i.get("url", ""),
                 "picurl": i.get("thumb_url", "")} for i in items[:1]
            ]}
        return _text_item(f"[{msgtype}] {json.dumps(payload, ensure_ascii=False)[:200]}")

    def _media_item(self, msgtype: str, media_id: str) -> dict:
        if msgtype == "image":
            material = self.platform.state["materials"].get(media_id) or {}
            return {"type": "image", "media_id": media_id, "image_url": material.get("url", "")}
        return _text_item(TEXTS["media"].get(msgtype, f"[{msgtype}]"))

    def _reply_item(self, xml: str) -> dict | None:
        """A passive reply as a chat item; None for `success`/empty (nothing shown, as in WeChat)."""
        text = xml.strip()
        if text in ("", "success"):
            return None
        try:
            msg = xmltodict.parse(text)["xml"]
        except Exception:  # anything unparsable is what WeChat calls "unavailable"
            return {"side": "system", "type": "error", "text": TEXTS["unavailable"]}
        msgtype = (msg.get("MsgType") or "").lower()
        if msgtype == "text":
            return {"side": "account", **_text_item(msg.get("Content") or "")}
        if msgtype == "news":
            items = (msg.get("Articles") or {}).get("item") or []
            items = items if isinstance(items, list) else [items]
            return {"side": "account", "type": "news", "articles": [
                {"title": i.get("Title") or "", "description": i.get("Description") or "",
                 "url": i.get("Url") or "", "picurl": i.get("PicUrl") or ""} for i in items
            ]}
        if msgtype == "transfer_customer_service":
            return {"side": "system", "type": "notice", "text": TEXTS["transfer"]}
        if msgtype in ("image", "voice", "video"):
            media = msg.get(msgtype.capitalize()) or {}
            return {"side": "account", **self._media_item(msgtype, media.get("MediaId") or "")}
        if msgtype == "music":
            return {"side": "account", **_text_item(TEXTS["media"]["music"])}
        return {"side": "system", "type": "error", "text": TEXTS["unavailable"]}

    # --- acting ---------------------------------------------------------------------------------

    def create_follower(self, openid: str = "") -> str:
        openid = openid or "o" + secrets.token_urlsafe(21)[:27]
        if not (1 <= len(openid) <= 64) or openid == PLATFORM_SENDER:
            raise ValueError("openid must be 1–64 characters")
        self.platform.set_follower(openid, subscribed=self.subscribed(openid))
        return openid

    async def send_text(self, openid: str, text: str) -> dict:
        if not self.subscribed(openid):
            raise ValueError(TEXTS["not_following"])
        chat = self._chat(openid)
        first = self._add(chat, side="follower", type="text", text=text)
        xml = text_message(self.platform.wechat.account_id, openid, text, next(self._msg_ids),
                           int(self.platform.clock.time()))
        result = await self.platform.delivery().deliver(xml)
        return self._answered(openid, chat, first["seq"], result, show_reply=True)

    async def event(self, openid: str, event: str, key: str = "") -> dict:
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r} (one of {', '.join(EVENTS)})")
        if event != "subscribe" and not self.subscribed(openid):
            raise ValueError(TEXTS["not_following"])
        chat = self._chat(openid)
        notice = {
            "subscribe": TEXTS["followed"], "unsubscribe": TEXTS["unfollowed"],
            "click": TEXTS["clicked"].format(name=self.menu_name(key, event)),
            "view": TEXTS["viewed"].format(name=self.menu_name(key, event)),
        }[event]
        first = self._add(chat, side="system", type="notice", text=notice)
        xml = event_message(self.platform.wechat.account_id, openid, EVENTS[event],
                            int(self.platform.clock.time()), key if event in ("click", "view") else None)
        result = await self.platform.delivery().deliver(xml)
        # WeChat shows nothing for an answer to an unsubscribe or a VIEW (the page is already open).
        return self._answered(openid, chat, first["seq"], result, show_reply=event in ("subscribe", "click"))

    def _answered(self, openid: str, chat: Chat, since: int, result: DeliveryResult, show_reply: bool) -> dict:
        if result.attempts > 1:
            self._add(chat, side="system", type="notice", text=TEXTS["retried"].format(n=result.attempts - 1))
        if not result.ok:
            self._add(chat, side="system", type="error", text=TEXTS["unavailable"])
        elif show_reply and (item := self._reply_item(result.reply)) is not None:
            self._add(chat, **item)
        self._collect_inbox(openid, chat)
        return {"ok": result.ok, "attempts": result.attempts, "error": result.error,
                "status": result.status, "items": [i for i in chat.items if i["seq"] >= since]}


# --- HTTP -------------------------------------------------------------------------------------------

SIMULATOR_KEY = web.AppKey("simulator", Simulator)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status,
                             dumps=lambda o: json.dumps(o, ensure_ascii=False))


def _json(data: Any) -> web.Response:
    return web.json_response(data, dumps=lambda o: json.dumps(o, ensure_ascii=False))


async def _body(request: web.Request) -> dict:
    try:
        data = await request.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text=json.dumps({"error": "body must be a JSON object"}),
                                 content_type="application/json")
    return data


def _openid(data: dict) -> str:
    openid = str(data.get("openid") or "").strip()
    if not openid:
        raise web.HTTPBadRequest(text=json.dumps({"error": "openid is required"}), content_type="application/json")
    return openid


async def page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "simulator.html")


async def api_state(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR_KEY]
    return _json({"account": sim.account(), "mode": sim.platform.settings.sandbox.mode,
                  "followers": sim.followers()})


async def api_create_follower(request: web.Request) -> web.Response:
    data = await _body(request)
    try:
        openid = request.app[SIMULATOR_KEY].create_follower(str(data.get("openid") or "").strip())
    except ValueError as e:
        return _error(400, str(e))
    return _json({"openid": openid})


async def api_chat(request: web.Request) -> web.Response:
    openid = request.query.get("openid", "")
    if not openid:
        return _error(400, "openid is required")
    try:
        after = int(request.query.get("after", "0"))
    except ValueError:
        return _error(400, "after must be a number")
    return _json(request.app[SIMULATOR_KEY].chat(openid, after))


async def api_send(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR_KEY]
    data = await _body(request)
    openid, text = _openid(data), str(data.get("text") or "")
    if not text.strip():
        return _error(400, "text is empty")
    try:
        if data.get("follow_first") and not sim.subscribed(openid):
            sim.create_follower(openid)
            followed = await sim.event(openid, "subscribe")
            sent = await sim.send_text(openid, text)
            sent["items"] = sim.chat(openid, followed["items"][0]["seq"] - 1)["items"]
            return _json(sent)
        return _json(await sim.send_text(openid, text))
    except ValueError as e:
        return _error(409, str(e))


async def api_event(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR_KEY]
    data = await _body(request)
    openid = _openid(data)
    try:
        if data.get("event") == "subscribe":
            sim.create_follower(openid)
        return _json(await sim.event(openid, str(data.get("event") or ""), str(data.get("key") or "")))
    except ValueError as e:
        return _error(409, str(e))


def setup(app: web.Application) -> None:
    """Add the simulator to the sandbox app (sandbox.app calls this)."""
    app[SIMULATOR_KEY] = Simulator(app[PLATFORM_KEY])
    app.router.add_get("/simulator", page)
    app.router.add_static("/simulator/static", STATIC)
    app.router.add_get("/simulator/api/state", api_state)
    app.router.add_post("/simulator/api/followers", api_create_follower)
    app.router.add_get("/simulator/api/chat", api_chat)
    app.router.add_post("/simulator/api/send", api_send)
    app.router.add_post("/simulator/api/event", api_event)
