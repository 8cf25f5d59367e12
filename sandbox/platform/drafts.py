"""The draft box (`draft/add|get|delete|count|batchget`) and `media/uploadnews`, which take the same
articles: each checked against WeChat's limits, its body cleaned as WeChat cleans it (scripts removed,
images not uploaded here stripped). Rules from 新建草稿
(https://developers.weixin.qq.com/doc/service/api/draftbox/draftmanage/api_draft_add). Also what an
mpnews media_id stands for (an unexpired uploadnews or a draft) and the paging the list endpoints share."""

from __future__ import annotations

import asyncio
import re
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sandbox.platform.errors import WxError
from sandbox.platform.limits import (
    AUTHOR_MAX,
    CONTENT_MAX_BYTES,
    CONTENT_MAX_CHARS,
    DIGEST_MAX,
    DRAFT_MAX_ARTICLES,
    SOURCE_URL_MAX_BYTES,
    TEMP_MEDIA_TTL,
    TITLE_MAX,
)

if TYPE_CHECKING:
    from sandbox.platform.core import Platform


def _known_image_urls(p: Platform) -> tuple[frozenset[str], frozenset[str]]:
    """(file names, hosts) of images this platform issued; a body <img> must use one of them."""
    names = set(p.state["images"])
    names.update(m["file"] for m in p.state["materials"].values() if m["type"] == "image")
    hosts = {urlsplit(p.base_url).netloc}
    hosts.update(urlsplit(i["url"]).netloc for i in p.state["images"].values())
    return frozenset(names), frozenset(hosts)


async def validate_articles(p: Platform, articles: Any, where: str) -> list[dict]:
    if not isinstance(articles, list) or not articles:
        raise WxError(44003)
    if len(articles) > DRAFT_MAX_ARTICLES:
        raise WxError(45008)
    names, hosts = _known_image_urls(p)
    items = []
    for a in articles:
        if not isinstance(a, dict):
            raise WxError(47001)
        title = a.get("title") or ""
        content = a.get("content") or ""
        if not title or not content:
            raise WxError(44003)
        if len(title) > TITLE_MAX:
            raise WxError(45003)
        if len(a.get("author") or "") > AUTHOR_MAX:
            raise WxError(45110)
        if len(a.get("digest") or "") > DIGEST_MAX:
            raise WxError(45004)
        if len(content) >= CONTENT_MAX_CHARS or len(content.encode("utf-8")) >= CONTENT_MAX_BYTES:
            raise WxError(45002)
        if len((a.get("content_source_url") or "").encode("utf-8")) > SOURCE_URL_MAX_BYTES:
            raise WxError(45005)
        thumb = p.state["materials"].get(a.get("thumb_media_id") or "")
        if thumb is None:
            raise WxError(40007)  # must be a permanent material (add_material)
        flags = {}
        for key in ("need_open_comment", "only_fans_can_comment", "show_cover_pic"):
            value = a.get(key, 0)
            if value not in (0, 1, True, False):
                raise WxError(47001)
            flags[key] = int(value)
        cleaned, stripped, scripts = await asyncio.to_thread(clean_content, content, names, hosts)
        for url in stripped:
            p.state["stripped_images"].append({"at": p.now(), "where": where, "title": title, "url": url})
        digest = a.get("digest")
        if not digest and len(articles) == 1:
            digest = _text_of(cleaned)[:54]  # WeChat's default: the first 54 characters
        items.append({
            "title": title, "author": a.get("author") or "", "digest": digest or "",
            "content": cleaned, "content_source_url": a.get("content_source_url") or "",
            "thumb_media_id": a["thumb_media_id"], "thumb_url": thumb["url"], **flags,
            "stripped_images": stripped, "scripts_removed": scripts,
        })
    return items


def clean_content(html: str, known_names: frozenset[str], hosts: frozenset[str]) -> tuple[str, list[str], int]:
    """What WeChat does to a draft's content: scripts removed, <img> whose src was not issued by this
    platform stripped. Returns (content, stripped image URLs, scripts removed). Unchanged content is
    returned verbatim (re-serialising would alter what the bot sent for no reason)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    scripts = soup.find_all("script")
    stripped = []
    for img in soup.find_all("img"):
        src = (img.get("src") or img.get("data-src") or "").strip()
        parts = urlsplit(src)
        name = parts.path.rsplit("/", 1)[-1]
        if not (parts.path.startswith("/mmbiz/") and name in known_names and parts.netloc in hosts):
            stripped.append(src)
            img.decompose()
    for s in scripts:
        s.decompose()
    if not scripts and not stripped:
        return html, [], 0
    return str(soup), stripped, len(scripts)


def _text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


async def draft_add(p: Platform, query: dict, body: dict, files: dict) -> dict:
    items = await validate_articles(p, body.get("articles"), "draft/add")
    media_id = secrets.token_urlsafe(32)
    now = int(p.now())
    for i, item in enumerate(items):
        item["url"] = f"{p.base_url}/draft/{media_id}/{i + 1}"
    p.state["drafts"][media_id] = {"media_id": media_id, "news_item": items,
                                   "create_time": now, "update_time": now}
    return {"media_id": media_id}


def draft_of(p: Platform, body: dict) -> dict:
    draft = p.state["drafts"].get(body.get("media_id") or "")
    if draft is None:
        raise WxError(40007)
    return draft


def draft_get(p: Platform, query: dict, body: dict, files: dict) -> dict:
    draft = draft_of(p, body)
    return {"news_item": public_items(draft["news_item"]), "create_time": draft["create_time"],
            "update_time": draft["update_time"]}


def draft_delete(p: Platform, query: dict, body: dict, files: dict) -> dict:
    del p.state["drafts"][draft_of(p, body)["media_id"]]
    return {}


def draft_count(p: Platform, query: dict, body: dict, files: dict) -> dict:
    return {"total_count": len(p.state["drafts"])}


def draft_batchget(p: Platform, query: dict, body: dict, files: dict) -> dict:
    offset, count = page_args(body)
    drafts = sorted(p.state["drafts"].values(), key=lambda d: d["update_time"], reverse=True)
    page = drafts[offset: offset + count]
    no_content = bool(body.get("no_content"))
    return {"total_count": len(drafts), "item_count": len(page), "item": [
        {"media_id": d["media_id"], "update_time": d["update_time"],
         "content": {"news_item": public_items(d["news_item"], no_content),
                     "create_time": d["create_time"], "update_time": d["update_time"]}}
        for d in page]}


async def uploadnews(p: Platform, query: dict, body: dict, files: dict) -> dict:
    items = await validate_articles(p, body.get("articles"), "media/uploadnews")
    media_id = secrets.token_urlsafe(32)
    now = p.now()
    p.state["news"][media_id] = {"media_id": media_id, "news_item": items, "created_at": now,
                                 "expires_at": now + TEMP_MEDIA_TTL}
    return {"type": "news", "media_id": media_id, "created_at": int(now)}


def mpnews_articles(p: Platform, media_id: Any, for_mass: bool = True) -> list[dict] | None:
    if not isinstance(media_id, str):
        return None
    news = p.state["news"].get(media_id)
    if news is not None and p.now() < news["expires_at"]:
        return news["news_item"]
    draft = p.state["drafts"].get(media_id)
    if draft is not None and (not for_mass or p.state["options"]["draft_media_for_mass"]):
        return draft["news_item"]
    return None


def page_args(body: dict) -> tuple[int, int]:
    try:
        offset, count = int(body.get("offset", 0)), int(body.get("count", 20))
    except (TypeError, ValueError):
        raise WxError(47001) from None
    if offset < 0 or not 1 <= count <= 20:
        raise WxError(40035)
    return offset, count


def public_items(items: list[dict], no_content: bool = False) -> list[dict]:
    out = []
    for item in items:
        public = {k: v for k, v in item.items() if k not in ("stripped_images", "scripts_removed")}
        if no_content:
            public.pop("content", None)
        out.append(public)
    return out


ENDPOINTS = {
    "draft/add": draft_add,
    "draft/get": draft_get,
    "draft/delete": draft_delete,
    "draft/count": draft_count,
    "draft/batchget": draft_batchget,
    "media/uploadnews": uploadnews,
}
