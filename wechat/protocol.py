"""WeChat's push protocol: signatures, the timestamp window, AES envelopes and parsing.

Signatures are compared in constant time (wechatpy compares with `!=`), and every failure is a
`Rejected` carrying the HTTP status the webhook answers with: 403 for anything unauthenticated,
400 for a body that is not a WeChat message (消息推送,
https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/message-push.html, and 消息加解密说明).

`parse()` is also where a message is made safe for every later step: the fields those steps read
are plain text of bounded size (a nested, repeated or oversized element is refused), and a text
message whose content is missing or blank is a valid, empty text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import struct
import xml.etree.ElementTree as ET
from typing import Any

import xmltodict
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.events import EVENT_TYPES
from wechatpy.messages import MESSAGE_TYPES, UnknownMessage

import wechat.events  # noqa: F401 - registers the job-finish event types with wechatpy's parser
from core.config import WeChatSettings

# What WeChat puts in FromUserName / ToUserName: an OpenID (28 characters), the account's 原始ID,
# or a platform sender such as "mphelper". 64 is the width of the openid columns.
MAX_ID = 64
# CreateTime is Unix seconds; MsgId/MsgID a 64-bit integer (at most 20 digits).
MAX_DIGITS = {"CreateTime": 12, "MsgId": 20, "MsgID": 20}
# The fields later steps read as text (wechatpy's accessors, the router, the log, the dedupe key).
# A nested or repeated element there is not something WeChat sends.
TEXT_FIELDS = (
    "ToUserName", "FromUserName", "CreateTime", "MsgType", "MsgId", "MsgID", "Content", "Event",
    "EventKey", "Ticket", "MediaId", "PicUrl", "Format", "Recognition", "ThumbMediaId", "Location_X",
    "Location_Y", "Scale", "Label", "Title", "Description", "Url", "Latitude", "Longitude",
    "Precision", "Status", "MsgDataId", "Idx",
)


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
    # Unix seconds in digits: anything longer is no time WeChat sends (and 400 nines overflow a float).
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= MAX_DIGITS["CreateTime"]):
        raise Rejected(403, "timestamp is not a number")
    if abs(now - int(timestamp)) > window:
        raise Rejected(403, "timestamp outside the window")


def body_digest(body: bytes) -> str:
    """What a signed query string is remembered with: WeChat's retries repeat query and body together."""
    return hashlib.blake2b(body, digest_size=8).hexdigest()


# A safe-mode body as WeChat sends it, read without a parser (a third of a message's parsing): the
# account's ID and the base64 ciphertext, each in CDATA, XML's own whitespace between. Anything else
# (compatible mode's fields, other characters, a declaration, a BOM) goes to the parsers.
_SAFE_BODY = re.compile(
    rb"[ \t\r\n]*<xml>[ \t\r\n]*(?:<ToUserName><!\[CDATA\[[A-Za-z0-9_@.-]*\]\]></ToUserName>[ \t\r\n]*)?"
    rb"<Encrypt><!\[CDATA\[([A-Za-z0-9+/=]+)\]\]></Encrypt>[ \t\r\n]*</xml>[ \t\r\n]*"
)


class Envelope:
    """Safe/compatible mode: the AES envelope around a message and around our reply."""

    def __init__(self, wechat: WeChatSettings) -> None:
        self.token = wechat.token
        self.appid = wechat.appid.encode()
        self._crypto = WeChatCrypto(wechat.token, wechat.encoding_aes_key, wechat.appid)
        self._cipher = PrpCrypto(self._crypto.key).cipher

    def open(self, body: bytes, query: Any) -> str:
        """The decrypted message XML: 403 unless `msg_signature`, the key and the AppID are right;
        400 for what is not an envelope, or a message inside that is not UTF-8."""
        if isinstance(body, bytes) and (shaped := _SAFE_BODY.fullmatch(body)) is not None:
            encrypt = shaped[1].decode("ascii")
        else:
            try:
                outer = flat_fields(body) or xmltodict.parse(body)["xml"]
                encrypt = outer["Encrypt"]
            except Exception:
                raise Rejected(400, "not an encrypted WeChat message") from None
        if not isinstance(encrypt, str):
            raise Rejected(400, "not an encrypted WeChat message")
        expected = sign(self.token, query.get("timestamp", ""), query.get("nonce", ""), encrypt)
        if not same(expected, query.get("msg_signature", "")):
            raise Rejected(403, "bad msg_signature")
        # wechatpy's PrpCrypto.decrypt, unrolled so that a message that is authentic but not UTF-8
        # is told apart (400) from a ciphertext that does not open (403). Layout (消息加解密说明):
        # 16 random bytes, 4-byte length, message, AppID, PKCS#7 padding to 32 bytes.
        try:
            plain = self._cipher.decrypt(base64.b64decode(encrypt, validate=True))
            pad = plain[-1]
            if not 1 <= pad <= 32:
                raise ValueError("bad padding")
            content = plain[16:-pad]
            (length,) = struct.unpack(">I", content[:4])
            xml, appid = content[4:4 + length], content[4 + length:]
        except Exception:
            raise Rejected(403, "ciphertext does not open with our key") from None
        if len(xml) != length or not hmac.compare_digest(appid, self.appid):
            raise Rejected(403, "ciphertext does not open with our key and AppID")
        try:
            return xml.decode("utf-8")
        except UnicodeDecodeError:
            raise Rejected(400, "message is not UTF-8") from None

    def seal(self, xml: str, nonce: str, timestamp: str) -> str:
        """The reply in its envelope, as wechatpy's WeChatCrypto.encrypt_message makes it (the same
        layout as `open` reads, the same XML), with the cipher made once: wechatpy built one and drew
        16 random letters one at a time for every reply, three times the cost of the encryption."""
        text = xml.encode("utf-8")
        plain = secrets.token_hex(8).encode() + struct.pack(">I", len(text)) + text + self.appid
        pad = 32 - len(plain) % 32
        encrypt = base64.b64encode(self._cipher.encrypt(plain + bytes((pad,)) * pad)).decode()
        return _SEALED.format(encrypt=encrypt, signature=sign(self.token, timestamp, nonce, encrypt),
                              timestamp=timestamp, nonce=nonce)


# wechatpy's envelope of a reply (wechatpy/crypto/__init__.py, BaseWeChatCrypto._encrypt_message).
_SEALED = """<xml>
<Encrypt><![CDATA[{encrypt}]]></Encrypt>
<MsgSignature><![CDATA[{signature}]]></MsgSignature>
<TimeStamp>{timestamp}</TimeStamp>
<Nonce><![CDATA[{nonce}]]></Nonce>
</xml>"""


def fields(message: Any) -> dict:
    """A parsed message's XML fields as the parser read them (the one place that reads wechatpy's
    private `_data`)."""
    return message._data


def flat_fields(xml: str | bytes) -> dict | None:
    """The fields of a flat `<xml>` (every element a leaf without attributes: what WeChat sends for
    messages and most events) as xmltodict would give them, read by the C parser (three times
    faster); None for anything else, which xmltodict reads as before: nested or repeated fields,
    attributes, namespaces, comments, processing instructions, and any DOCTYPE (whose entity
    declarations xmltodict refuses before anything is expanded)."""
    if isinstance(xml, str) and (found := _scanned(xml)) is not None:
        return found
    mark, cdata, pi = ("<!", "<![CDATA[", "<?") if isinstance(xml, str) else (b"<!", b"<![CDATA[", b"<?")
    if xml.count(mark) != xml.count(cdata) or pi in xml:
        return None
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return None
    if root.tag != "xml" or root.attrib or (root.text and root.text.strip()):
        return None
    data: dict[str, str | None] = {}
    for child in root:
        tag = child.tag
        if len(child) or child.attrib or tag in data or "{" in tag or (child.tail and child.tail.strip()):
            return None
        text = child.text
        data[tag] = (text.strip() or None) if text else None  # xmltodict's strip_whitespace
    return data


# What WeChat sends, read without a parser (half of flat_fields' time): `<xml>`, then elements whose
# text is one CDATA section or a number, XML's whitespace between. Anything else, and any body with
# what the parser would change or refuse (a carriage return, a character XML does not allow), goes
# to the C parser: the fields are the same either way (tests/test_webhook_protocol_flat.py).
_OPEN = re.compile(r"[ \t\n]*<xml>")
_FIELD = re.compile(r"[ \t\n]*<([A-Za-z_][A-Za-z0-9_]*)>(?:<!\[CDATA\[(.*?)\]\]>|([0-9.-]*))</\1>", re.S)
_CLOSE = re.compile(r"[ \t\n]*</xml>[ \t\n]*")
_UNSCANNED = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")


def _scanned(xml: str) -> dict | None:
    if (opened := _OPEN.match(xml)) is None or _UNSCANNED.search(xml) is not None:
        return None
    data: dict[str, str | None] = {}
    at = opened.end()
    while (field := _FIELD.match(xml, at)) is not None:
        tag, text, number = field.groups()
        if tag in data or (text is not None and "]]>" in text):  # repeated, or CDATA sections joined
            return None
        data[tag] = ((text if number is None else number).strip() or None)  # xmltodict's strip_whitespace
        at = field.end()
    return data if _CLOSE.fullmatch(xml, at) is not None else None


def _message(data: dict) -> Any:
    """The wechatpy message for the fields, as wechatpy.parse_message makes it from its own parse."""
    message_type = data["MsgType"].lower()
    if message_type != "event" and not message_type.startswith("device_"):
        return MESSAGE_TYPES.get(message_type, UnknownMessage)(data)
    event_type = data["Event"].lower() if "Event" in data else None
    if event_type is None and message_type.startswith("device_"):
        event_type = message_type
    elif message_type.startswith("device_"):
        event_type = f"device_{event_type}"
    if event_type == "subscribe" and data.get("EventKey"):
        event_key = data["EventKey"]
        if event_key.startswith(("scanbarcode|", "scanimage|")):
            event_type = data["Event"] = "subscribe_scan_product"
        elif event_key.startswith("qrscene_"):  # subscribed by scanning a QR code with a scene
            event_type = data["Event"] = "subscribe_scan"
            data["EventKey"] = event_key[len("qrscene_"):]
    return EVENT_TYPES.get(event_type, UnknownMessage)(data)


def parse(xml: str | bytes) -> Any:
    """A wechatpy message (or one of our typed events); 400 for anything else.

    xmltodict refuses entity declarations ("entities are disabled"), so a billion-laughs or
    external-entity body fails here without expanding anything (tests/test_webhook_protocol.py sends both)."""
    try:
        if isinstance(xml, bytes):
            xml = xml.decode("utf-8")
        message = _message(flat_fields(xml) or xmltodict.parse(xml)["xml"])
        data = fields(message)
        for field in TEXT_FIELDS:
            if isinstance(data.get(field), dict | list):
                raise ValueError(f"{field} is not text")
        for field, digits in MAX_DIGITS.items():
            value = data.get(field)
            if value is not None and not (value.isascii() and value.isdigit() and len(value) <= digits):
                raise ValueError(f"{field} is not a number")
        source = message.source
        if not isinstance(source, str) or not source or len(source) > MAX_ID or message.time is None:
            raise ValueError("no sender or time")
        if len(data.get("ToUserName") or "") > MAX_ID:
            raise ValueError("ToUserName too long")
        if message.type == "text" and data.get("Content") is None:
            # xmltodict strips whitespace (U+3000 included) to None: a blank text is an empty one.
            data["Content"] = ""
    except Exception:
        raise Rejected(400, "not a WeChat message") from None
    return message
