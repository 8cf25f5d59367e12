"""The events the platform pushes to the account's webhook when a job finishes: PUBLISHJOBFINISH
(发布能力, https://developers.weixin.qq.com/doc/offiaccount/Publish/Publish.html) and MASSSENDJOBFINISH
(群发接口和原创校验,
https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html),
their XML, and their delivery, recorded in the state's `deliveries`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.delivery import DeliveryResult, build_xml

if TYPE_CHECKING:
    from sandbox.platform.core import Platform

# Sender of platform events (job-finish notifications come from one system account, not a follower).
PLATFORM_SENDER = "o_platform_system_sender"


async def deliver(p: Platform, kind: str, ref: str, xml: str) -> DeliveryResult | None:
    entry = {"at": p.now(), "kind": kind, "ref": ref, "url": p.webhook_url}
    if not p.webhook_url:
        entry.update(ok=False, error="no webhook configured")
        p.state["deliveries"].append(entry)
        p.changed()
        return None
    result = await p.delivery().deliver(xml, follower=False)
    entry.update(ok=result.ok, status=result.status, attempts=result.attempts, error=result.error,
                 reply=result.reply[:2000])
    p.state["deliveries"].append(entry)
    p.changed()
    return result


def publish_event_xml(account_id: str, create_time: int, pub: dict) -> str:
    """PUBLISHJOBFINISH (the publishing page calls it FREEPUBLISHJOBFINISH; WeChat sends this name, see
    https://developers.weixin.qq.com/community/minihome/doc/00000c2a54c2a83059ecb9ba056c00). fail_idx is
    repeated per failed article, as freepublish/get lists it (that XML shape is unconfirmed)."""
    info: list[tuple[str, Any]] = [("publish_id", int(pub["publish_id"])),
                                   ("publish_status", pub["status"])]
    if pub["status"] == 0:
        info.append(("article_id", pub["article_id"]))
        info.append(("article_detail", [("count", len(pub["article_urls"]))] + [
            ("item", [("idx", i + 1), ("article_url", u)]) for i, u in enumerate(pub["article_urls"])]))
    for idx in pub["fail_idx"]:
        info.append(("fail_idx", idx))
    return build_xml([
        ("ToUserName", account_id), ("FromUserName", PLATFORM_SENDER), ("CreateTime", create_time),
        ("MsgType", "event"), ("Event", "PUBLISHJOBFINISH"), ("PublishEventInfo", info),
    ])


def mass_event_xml(account_id: str, create_time: int, mass: dict) -> str:
    """MASSSENDJOBFINISH with the counts, a CopyrightCheckResult (never a reprint here) and
    ArticleUrlResult."""
    sent = mass["status"] == "sent"
    recipients = len(mass["recipients"])
    urls = mass["article_urls"] if sent else []
    return build_xml([
        ("ToUserName", account_id), ("FromUserName", PLATFORM_SENDER), ("CreateTime", create_time),
        ("MsgType", "event"), ("Event", "MASSSENDJOBFINISH"), ("MsgID", mass["msg_id"]),
        ("Status", "send success" if sent else "send fail"),
        ("TotalCount", mass["total_count"]), ("FilterCount", recipients),
        ("SentCount", recipients if sent else 0), ("ErrorCount", 0 if sent else recipients),
        ("CopyrightCheckResult", [("Count", 0), ("ResultList", []), ("CheckState", 1)]),
        ("ArticleUrlResult", [("Count", len(urls)), ("ResultList", [
            ("item", [("ArticleIdx", i + 1), ("ArticleUrl", u)]) for i, u in enumerate(urls)])]),
    ])
