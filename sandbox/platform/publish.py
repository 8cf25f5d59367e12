"""Publishing (`freepublish/submit|get|getarticle|batchget|delete`): a submitted draft becomes an article
at its own URLs after the publish job (or fails as a fault says), then PUBLISHJOBFINISH is delivered.
Rules from 发布能力 (https://developers.weixin.qq.com/doc/offiaccount/Publish/Publish.html). The articles
a mass send creates are made here too (`new_article`)."""

from __future__ import annotations

import copy
import secrets
from typing import TYPE_CHECKING, Any

from sandbox.platform.drafts import draft_of, page_args, public_items
from sandbox.platform.errors import WxError
from sandbox.platform.events import deliver, publish_event_xml

if TYPE_CHECKING:
    from sandbox.platform.core import Platform


def require_verified(p: Platform) -> None:
    # Unverified accounts lost freepublish in 2025-07 (发布能力) and never had mass send (群发接口和原创校验).
    if not p.wechat.verified:
        raise WxError(48001)


def publish_submit(p: Platform, query: dict, body: dict, files: dict) -> dict:
    require_verified(p)
    draft = draft_of(p, body)
    # A second submit of a draft whose first publish is still running is accepted as a second
    # publish (WeChat's behaviour here is unconfirmed); duplicates are then visible in the state.
    publish_id = str(p.next_id())
    msg_data_id = p.next_id()
    p.state["publishes"][publish_id] = {
        "publish_id": publish_id, "msg_data_id": msg_data_id, "media_id": draft["media_id"],
        "news_item": copy.deepcopy(draft["news_item"]), "status": 1, "submitted_at": p.now(),
        "finished_at": None, "article_id": None, "article_urls": [], "fail_idx": [],
    }
    p.spawn(finish_publish(p, publish_id))
    return {"publish_id": publish_id, "msg_data_id": msg_data_id}


def new_article(p: Platform, source: str, ref: str, items: list[dict]) -> tuple[str, list[str]]:
    article_id = secrets.token_urlsafe(24)
    urls = [f"{p.base_url}/s/{article_id}/{i + 1}" for i in range(len(items))]
    stored = []
    for item, url in zip(items, urls, strict=True):
        stored.append({**item, "url": url, "is_deleted": False})
    p.state["articles"][article_id] = {"article_id": article_id, "source": source, "ref": ref,
                                       "news_item": stored, "update_time": int(p.now())}
    return article_id, urls


async def finish_publish(p: Platform, publish_id: str) -> None:
    await p.job_wait()
    pub = p.state["publishes"].get(publish_id)
    if pub is None or pub["status"] != 1:
        return
    fault = p.state["publish_faults"][0] if p.state["publish_faults"] else None
    if fault is not None:
        if fault["times"] is not None:
            fault["times"] -= 1
            if fault["times"] <= 0:
                p.state["publish_faults"].pop(0)
        pub.update(status=fault["status"], fail_idx=list(fault["fail_idx"]), finished_at=p.now())
    else:
        article_id, urls = new_article(p, "publish", publish_id, pub["news_item"])
        pub.update(status=0, article_id=article_id, article_urls=urls, finished_at=p.now())
        # A draft leaves the draft box once published (新建草稿).
        p.state["drafts"].pop(pub["media_id"], None)
    p.changed()
    await deliver(p, "publish", publish_id, publish_event_xml(p.wechat.account_id, int(p.clock.time()), pub))


def _publish(p: Platform, body: dict) -> dict:
    pub = p.state["publishes"].get(str(body.get("publish_id") or ""))
    if pub is None:
        raise WxError(40007)  # unknown publish_id: code unconfirmed
    return pub


def publish_get(p: Platform, query: dict, body: dict, files: dict) -> dict:
    pub = _publish(p, body)
    result: dict[str, Any] = {"publish_id": pub["publish_id"], "publish_status": pub["status"]}
    if pub["article_id"]:
        result["article_id"] = pub["article_id"]
        result["article_detail"] = {"count": len(pub["article_urls"]), "item": [
            {"idx": i + 1, "article_url": u} for i, u in enumerate(pub["article_urls"])]}
    result["fail_idx"] = pub["fail_idx"]
    return result


def _article(p: Platform, body: dict) -> dict:
    article = p.state["articles"].get(body.get("article_id") or "")
    if article is None or article["source"] != "publish":
        raise WxError(40007)
    return article


def publish_getarticle(p: Platform, query: dict, body: dict, files: dict) -> dict:
    return {"news_item": public_items(_article(p, body)["news_item"])}


def publish_batchget(p: Platform, query: dict, body: dict, files: dict) -> dict:
    offset, count = page_args(body)
    # Only free-published articles (not mass-sent ones), newest first, not wholly deleted.
    articles = [a for a in p.state["articles"].values()
                if a["source"] == "publish" and not all(i["is_deleted"] for i in a["news_item"])]
    articles.sort(key=lambda a: a["update_time"], reverse=True)
    page = articles[offset: offset + count]
    no_content = bool(body.get("no_content"))
    return {"total_count": len(articles), "item_count": len(page), "item": [
        {"article_id": a["article_id"], "update_time": a["update_time"],
         "content": {"news_item": public_items(a["news_item"], no_content)}} for a in page]}


def publish_delete(p: Platform, query: dict, body: dict, files: dict) -> dict:
    article = _article(p, body)
    index = int(body.get("index") or 0)  # 1-based; 0 = all (irreversible)
    items = article["news_item"]
    if index < 0 or index > len(items):
        raise WxError(40035)
    for i, item in enumerate(items):
        if index in (0, i + 1):
            item["is_deleted"] = True
    if all(i["is_deleted"] for i in items):
        p.state["publishes"][article["ref"]]["status"] = 5  # all deleted by the user
    return {}


ENDPOINTS = {
    "freepublish/submit": publish_submit,
    "freepublish/get": publish_get,
    "freepublish/batchget": publish_batchget,
    "freepublish/delete": publish_delete,
    "freepublish/getarticle": publish_getarticle,
}
