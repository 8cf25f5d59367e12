"""Replies → XML (被动回复用户消息,
https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html),
and the platform's limits on them (wechat/limits.py):

- A news reply to a follower's message carries 1 article, to an event at most 8.
- Text is capped at 2,048 UTF-8 bytes; longer text is split at a line, else a character, boundary
  and the caller decides where the rest goes.

The XML is written here rather than with wechatpy's reply classes because those put text into
CDATA unescaped: a follower who sends "]]>" would otherwise break the reply we echo back.
"""

from __future__ import annotations

import re
from typing import Any

from wechat.limits import NEWS_TO_EVENT, NEWS_TO_MESSAGE, TEXT_BYTES
from wechat.replies import Image, News, NewsItem, Reply, Text, TransferToCustomerService

SUCCESS = "success"  # what WeChat takes as "no passive reply; do not retry"

# Characters XML 1.0 does not allow at all (CDATA cannot carry them either).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def cdata(value: str) -> str:
    value = _ILLEGAL.sub("", value)
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def split_text(text: str, limit: int = TEXT_BYTES) -> list[str]:
    """Parts of at most `limit` UTF-8 bytes, cut after a line break where one fits, otherwise
    between characters (never inside a multi-byte character)."""
    if utf8_len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        if utf8_len(current + line) <= limit:
            current += line
            continue
        if current:
            parts.append(current)
            current = ""
        while utf8_len(line) > limit:
            cut = _fit(line, limit)
            parts.append(line[:cut])
            line = line[cut:]
        current = line
    if current:
        parts.append(current)
    return [p.rstrip("\n") or p for p in parts]


def _fit(text: str, limit: int) -> int:
    """How many leading characters of `text` fit in `limit` bytes."""
    used = 0
    for i, ch in enumerate(text):
        used += utf8_len(ch)
        if used > limit:
            return max(i, 1)
    return len(text)


def news_limit(message: Any) -> int:
    """1 article in reply to a follower's message, up to 8 in reply to an event."""
    return NEWS_TO_EVENT if getattr(message, "type", None) == "event" else NEWS_TO_MESSAGE


def fit_news(news: News, limit: int) -> News:
    return news if len(news.articles) <= limit else News(news.articles[:limit])


def _article(a: NewsItem) -> str:
    return (
        f"<item><Title>{cdata(a.title)}</Title><Description>{cdata(a.description)}</Description>"
        f"<PicUrl>{cdata(a.picurl)}</PicUrl><Url>{cdata(a.url)}</Url></item>"
    )


def to_xml(reply: Reply, to_user: str, from_user: str, create_time: int) -> str:
    """The passive reply XML. Callers have already applied the limits (text split, news cut)."""
    head = (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName><FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(create_time)}</CreateTime>"
    )
    if isinstance(reply, Text):
        body = f"<MsgType><![CDATA[text]]></MsgType><Content>{cdata(reply.content)}</Content>"
    elif isinstance(reply, News):
        items = "".join(_article(a) for a in reply.articles)
        body = (
            f"<MsgType><![CDATA[news]]></MsgType><ArticleCount>{len(reply.articles)}</ArticleCount>"
            f"<Articles>{items}</Articles>"
        )
    elif isinstance(reply, Image):
        body = f"<MsgType><![CDATA[image]]></MsgType><Image><MediaId>{cdata(reply.media_id)}</MediaId></Image>"
    elif isinstance(reply, TransferToCustomerService):
        body = "<MsgType><![CDATA[transfer_customer_service]]></MsgType>"
        if reply.kf_account:
            body += f"<TransInfo><KfAccount>{cdata(reply.kf_account)}</KfAccount></TransInfo>"
    else:
        raise TypeError(f"not a reply type: {type(reply).__name__}")
    return head + body + "</xml>"


def describe(reply: Reply) -> tuple[str, str]:
    """(type, content) of a reply for the message log."""
    if isinstance(reply, Text):
        return "text", reply.content
    if isinstance(reply, News):
        return "news", " | ".join(f"{a.title} {a.url}".strip() for a in reply.articles)
    if isinstance(reply, Image):
        return "image", reply.media_id
    return "transfer_customer_service", getattr(reply, "kf_account", "")


def to_json(reply: Reply) -> dict:
    """A reply as JSON, to hold it on the follower's row until it can be delivered."""
    if isinstance(reply, Text):
        return {"type": "text", "content": reply.content}
    if isinstance(reply, News):
        return {"type": "news", "articles": [a.__dict__ for a in reply.articles]}
    if isinstance(reply, Image):
        return {"type": "image", "media_id": reply.media_id}
    return {"type": "transfer", "kf_account": getattr(reply, "kf_account", "")}


def from_json(data: dict) -> Reply:
    kind = data.get("type")
    if kind == "text":
        return Text(data["content"])
    if kind == "news":
        return News(NewsItem(**a) for a in data["articles"])
    if kind == "image":
        return Image(data["media_id"])
    return TransferToCustomerService(data.get("kf_account", ""))
