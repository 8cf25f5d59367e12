"""`message/custom/send`: customer-service messages, and the windows a follower's own actions open for
them (a message: 5 in 48 h; a click, subscribe or scan: 3 in 1 minute). Rules from 客服消息
(https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Customer_Service_Messages.html);
opening a window is `Platform.follower_action` (controls.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.platform.drafts import mpnews_articles
from sandbox.platform.errors import WxError
from sandbox.platform.limits import (
    KF_EVENT_QUOTA,
    KF_EVENT_WINDOW,
    KF_MESSAGE_QUOTA,
    KF_MESSAGE_WINDOW,
    KF_TEXT_MAX_BYTES,
)

if TYPE_CHECKING:
    from sandbox.platform.core import Platform

_KF_TYPES = {"text", "image", "voice", "video", "music", "news", "mpnews", "mpnewsarticle", "msgmenu",
             "wxcard", "miniprogrampage"}


def custom_send(p: Platform, query: dict, body: dict, files: dict) -> dict:
    touser = body.get("touser")
    msgtype = body.get("msgtype")
    if not touser:
        raise WxError(40003)
    if msgtype not in _KF_TYPES:
        raise WxError(40008)
    payload = body.get(msgtype)
    if not isinstance(payload, dict):
        raise WxError(47001)
    if msgtype == "text":
        content = payload.get("content") or ""
        if not content:
            raise WxError(44004)
        if len(content.encode("utf-8")) > KF_TEXT_MAX_BYTES:
            raise WxError(45002)
    elif msgtype == "news":
        articles = payload.get("articles") or []
        if not articles:
            raise WxError(44003)
        if len(articles) > 1:
            raise WxError(45008)  # outbound news: 1 article
    elif msgtype in ("image", "voice", "mpnews"):
        media_id = payload.get("media_id")
        known = mpnews_articles(p, media_id, for_mass=False) if msgtype == "mpnews" else \
            p.state["materials"].get(media_id)
        if not known:
            raise WxError(40007)
    elif msgtype == "mpnewsarticle":
        if payload.get("article_id") not in p.state["articles"]:
            raise WxError(40007)
    f = p.follower(touser)
    if f is None:
        raise WxError(40003)
    if not f["subscribed"]:
        raise WxError(43004)
    _use_window(p, f)
    p.state["cs_messages"].append({"at": p.now(), "openid": touser, "msgtype": msgtype,
                                   "payload": payload})
    return {}


def _use_window(p: Platform, f: dict) -> None:
    now = p.now()
    exhausted = False
    # The 3-per-minute window of a click/subscribe/scan is used first: it expires soonest.
    for key, span, quota in (("event_window", KF_EVENT_WINDOW, KF_EVENT_QUOTA),
                             ("msg_window", KF_MESSAGE_WINDOW, KF_MESSAGE_QUOTA)):
        window = f.get(key)
        if window and now - window["at"] < span:
            if window["used"] < quota:
                window["used"] += 1
                return
            exhausted = True
    raise WxError(45047 if exhausted else 45015)


ENDPOINTS = {"message/custom/send": custom_send}
