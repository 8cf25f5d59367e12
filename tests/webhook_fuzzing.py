"""Hostile messages with valid signatures, for the fuzz test (tests/test_webhook_fuzz.py) and its
long form (bench/fuzz_webhook.py): hypothesis draws a message WeChat would never send — blank or
whitespace-only content, missing fields, oversized fields, nested, repeated or attributed elements,
odd encodings — and `FuzzRun.case()` sends it through the real server (plain or safe mode), then a
normal message, and checks that the server answered both as it should and that the message log
and the follower table grew by the normal message's rows."""

from __future__ import annotations

import itertools
import secrets
import time
from xml.sax.saxutils import escape

from hypothesis import strategies as st
from sqlalchemy import func, select
from wechatpy.crypto import PrpCrypto, WeChatCrypto

from store.models.webhook import Follower, MessageLog
from tests.webhook_helpers import next_msg_id, open_reply, parse_reply, signed_query, text_xml
from wechat.protocol import sign

ACCOUNT = "gh_test00000001"
BLANKS = ["", " ", "\u3000", "\t\n ", "\u3000 \u3000", "\r\n"]
EVENTS = ["subscribe", "unsubscribe", "CLICK", "VIEW", "SCAN", "LOCATION", "user_scan_product_enter_session",
          "PUBLISHJOBFINISH", "MASSSENDJOBFINISH", "no_such_event"]
TYPES = ["text", "text", "text", "event", "event", "image", "voice", "location", "link", "shortvideo", "odd", ""]
ENCODINGS = ["utf-8"] * 6 + ["utf-8-sig", "gbk", "utf-16", "latin-1", "declared-gbk"]
MUTATIONS = ["drop", "nest", "duplicate", "attribute", "blank", "huge", "escape"]

# Printable text mostly (what followers type), raw code points (controls, surrogates) sometimes.
texts_ = st.one_of(st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=120),
                   st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=120),
                   st.text(max_size=60))
ids = st.one_of(st.just("o_fuzz"), st.from_regex(r"o[A-Za-z0-9_-]{27}", fullmatch=True),
                st.text(min_size=0, max_size=90), st.sampled_from(["o" * 64, "o" * 65]))
# Mostly what WeChat sends, sometimes not: a broken value is one hostile thing among others.
def _mostly(good, *bad):
    return st.one_of(st.just(good), st.just(good), st.just(good), st.sampled_from(bad))


@st.composite
def hostile_message(draw) -> bytes:
    """The bytes of one message body (plaintext: `FuzzRun` seals it for safe mode)."""
    msg_type = draw(st.sampled_from(TYPES))
    fields: list[list] = [
        ["ToUserName", draw(st.sampled_from([ACCOUNT] * 5 + ["gh_other", ""]))],
        ["FromUserName", draw(ids)],
        ["CreateTime", draw(_mostly(str(int(time.time())), "", "x", "9" * 30, "-1", "1.5"))],
        ["MsgType", msg_type],
    ]
    if msg_type == "text":
        fields.append(["Content", draw(st.one_of(st.sampled_from(BLANKS), texts_))])
    elif msg_type == "event":
        fields += [["Event", draw(st.sampled_from(EVENTS) | texts_)], ["EventKey", draw(texts_)]]
    else:
        fields += [["MediaId", draw(texts_)], ["Label", draw(texts_)], ["Url", draw(texts_)]]
    fields.append(["MsgId", draw(_mostly(str(next_msg_id()), "9" * 25, "x", ""))])
    nested: set[int] = set()
    attributes: set[int] = set()
    escaped: set[int] = set()
    for mutation in draw(st.lists(st.sampled_from(MUTATIONS), max_size=3)):
        i = draw(st.integers(0, len(fields) - 1))
        if mutation == "drop":
            fields.pop(i)
            if not fields:
                break
        elif mutation == "nest":
            nested.add(id(fields[i]))
        elif mutation == "duplicate":
            fields.insert(i, [fields[i][0], draw(texts_)])
        elif mutation == "attribute":
            attributes.add(id(fields[i]))
        elif mutation == "blank":
            fields[i][1] = draw(st.sampled_from(BLANKS))
        elif mutation == "huge":
            fields[i][1] = fields[i][1] * draw(st.integers(50, 400)) or "长" * 5000
        elif mutation == "escape":
            escaped.add(id(fields[i]))
    parts = []
    for field in fields:
        name, value = field
        inner = escape(value) if id(field) in escaped else "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"
        if id(field) in nested:
            inner = f"<v>{inner}</v>"
        attr = ' lang="zh"' if id(field) in attributes else ""
        parts.append(f"<{name}{attr}>{inner}</{name}>")
    xml = "<xml>" + "".join(parts) + "</xml>"
    encoding = draw(st.sampled_from(ENCODINGS))
    if encoding == "declared-gbk":  # says GBK, is UTF-8
        return ('<?xml version="1.0" encoding="GBK"?>' + xml).encode("utf-8", "surrogatepass")
    if encoding == "utf-8":
        return xml.encode("utf-8", "surrogatepass")
    return xml.encode(encoding, "replace")


def seal(settings, inner: bytes, query: dict) -> tuple[bytes, dict]:
    """Safe mode: `inner` in the AES envelope with a valid msg_signature, as WeChat sends it."""
    w = settings.wechat
    encrypt = PrpCrypto(WeChatCrypto(w.token, w.encoding_aes_key, w.appid).key).encrypt(inner, w.appid).decode()
    query = {**query, "encrypt_type": "aes", "msg_signature": sign(w.token, query["timestamp"], query["nonce"], encrypt)}
    body = f"<xml><ToUserName><![CDATA[{w.account_id}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    return body.encode(), query


class FuzzRun:
    """Cases against one running webhook (`hook`, tests.webhook_helpers.WebhookClient)."""

    def __init__(self, hook, services, mode: str) -> None:
        self.hook = hook
        self.services = services
        self.mode = mode
        self._normal = itertools.count()
        self._tag = secrets.token_hex(3)  # normal followers are new in every run, on any database
        self.statuses: dict[int, int] = {}

    async def _counts(self) -> tuple[int, int]:
        async with self.services.db() as session:
            logged = await session.scalar(select(func.count()).select_from(MessageLog))
            known = await session.scalar(select(func.count()).select_from(Follower))
        return logged, known

    async def case(self, body: bytes) -> None:
        settings = self.services.settings
        query = signed_query(settings.wechat.token)
        if self.mode == "safe":
            body, query = seal(settings, body, query)
        resp = await self.hook.client.post(self.hook.path, params=query, data=body)
        text = await resp.text()
        self.statuses[resp.status] = self.statuses.get(resp.status, 0) + 1
        assert resp.status in (200, 400, 403, 413), (resp.status, text)
        assert "Traceback" not in text
        if resp.status == 200 and text != "success":
            reply = parse_reply(open_reply(settings, text, query) if self.mode == "safe" else text)
            assert reply["FromUserName"] == ACCOUNT and reply["MsgType"]

        # A normal follower's message after it: answered, and its rows reach the database.
        await self.services.messagelog.flush()
        before = await self._counts()
        openid = f"o_normal_{self._tag}_{next(self._normal)}"
        reply = await self.hook.send(text_xml(openid, "帮助"), mode=self.mode)
        assert isinstance(reply, dict) and reply["ToUserName"] == openid and reply["Content"]
        await self.services.messagelog.flush()
        logged, known = await self._counts()
        assert logged >= before[0] + 2 and known == before[1] + 1, (before, (logged, known))
