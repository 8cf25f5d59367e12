"""Mass send (`message/mass/sendall|send|preview|get|delete`): content and quota checks, clientmsgid
deduplication, API 群发保护 (an administrator confirms within 30 minutes or the send fails), the send
job, and MASSSENDJOBFINISH. Rules from 群发接口和原创校验
(https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from sandbox.platform.drafts import mpnews_articles
from sandbox.platform.errors import WxError
from sandbox.platform.events import deliver, mass_event_xml
from sandbox.platform.limits import (
    CLIENTMSGID_MAX_BYTES,
    CLIENTMSGID_TTL,
    PROTECTION_TIMEOUT,
    SERVICE_MASS_PER_MONTH,
    SUBSCRIPTION_MASS_PER_DAY,
)
from sandbox.platform.publish import new_article, require_verified

if TYPE_CHECKING:
    from sandbox.platform.core import Platform


def _mass_content(p: Platform, body: dict) -> tuple[str, Any, list[dict] | None]:
    msgtype = body.get("msgtype")
    payload = body.get(msgtype) if isinstance(msgtype, str) else None
    if msgtype not in ("mpnews", "text", "image") or not isinstance(payload, dict):
        raise WxError(40008)  # voice/mpvideo/wxcard are not simulated
    if msgtype == "mpnews":
        articles = mpnews_articles(p, payload.get("media_id"))
        if articles is None:
            raise WxError(40007)
        return msgtype, payload, articles
    if msgtype == "text":
        if not payload.get("content"):
            raise WxError(44004)
    elif payload.get("media_id") not in p.state["materials"]:
        raise WxError(40007)
    return msgtype, payload, None


def _check_clientmsgid(p: Platform, cid: Any) -> None:
    if cid is None or cid == "":
        return
    cid = str(cid)
    if len(cid.encode("utf-8")) > CLIENTMSGID_MAX_BYTES:
        raise WxError(45067)
    seen = p.state["clientmsgids"].get(cid)
    if seen is None or p.now() - seen["at"] >= CLIENTMSGID_TTL:
        return
    mass = p.state["mass"][str(seen["msg_id"])]
    # While the first send is still waiting for the administrator, a resend is "too fast" (45066);
    # otherwise WeChat answers 45065 with the first send's msg_id (unconfirmed detail: which of
    # the two a resend gets while the first is in flight; this choice keeps both reachable).
    if mass["status"] == "awaiting_confirmation":
        raise WxError(45066)
    raise WxError(45065, msg_id=mass["msg_id"], msg_data_id=mass.get("msg_data_id"))


def _month_broadcasts(p: Platform, f: dict) -> int:
    month = p.month()
    return sum(1 for b in f["broadcasts"] if p.month(b["at"]) == month)


def _check_mass_quota(p: Platform, is_to_all: bool) -> None:
    live = [m for m in p.state["mass"].values()
            if m["kind"] in ("sendall", "send") and m["status"] != "failed"]
    if p.wechat.account_type == "subscription":
        # One successful mass send per day, to all or to a tag. mass/send by openid list is
        # counted the same way (whether a subscription account may use it at all: unconfirmed).
        if sum(1 for m in live if p.day(m["created_at"]) == p.day()) >= SUBSCRIPTION_MASS_PER_DAY:
            raise WxError(45028)
    elif is_to_all:
        month = p.month()
        if sum(1 for m in live if m["is_to_all"] and p.month(m["created_at"]) == month) \
                >= SERVICE_MASS_PER_MONTH:
            raise WxError(45028)


def _recipients(p: Platform, candidates: list[str]) -> list[str]:
    if p.wechat.account_type == "subscription":
        return candidates
    # Service accounts: each follower receives at most 4 mass messages per calendar month.
    return [o for o in candidates
            if _month_broadcasts(p, p.state["followers"][o]) < SERVICE_MASS_PER_MONTH]


def _start_mass(p: Platform, kind: str, body: dict, candidates: list[str], is_to_all: bool,
                tag_id: int | None) -> dict:
    msgtype, payload, articles = _mass_content(p, body)
    _check_mass_quota(p, is_to_all)
    msg_id = p.next_id()
    msg_data_id = p.next_id() if msgtype == "mpnews" else None
    now = p.now()
    protected = is_to_all and p.state["options"]["broadcast_protection"]
    mass = {
        "msg_id": msg_id, "msg_data_id": msg_data_id, "kind": kind, "is_to_all": is_to_all,
        "tag_id": tag_id, "msgtype": msgtype, "payload": payload,
        "media_id": payload.get("media_id"), "news_item": copy.deepcopy(articles),
        "clientmsgid": str(body.get("clientmsgid") or ""),
        "send_ignore_reprint": int(body.get("send_ignore_reprint") or 0),
        "status": "awaiting_confirmation" if protected else "sending",
        "confirm_deadline": now + PROTECTION_TIMEOUT if protected else None,
        "created_at": now, "finished_at": None, "total_count": len(candidates),
        "recipients": _recipients(p, candidates), "article_id": None, "article_urls": [],
        "deleted_idx": [],
    }
    p.state["mass"][str(msg_id)] = mass
    if mass["clientmsgid"]:
        p.state["clientmsgids"][mass["clientmsgid"]] = {"msg_id": msg_id, "at": now}
    if not protected:
        p.spawn(finish_mass(p, str(msg_id)))
    result = {"errmsg": "send job submission success", "errcode": 0, "msg_id": msg_id}
    if msg_data_id is not None:
        result["msg_data_id"] = msg_data_id
    return result


def mass_sendall(p: Platform, query: dict, body: dict, files: dict) -> dict:
    require_verified(p)
    _check_clientmsgid(p, body.get("clientmsgid"))
    flt = body.get("filter")
    if not isinstance(flt, dict):
        raise WxError(47001)
    is_to_all = bool(flt.get("is_to_all"))
    tag_id = None
    followers = [f for f in p.state["followers"].values() if f["subscribed"]]
    if not is_to_all:
        tag_id = flt.get("tag_id")
        if tag_id is None or str(tag_id) not in p.state["tags"]:
            raise WxError(45159)  # code for an unknown tag: unconfirmed
        followers = [f for f in followers if int(tag_id) in f["tags"]]
    return _start_mass(p, "sendall", body, [f["openid"] for f in followers], is_to_all,
                       int(tag_id) if tag_id is not None else None)


def mass_send(p: Platform, query: dict, body: dict, files: dict) -> dict:
    require_verified(p)
    _check_clientmsgid(p, body.get("clientmsgid"))
    touser = body.get("touser")
    if not isinstance(touser, list) or not 2 <= len(touser) <= 10_000:
        raise WxError(40130)
    subscribed = [o for o in dict.fromkeys(touser)
                  if (f := p.follower(o)) is not None and f["subscribed"]]
    return _start_mass(p, "send", body, subscribed, False, None)


def mass_preview(p: Platform, query: dict, body: dict, files: dict) -> dict:
    openid = body.get("touser")
    if body.get("towxname"):
        raise WxError(40003, "towxname preview is not simulated; use touser")
    f = p.follower(openid or "")
    if f is None:
        raise WxError(40003)
    if not f["subscribed"]:
        raise WxError(43004)
    msgtype, payload, articles = _mass_content(p, body)
    msg_id = p.next_id()
    p.state["previews"].append({"msg_id": msg_id, "at": p.now(), "openid": openid,
                                "msgtype": msgtype, "payload": payload,
                                "news_item": copy.deepcopy(articles)})
    return {"errmsg": "preview success", "errcode": 0, "msg_id": msg_id}


async def finish_mass(p: Platform, msg_id: str) -> None:
    await p.job_wait()
    mass = p.state["mass"].get(msg_id)
    if mass is None or mass["status"] != "sending":
        return
    now = p.now()
    if mass["news_item"]:
        article_id, urls = new_article(p, "mass", msg_id, mass["news_item"])
        mass.update(article_id=article_id, article_urls=urls)
    for openid in mass["recipients"]:
        f = p.follower(openid)
        if f is not None:
            f["broadcasts"].append({"msg_id": mass["msg_id"], "at": now})
    mass.update(status="sent", finished_at=now)
    if mass["is_to_all"] and mass["msgtype"] == "mpnews":
        # After a successful send to all the media_id becomes invalid and the draft is deleted.
        p.state["drafts"].pop(mass["media_id"], None)
    p.changed()
    await _deliver_mass_event(p, msg_id)


async def _deliver_mass_event(p: Platform, msg_id: str) -> None:
    mass = p.state["mass"][msg_id]
    await deliver(p, "mass", msg_id, mass_event_xml(p.wechat.account_id, int(p.clock.time()), mass))


def confirm(p: Platform, msg_id: int) -> None:
    """The administrator confirms a broadcast held by broadcast protection."""
    mass = p.state["mass"].get(str(msg_id))
    if mass is None or mass["status"] != "awaiting_confirmation":
        raise ValueError(f"no broadcast {msg_id} awaiting confirmation")
    mass["status"] = "sending"
    p.changed()
    p.spawn(finish_mass(p, str(msg_id)))


def expire_unconfirmed(p: Platform) -> None:
    """Broadcasts whose confirmation did not come within 30 minutes fail (and say so by event)."""
    now = p.now()
    for mid, mass in p.state["mass"].items():
        if mass["status"] == "awaiting_confirmation" and now >= mass["confirm_deadline"]:
            mass.update(status="failed", finished_at=now, fail_reason="broadcast protection: not confirmed in 30 min")
            p.changed()
            p.spawn(_deliver_mass_event(p, mid))


def _mass(p: Platform, body: dict) -> dict:
    mass = p.state["mass"].get(str(body.get("msg_id") or ""))
    if mass is None:
        raise WxError(40007)  # unknown msg_id: code unconfirmed
    return mass


def mass_get(p: Platform, query: dict, body: dict, files: dict) -> dict:
    mass = _mass(p, body)
    status = {"awaiting_confirmation": "SENDING", "sending": "SENDING", "sent": "SEND_SUCCESS",
              "failed": "SEND_FAIL", "deleted": "DELETE"}[mass["status"]]
    return {"msg_id": mass["msg_id"], "msg_status": status}


def mass_delete(p: Platform, query: dict, body: dict, files: dict) -> dict:
    mass = _mass(p, body)
    if mass["status"] not in ("sent", "deleted"):
        raise WxError(40035, "only a sent broadcast can be deleted")
    idx = int(body.get("article_idx") or 0)  # 1-based; 0 = the whole message
    article = p.state["articles"].get(mass["article_id"] or "")
    if article is not None:
        for i, item in enumerate(article["news_item"]):
            if idx in (0, i + 1):
                item["is_deleted"] = True
    if idx == 0 or article is None or all(i["is_deleted"] for i in article["news_item"]):
        mass["status"] = "deleted"
    else:
        mass["deleted_idx"].append(idx)
    return {}


ENDPOINTS = {
    "message/mass/sendall": mass_sendall,
    "message/mass/send": mass_send,
    "message/mass/preview": mass_preview,
    "message/mass/get": mass_get,
    "message/mass/delete": mass_delete,
}
