"""WeChat's push protocol: signatures, the timestamp window, AES envelopes and parsing.

Signatures are compared in constant time (wechatpy compares with `!=`), and every failure is a
`Rejected` carrying the HTTP status the webhook answers with: 403 for anything unauthenticated,
400 for a body that is not a WeChat message. wechat-api.md §1.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import xmltodict
from wechatpy import parse_message
from wechatpy.crypto import PrpCrypto, WeChatCrypto

import bot.events  # noqa: F401 - registers the job-finish event types with wechatpy's parser
from bot.config import WeChatSettings


class Rejected(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def sign(*parts: str) -> str:
    """WeChat's signature: SHA1 of the parts sorted and concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8", "surrogatepass")).hexdigest()


def same(expected: str, given: str) -> bool:
    """Constant-time comparison that also takes whatever a forger put in the query string."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


def verify_signature(token: str, query: Any) -> None:
    """`signature` over token, timestamp and nonce, compared in constant time."""
    signature = query.get("signature", "")
    timestamp = query.get("timestamp", "")
    nonce = query.get("nonce", "")
    if not (signature and timestamp and nonce):
        raise Rejected(403, "missing signature")
    if not same(sign(token, timestamp, nonce), signature):
        raise Rejected(403, "bad signature")


def verify_fresh(timestamp: str, now: float, window: float) -> None:
    """A replayed push carries an old timestamp; its signature alone cannot tell."""
    try:
        ts = int(timestamp)
    except ValueError:
        raise Rejected(403, "timestamp is not a number") from None
    if abs(now - ts) > window:
        raise Rejected(403, "timestamp outside the window")


class Envelope:
    """Safe/compatible mode: the AES envelope around a message and around our reply."""

    def __init__(self, wechat: WeChatSettings) -> None:
        self.token = wechat.token
        self.appid = wechat.appid
        self._crypto = WeChatCrypto(wechat.token, wechat.encoding_aes_key, wechat.appid)
        self._prp = PrpCrypto(self._crypto.key)

    def open(self, body: bytes, query: Any) -> str:
        """The decrypted message XML; 403 unless `msg_signature` and the AppID are right."""
        try:
            outer = xmltodict.parse(body)["xml"]
            encrypt = outer["Encrypt"]
        except Exception:
            raise Rejected(400, "not an encrypted WeChat message") from None
        if not isinstance(encrypt, str):
            raise Rejected(400, "not an encrypted WeChat message")
        expected = sign(self.token, query.get("timestamp", ""), query.get("nonce", ""), encrypt)
        if not same(expected, query.get("msg_signature", "")):
            raise Rejected(403, "bad msg_signature")
        try:
            return self._prp.decrypt(encrypt, self.appid)
        except Exception:
            raise Rejected(403, "ciphertext does not open with our key and AppID") from None

    def seal(self, xml: str, nonce: str, timestamp: str) -> str:
        return self._crypto.encrypt_message(xml, nonce, timestamp)


def parse(xml: str | bytes) -> Any:
    """A wechatpy message (or one of our typed events); 400 for anything else.

    xmltodict refuses entity declarations ("entities are disabled"), so a billion-laughs or
    external-entity body fails here without expanding anything (probes.md)."""
    try:
        message = parse_message(xml)
        # Fields convert lazily; touch the ones every later step relies on so bad values fail here.
        if not isinstance(message.source, str) or not message.source or message.time is None:
            raise ValueError("no sender or time")
        _ = message.id
    except Exception:
        raise Rejected(400, "not a WeChat message") from None
    return message
