"""Delivering a message to the bot's webhook exactly as WeChat does: the query carries
`signature, timestamp, nonce, openid` (+ `encrypt_type=aes, msg_signature` in compatible/safe mode);
safe mode sends only ToUserName + Encrypt, compatible mode the plaintext fields and Encrypt. Without an
answer within 5 s the same body is sent again, up to 3 retries. The decrypted reply is returned.
Rules from 消息推送 (https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/message-push.html),
被动回复用户消息 (https://developers.weixin.qq.com/doc/offiaccount/en/Message_Management/Passive_user_reply_message.html)
and 消息加解密 (https://developers.weixin.qq.com/doc/service/guide/dev/push/encryption.html).

Used by the platform (PUBLISHJOBFINISH / MASSSENDJOBFINISH), the follower simulator and `sandbox say`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import aiohttp
import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from core.clock import Clock

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5.0  # WeChat drops the connection after 5 s and sends again
MAX_RETRIES = 3

# A follower's message or event → the kind of customer-service window it opens (客服消息,
# https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Customer_Service_Messages.html).
# VIEW, LOCATION events and unknown events open none.
_EVENT_KINDS = {
    "subscribe": "subscribe",
    "scan": "scan",
    "click": "click",
    "scancode_push": "click",
    "scancode_waitmsg": "click",
    "unsubscribe": "unsubscribe",
}


def xml_value(tag: str, value: Any) -> str:
    """One element: strings in CDATA, numbers bare, a list of (tag, value) pairs nested."""
    if isinstance(value, list):
        return f"<{tag}>" + "".join(xml_value(t, v) for t, v in value) + f"</{tag}>"
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int | float):
        return f"<{tag}>{value}</{tag}>"
    text = str(value).replace("]]>", "]]]]><![CDATA[>")
    return f"<{tag}><![CDATA[{text}]]></{tag}>"


def build_xml(fields: list[tuple[str, Any]]) -> str:
    return xml_value("xml", fields)


def text_message(account_id: str, openid: str, content: str, msg_id: int, create_time: int) -> str:
    return build_xml([
        ("ToUserName", account_id), ("FromUserName", openid), ("CreateTime", create_time),
        ("MsgType", "text"), ("Content", content), ("MsgId", msg_id),
    ])


def event_message(account_id: str, openid: str, event: str, create_time: int, key: str | None = None,
                  extra: list[tuple[str, Any]] | None = None) -> str:
    fields: list[tuple[str, Any]] = [
        ("ToUserName", account_id), ("FromUserName", openid), ("CreateTime", create_time),
        ("MsgType", "event"), ("Event", event),
    ]
    if key is not None:
        fields.append(("EventKey", key))
    return build_xml(fields + (extra or []))


def follower_action_of(xml: str) -> tuple[str, str] | None:
    """(openid, window kind) for a follower-originated message, None for anything else."""
    try:
        msg = xmltodict.parse(xml)["xml"]
    except Exception:  # not our business to validate here
        return None
    openid = msg.get("FromUserName") or ""
    msg_type = (msg.get("MsgType") or "").lower()
    if not openid or not msg_type:
        return None
    if msg_type != "event":
        return openid, "message"
    kind = _EVENT_KINDS.get((msg.get("Event") or "").lower())
    return (openid, kind) if kind else None


@dataclass
class DeliveryResult:
    status: int | None  # HTTP status of the answered attempt; None when no attempt was answered
    body: str  # raw response body
    reply: str  # decrypted reply XML, or "" / "success"
    attempts: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and not self.error


class WebhookDelivery:
    """Signs, encrypts (compatible/safe) and POSTs XML to the bot's webhook, the way WeChat does."""

    def __init__(
        self,
        *,
        url: str,
        token: str,
        appid: str,
        encoding_aes_key: str = "",
        mode: str = "safe",
        http: aiohttp.ClientSession,
        clock: Clock | None = None,
        retry_after: float = RETRY_AFTER_SECONDS,
        max_retries: int = MAX_RETRIES,
        on_follower_action: Callable[[str, str], None] | None = None,
    ) -> None:
        if mode != "plain" and not encoding_aes_key:
            log.warning("sandbox mode %s needs [wechat] encoding_aes_key; delivering in plain mode", mode)
            mode = "plain"
        self.url = url
        self.token = token
        self.appid = appid
        self.mode = mode
        self.http = http
        self.clock = clock or Clock()
        self.retry_after = retry_after
        self.max_retries = max_retries
        self.on_follower_action = on_follower_action
        self.crypto = WeChatCrypto(token, encoding_aes_key, appid) if mode != "plain" else None

    def sign(self, *parts: str) -> str:
        signer = WeChatSigner()
        signer.add_data(*parts)
        return signer.signature

    def prepare(self, xml: str, openid: str = "") -> tuple[dict[str, str], str]:
        """(query, body) of one delivery; retries reuse both, as WeChat does."""
        # Real time, not the platform's shifted clock: the bot checks freshness against its own clock.
        timestamp = str(int(self.clock.time()))
        nonce = str(secrets.randbelow(10**10))
        query = {"signature": self.sign(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
        if openid:
            query["openid"] = openid
        if self.crypto is None:
            return query, xml
        envelope = xmltodict.parse(self.crypto.encrypt_message(xml, nonce, timestamp))["xml"]
        encrypted = envelope["Encrypt"]
        query["encrypt_type"] = "aes"
        query["msg_signature"] = self.sign(self.token, timestamp, nonce, encrypted)
        if self.mode == "safe":
            to_user = xmltodict.parse(xml)["xml"].get("ToUserName", "")
            body = build_xml([("ToUserName", to_user), ("Encrypt", encrypted)])
        else:  # compatible: every plaintext field plus Encrypt
            body = xml.replace("</xml>", f"<Encrypt><![CDATA[{escape(encrypted)}]]></Encrypt></xml>")
        return query, body

    def decrypt_reply(self, body: str) -> str:
        text = body.strip()
        if self.crypto is None or not text.startswith("<") or "<Encrypt>" not in text:
            return body
        envelope = xmltodict.parse(text)["xml"]
        return self.crypto.decrypt_message(
            text, envelope.get("MsgSignature"), envelope.get("TimeStamp"), envelope.get("Nonce")
        )

    async def deliver(self, xml: str, *, follower: bool = True) -> DeliveryResult:
        """POST one message (retrying like WeChat) and return the bot's decrypted reply.
        `follower=True` records the follower's action first, so the bot may answer through the
        customer-service API while handling it."""
        action = follower_action_of(xml) if follower else None
        openid = action[0] if action else ""
        if action and self.on_follower_action is not None:
            self.on_follower_action(*action)
        query, body = self.prepare(xml, openid)
        timeout = aiohttp.ClientTimeout(total=self.retry_after)
        last_error = ""
        for attempt in range(1, self.max_retries + 2):
            started = self.clock.monotonic()
            try:
                async with self.http.post(
                    self.url, params=query, data=body.encode("utf-8"),
                    headers={"Content-Type": "text/xml"}, timeout=timeout,
                ) as resp:
                    text = await resp.text()
            except (TimeoutError, aiohttp.ClientError) as e:
                last_error = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
                log.info("delivery to %s attempt %d: %s", self.url, attempt, last_error)
                if attempt <= self.max_retries:  # a refused connection is retried on the same beat
                    await self.clock.sleep(self.retry_after - (self.clock.monotonic() - started))
                continue
            if resp.status != 200:
                return DeliveryResult(resp.status, text, "", attempt, f"HTTP {resp.status}")
            try:
                reply = self.decrypt_reply(text)
            except Exception as e:  # a bad reply is reported, not raised
                return DeliveryResult(resp.status, text, "", attempt, f"undecryptable reply: {e}")
            return DeliveryResult(resp.status, text, reply, attempt)
        return DeliveryResult(None, "", "", self.max_retries + 1, last_error or "no answer")
