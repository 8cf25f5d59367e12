"""Build what WeChat sends to the webhook, exactly as WeChat signs and encrypts it, and read what
the webhook answers. For the webhook's tests and anyone else driving the real app:

    async with webhook_client(services) as hook:
        reply = await hook.send(text_xml("o_alice", "帮助"), mode="safe")
        assert reply["Content"].startswith(...)
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from xml.sax.saxutils import escape

import xmltodict
from aiohttp.test_utils import TestClient, TestServer
from wechatpy.crypto import PrpCrypto, WeChatCrypto

from core.config import Settings
from wechat.protocol import sign
from wechat.render import cdata

_msg_ids = itertools.count(int(time.time() * 1000) % 10**12 * 1000)


def next_msg_id() -> int:
    return next(_msg_ids)


def _xml(fields: dict[str, Any]) -> str:
    inner = "".join(
        f"<{k}>{v}</{k}>" if isinstance(v, int) else f"<{k}>{cdata(str(v))}</{k}>"
        for k, v in fields.items()
    )
    return f"<xml>{inner}</xml>"


def message_xml(
    openid: str, msg_type: str, fields: dict[str, Any] | None = None, *,
    msg_id: int | None = None, account: str = "gh_test00000001", create_time: int | None = None,
) -> str:
    """A follower's message of any type (text, image, voice, video, shortvideo, location, link)."""
    base = {
        "ToUserName": account, "FromUserName": openid,
        "CreateTime": int(create_time if create_time is not None else time.time()), "MsgType": msg_type,
    }
    return _xml({**base, **(fields or {}), "MsgId": msg_id if msg_id is not None else next_msg_id()})


def text_xml(openid: str, content: str, **kw) -> str:
    return message_xml(openid, "text", {"Content": content}, **kw)


def event_xml(
    openid: str, event: str, key: str | None = None, extra: dict[str, Any] | None = None, *,
    account: str = "gh_test00000001", create_time: int | None = None, raw: str = "",
) -> str:
    """An event (subscribe, unsubscribe, SCAN, CLICK, VIEW, LOCATION, PUBLISHJOBFINISH, …);
    `raw` is appended as is (nested structures such as PublishEventInfo)."""
    fields: dict[str, Any] = {
        "ToUserName": account, "FromUserName": openid,
        "CreateTime": int(create_time if create_time is not None else time.time()),
        "MsgType": "event", "Event": event,
    }
    if key is not None:
        fields["EventKey"] = key
    fields.update(extra or {})
    return _xml(fields)[: -len("</xml>")] + raw + "</xml>"


def publish_job_finish_xml(
    publish_id: str, status: int, article_id: str = "", urls: list[str] | None = None,
    fail_idx: list[int] | None = None, sender: str = "mphelper", **kw,
) -> str:
    items = "".join(f"<item><idx>{i}</idx><article_url><![CDATA[{escape(u)}]]></article_url></item>"
                    for i, u in enumerate(urls or [], start=1))
    fails = "".join(f"<fail_idx>{i}</fail_idx>" for i in fail_idx or [])
    info = (f"<PublishEventInfo><publish_id>{publish_id}</publish_id><publish_status>{status}</publish_status>"
            f"<article_id><![CDATA[{article_id}]]></article_id>"
            f"<article_detail><count>{len(urls or [])}</count>{items}</article_detail>{fails}</PublishEventInfo>")
    return event_xml(sender, "PUBLISHJOBFINISH", raw=info, **kw)


def mass_send_job_finish_xml(
    msg_id: int, status: str = "send success", total: int = 10, filtered: int = 10, sent: int = 10,
    errors: int = 0, urls: list[str] | None = None, check_state: int = 1, sender: str = "mphelper", **kw,
) -> str:
    results = "".join(f"<item><ArticleIdx>{i}</ArticleIdx><ArticleUrl><![CDATA[{escape(u)}]]></ArticleUrl></item>"
                      for i, u in enumerate(urls or [], start=1))
    raw = (f"<CopyrightCheckResult><Count>0</Count><ResultList></ResultList><CheckState>{check_state}</CheckState>"
           f"</CopyrightCheckResult><ArticleUrlResult><Count>{len(urls or [])}</Count>"
           f"<ResultList>{results}</ResultList></ArticleUrlResult>")
    extra = {"MsgID": msg_id, "Status": status, "TotalCount": total, "FilterCount": filtered,
             "SentCount": sent, "ErrorCount": errors}
    return event_xml(sender, "MASSSENDJOBFINISH", extra=extra, raw=raw, **kw)


def signed_query(token: str, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
    ts = str(int(timestamp if timestamp is not None else time.time()))
    nonce = nonce or secrets.token_hex(5)
    return {"signature": sign(token, ts, nonce), "timestamp": ts, "nonce": nonce}


def envelope(settings: Settings, xml: str, query: dict[str, str], compatible: bool = False,
             appid: str | None = None) -> tuple[str, dict[str, str]]:
    """(body, query) for safe or compatible mode, encrypted as WeChat does."""
    w = settings.wechat
    crypto = WeChatCrypto(w.token, w.encoding_aes_key, w.appid)
    encrypt = PrpCrypto(crypto.key).encrypt(xml, appid or w.appid).decode()
    query = {**query, "encrypt_type": "aes",
             "msg_signature": sign(w.token, query["timestamp"], query["nonce"], encrypt)}
    if compatible:
        body = xml[: -len("</xml>")] + f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    else:
        to = w.account_id
        body = f"<xml><ToUserName><![CDATA[{to}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    return body, query


def open_reply(settings: Settings, body: str, query: dict[str, str]) -> str:
    """Check the reply envelope's signature and decrypt it (safe/compatible mode)."""
    w = settings.wechat
    outer = xmltodict.parse(body)["xml"]
    assert outer["MsgSignature"] == sign(w.token, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
    assert outer["Nonce"] == query["nonce"] and outer["TimeStamp"] == query["timestamp"]
    crypto = WeChatCrypto(w.token, w.encoding_aes_key, w.appid)
    return PrpCrypto(crypto.key).decrypt(outer["Encrypt"], w.appid)


def parse_reply(xml: str) -> dict[str, Any]:
    return xmltodict.parse(xml)["xml"]


class WebhookClient:
    """A test client for the webhook path with WeChat's signing."""

    def __init__(self, client: TestClient, settings: Settings, now=time.time) -> None:
        self.client = client
        self.settings = settings
        self.path = settings.server.webhook_path
        self.now = now

    async def post(self, xml: str | bytes, mode: str = "plain", query: dict | None = None):
        """POST as WeChat would; returns (status, body text, query used)."""
        q = query if query is not None else signed_query(self.settings.wechat.token, int(self.now()))
        body: str | bytes = xml
        if mode in ("safe", "compatible") and query is None:
            body, q = envelope(self.settings, xml if isinstance(xml, str) else xml.decode(), q,
                               compatible=mode == "compatible")
        resp = await self.client.post(self.path, params=q, data=body)
        return resp.status, await resp.text(), q

    async def send(self, xml: str, mode: str = "plain") -> dict[str, Any] | str:
        """The reply as a dict of its fields, or the bare body ("success") when there is none."""
        status, text, q = await self.post(xml, mode)
        assert status == 200, (status, text)
        if text in ("success", ""):
            return text
        if mode in ("safe", "compatible"):
            text = open_reply(self.settings, text, q)
        return parse_reply(text)


@asynccontextmanager
async def webhook_client(services, routers=None, now=None) -> AsyncIterator[WebhookClient]:
    """The real application (app.create_app, without the scheduler) on a loopback test server,
    started and cleaned up; routers default to app.ROUTERS."""
    from app import ROUTERS, create_app

    app = create_app(services, ROUTERS if routers is None else routers, scheduler=False)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield WebhookClient(client, services.settings, now or services.clock.time)
