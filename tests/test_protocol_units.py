"""wechat/protocol.py on its own: each refusal with its status and reason, each limit at its edge,
and AES envelopes built byte by byte (padding of 1 and 32, a length with its high bit set, text
that is not UTF-8), as 消息加解密说明 lays them out. The webhook tests drive the same code through
the app; these pin what the app answers and logs (https://developers.weixin.qq.com/doc/offiaccount/
Message_Management/Message_encryption_and_decryption_instructions.html)."""

from __future__ import annotations

import base64
import hashlib
import re
import struct

import pytest
import xmltodict
from wechatpy.crypto import PrpCrypto

from wechat import protocol
from wechat.protocol import MAX_DIGITS, MAX_ID, Envelope, Rejected

TOKEN = "testtoken"


def rejected(call, *args) -> tuple[int, str]:
    with pytest.raises(Rejected) as e:
        call(*args)
    assert str(e.value) == e.value.reason
    return e.value.status, e.value.reason


def test_rejected_carries_status_and_reason():
    e = Rejected(403, "bad signature")
    assert (e.status, e.reason, str(e), e.args) == (403, "bad signature", "bad signature", ("bad signature",))


def test_sign_is_sha1_of_the_sorted_parts_and_takes_any_text():
    assert protocol.sign("b", "a", "c") == hashlib.sha1(b"abc").hexdigest()
    # A forger's lone surrogate is signed (and compared) like any other text, not a crash.
    assert protocol.sign("\ud800") == hashlib.sha1("\ud800".encode("utf-8", "surrogatepass")).hexdigest()
    assert protocol.same("x", "\ud800") is False
    assert protocol.same("abc", "abc") is True and protocol.same("abc", "abd") is False


def test_verify_signature_missing_and_bad():
    good = {"timestamp": "1700000000", "nonce": "n1", "signature": protocol.sign(TOKEN, "1700000000", "n1")}
    protocol.verify_signature(TOKEN, good)
    for missing in ("signature", "timestamp", "nonce"):
        query = {k: v for k, v in good.items() if k != missing}
        assert rejected(protocol.verify_signature, TOKEN, query) == (403, "missing signature"), missing
        assert rejected(protocol.verify_signature, TOKEN, {**query, missing: ""}) == (403, "missing signature")
    assert rejected(protocol.verify_signature, TOKEN, {**good, "signature": "0" * 40}) == (403, "bad signature")
    assert rejected(protocol.verify_signature, "other", good) == (403, "bad signature")


def test_verify_fresh_edges():
    now = 1_700_000_000
    protocol.verify_fresh(str(now - 300), now, 300)  # exactly at the window's edge: fresh
    protocol.verify_fresh(str(now + 300), now, 300)
    assert rejected(protocol.verify_fresh, str(now - 301), now, 300) == (403, "timestamp outside the window")
    assert rejected(protocol.verify_fresh, str(now + 301), now, 300) == (403, "timestamp outside the window")
    protocol.verify_fresh("9" * MAX_DIGITS["CreateTime"], 10 ** 12 - 1, 1)  # the longest number taken
    for bad in ("1" * (MAX_DIGITS["CreateTime"] + 1), "17e8", "", "-1", "١٧٠٠٠٠٠٠٠٠", "abc"):
        assert rejected(protocol.verify_fresh, bad, now, 300) == (403, "timestamp is not a number"), bad


def test_body_digest_is_short_and_tells_bodies_apart():
    assert protocol.body_digest(b"<xml/>") == hashlib.blake2b(b"<xml/>", digest_size=8).hexdigest()
    assert len(protocol.body_digest(b"")) == 16
    assert protocol.body_digest(b"a") != protocol.body_digest(b"b")


# --- envelopes ---------------------------------------------------------------------------------------


@pytest.fixture
def envelope(make_settings) -> Envelope:
    return Envelope(make_settings().wechat)


def seal_raw(env: Envelope, raw: bytes) -> str:
    """AES-CBC of `raw` (already padded) with the account's key, base64: as WeChat sends it."""
    return base64.b64encode(PrpCrypto(env._crypto.key).cipher.encrypt(raw)).decode()


def layout(env: Envelope, xml: bytes, appid: bytes | None = None, length: int | None = None) -> bytes:
    body = b"r" * 16 + struct.pack(">I", len(xml) if length is None else length) + xml + (appid or env.appid)
    return body


def padded(body: bytes, pad: int | None = None) -> bytes:
    pad = pad if pad is not None else 32 - len(body) % 32
    return body + bytes([pad]) * pad


def post(env: Envelope, encrypt: str, query: dict | None = None) -> tuple[bytes, dict]:
    query = query if query is not None else {"timestamp": "1700000000", "nonce": "n1"}
    sig = protocol.sign(env.token, query.get("timestamp", ""), query.get("nonce", ""), encrypt)
    body = f"<xml><ToUserName>gh</ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode()
    return body, {**query, "msg_signature": sig}


def test_open_accepts_padding_of_1_and_of_32(envelope):
    for pad in (1, 32):
        xml = b"<xml>" + b"x" * 10 + b"</xml>"
        body = layout(envelope, xml)
        filler = (32 - (len(body) + pad) % 32) % 32  # make the padding come out at exactly `pad`
        xml = b"<xml>" + b"x" * (10 + filler) + b"</xml>"
        raw = padded(layout(envelope, xml), pad)
        assert raw[-1] == pad and len(raw) % 32 == 0
        assert envelope.open(*post(envelope, seal_raw(envelope, raw))) == xml.decode()


def test_open_refuses_padding_outside_1_to_32(envelope):
    zero = bytearray(padded(layout(envelope, b"<xml>hi</xml>")))
    zero[-1] = 0
    # 33 bytes of 33: stripped as claimed, the rest would be a valid message; still refused.
    xml = b"<xml>hi</xml>"
    while (len(layout(envelope, xml)) + 33) % 16:
        xml = xml[:-6] + b" </xml>"
    over = layout(envelope, xml) + bytes([33]) * 33
    for raw in (bytes(zero), over):
        assert rejected(envelope.open, *post(envelope, seal_raw(envelope, raw))) == (
            403, "ciphertext does not open with our key"), raw[-1]


def test_open_refuses_what_is_not_an_envelope(envelope):
    for body in (b"not xml", b"<xml><ToUserName>gh</ToUserName></xml>",
                 b"<xml><Encrypt><a>1</a></Encrypt></xml>"):
        assert rejected(envelope.open, body, {}) == (400, "not an encrypted WeChat message"), body


def test_open_checks_msg_signature_over_timestamp_nonce_and_ciphertext(envelope):
    encrypt = seal_raw(envelope, padded(layout(envelope, b"<xml>ok</xml>")))
    body, query = post(envelope, encrypt)
    assert envelope.open(body, query) == "<xml>ok</xml>"
    for key in ("timestamp", "nonce", "msg_signature"):
        changed = {**query, key: query[key] + "1"}
        assert rejected(envelope.open, body, changed) == (403, "bad msg_signature"), key
    missing = {k: v for k, v in query.items() if k != "msg_signature"}
    assert rejected(envelope.open, body, missing) == (403, "bad msg_signature")
    # Signed without timestamp and nonce (as a forger might): checked over empty ones, and it holds.
    body, bare = post(envelope, encrypt, {})
    assert envelope.open(body, bare) == "<xml>ok</xml>"


def test_open_refuses_a_ciphertext_that_is_not_strict_base64(envelope):
    encrypt = seal_raw(envelope, padded(layout(envelope, b"<xml>ok</xml>")))
    sloppy = encrypt[:8] + "*" + encrypt[8:]  # a lax decoder would skip the '*' and open it
    assert rejected(envelope.open, *post(envelope, sloppy)) == (403, "ciphertext does not open with our key")


def test_open_refuses_another_appid_or_a_wrong_length(envelope):
    other = seal_raw(envelope, padded(layout(envelope, b"<xml>ok</xml>", appid=b"wxother000000001")))
    assert rejected(envelope.open, *post(envelope, other)) == (
        403, "ciphertext does not open with our key and AppID")
    for length in (2 ** 32 - 1, 2 ** 31 + 13, 999):
        wrong = seal_raw(envelope, padded(layout(envelope, b"<xml>ok</xml>", length=length)))
        assert rejected(envelope.open, *post(envelope, wrong)) == (
            403, "ciphertext does not open with our key and AppID"), length


def test_open_tells_text_that_is_not_utf8(envelope):
    encrypt = seal_raw(envelope, padded(layout(envelope, b"<xml>\xff\xfe</xml>")))
    assert rejected(envelope.open, *post(envelope, encrypt)) == (400, "message is not UTF-8")


def test_seal_carries_the_timestamp_and_nonce_given(envelope):
    sealed = xmltodict.parse(envelope.seal("<xml><Content>hi</Content></xml>", "nonce7", "1700000123"))["xml"]
    assert sealed["TimeStamp"] == "1700000123" and sealed["Nonce"] == "nonce7"
    assert sealed["MsgSignature"] == protocol.sign(envelope.token, "1700000123", "nonce7", sealed["Encrypt"])


# --- parse ---------------------------------------------------------------------------------------


def text(source: str = "o_a", to: str = "gh_1", content: str | None = "<![CDATA[hi]]>",
         create: str = "1700000000", msg_id: str = "123") -> str:
    inner = f"<Content>{content}</Content>" if content is not None else ""
    return (f"<xml><ToUserName>{to}</ToUserName><FromUserName>{source}</FromUserName>"
            f"<CreateTime>{create}</CreateTime><MsgType>text</MsgType>{inner}<MsgId>{msg_id}</MsgId></xml>")


def test_parse_takes_fields_at_their_limits():
    m = protocol.parse(text(source="o" * MAX_ID, to="g" * MAX_ID, create="9" * MAX_DIGITS["CreateTime"],
                            msg_id="1" * MAX_DIGITS["MsgId"]).encode())
    assert (m.source, m.target, m.content, m.id) == ("o" * MAX_ID, "g" * MAX_ID, "hi", int("1" * 20))
    assert protocol.fields(m)["CreateTime"] == "9" * 12


def test_parse_blank_or_missing_content_is_an_empty_text():
    assert protocol.parse(text(content=None)).content == ""
    assert protocol.parse(text(content="\u3000 ")).content == ""
    event = protocol.parse("<xml><ToUserName>gh</ToUserName><FromUserName>o_a</FromUserName><CreateTime>1"
                           "</CreateTime><MsgType>event</MsgType><Event>subscribe</Event></xml>")
    assert "Content" not in protocol.fields(event)


@pytest.mark.parametrize("xml", [
    text(source="o" * (MAX_ID + 1)),
    text(to="g" * (MAX_ID + 1)),
    text(source=""),
    text(create=""),
    text(create="1" * (MAX_DIGITS["CreateTime"] + 1)),
    text(msg_id="1" * (MAX_DIGITS["MsgId"] + 1)),
    text(msg_id="12a"),
    text(content="<a>1</a>"),
    "<xml><ToUserName>gh</ToUserName><FromUserName>o_a</FromUserName><MsgType>text</MsgType></xml>",
    "not xml",
    b"\xff\xfe",
])
def test_parse_refuses_what_wechat_never_sends(xml):
    assert rejected(protocol.parse, xml) == (400, "not a WeChat message")


@pytest.mark.parametrize("size", [0, 1, 11, 12, 13, 44, 1000])
def test_seal_opens_with_wechatpy_and_matches_its_envelope(envelope, size):
    """The seal made without wechatpy's per-reply setup is what wechatpy's own encrypt_message makes
    (but for the 16 random bytes): wechatpy decrypts it, and the XML around it is the same."""
    reply = "<xml><Content><![CDATA[" + "回" * size + "]]></Content></xml>"
    ours = envelope.seal(reply, "nonce7", "1700000123")
    signature = xmltodict.parse(ours)["xml"]["MsgSignature"]
    assert envelope._crypto.decrypt_message(ours, signature, "1700000123", "nonce7") == reply
    theirs = envelope._crypto.encrypt_message(reply, "nonce7", "1700000123")
    shape = re.compile(r"<!\[CDATA\[[A-Za-z0-9+/=]+\]\]></Encrypt>\n<MsgSignature><!\[CDATA\[[0-9a-f]{40}\]\]>")
    assert shape.sub("…", ours) == shape.sub("…", theirs)
    assert len(xmltodict.parse(ours)["xml"]["Encrypt"]) == len(xmltodict.parse(theirs)["xml"]["Encrypt"])


@pytest.mark.parametrize(("body", "fast"), [
    (b"<xml><ToUserName><![CDATA[gh_abc]]></ToUserName><Encrypt><![CDATA[QUJD+/==]]></Encrypt></xml>", True),
    (b"\n  <xml>\n    <ToUserName><![CDATA[gh_abc]]></ToUserName>\n    <Encrypt><![CDATA[QUJD]]></Encrypt>\n</xml>\n", True),
    (b"<xml><Encrypt><![CDATA[QUJD]]></Encrypt></xml>", True),
    (b"<xml><ToUserName>gh_abc</ToUserName><Encrypt><![CDATA[QUJD]]></Encrypt></xml>", False),
    (b"<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt>QUJD</Encrypt><MsgType>text</MsgType></xml>", False),
    (b"\xef\xbb\xbf<xml><Encrypt><![CDATA[QUJD]]></Encrypt></xml>", False),  # a BOM
    (b"<xml><Encrypt><![CDATA[]]></Encrypt></xml>", False),
    (b"<xml>\x0c<Encrypt><![CDATA[QUJD]]></Encrypt></xml>", False),  # not XML's whitespace
])
def test_a_safe_body_read_without_the_parser_reads_as_the_parsers_read_it(body, fast):
    """WeChat's own shape is read by a pattern; whatever it takes, the parsers read alike."""
    shaped = protocol._SAFE_BODY.fullmatch(body)
    assert (shaped is not None) is fast
    if fast:
        assert shaped[1].decode() == (protocol.flat_fields(body) or xmltodict.parse(body)["xml"])["Encrypt"]


@pytest.mark.parametrize("wrap", [
    '<?xml version="1.0" encoding="utf-8"?><xml><ToUserName>gh</ToUserName><Encrypt>{}</Encrypt></xml>',
    "<xml><!-- 注释 --><Encrypt><![CDATA[{}]]></Encrypt></xml>",
    '<xml><ToUserName a="1">gh</ToUserName><Encrypt>{}</Encrypt></xml>',
])
def test_an_envelope_the_flat_reader_leaves_is_opened_through_xmltodict(envelope, wrap):
    """A declaration, a comment, an attribute: not flat, yet an envelope; xmltodict reads it."""
    encrypt = seal_raw(envelope, padded(layout(envelope, b"<xml>ok</xml>")))
    _, query = post(envelope, encrypt)
    body = wrap.format(encrypt).encode()
    assert protocol._SAFE_BODY.fullmatch(body) is None and protocol.flat_fields(body) is None
    assert envelope.open(body, query) == "<xml>ok</xml>"


@pytest.mark.parametrize(("msg_type", "event", "kind"), [
    ("device_text", None, "DeviceTextEvent"),  # a device message is one of wechatpy's events
    ("device_event", "bind", "DeviceBindEvent"),
    ("device_event", "subscribe_status", "DeviceSubscribeStatusEvent"),
    ("text", None, "TextMessage"),
    ("shortvideo2", None, "UnknownMessage"),  # a type wechatpy does not know: kept, as wechatpy keeps it
    ("event", None, "UnknownMessage"),  # an event without its Event
])
def test_device_unknown_and_nameless_messages_are_what_wechatpy_makes_of_them(msg_type, event, kind):
    from wechatpy import parse_message

    xml = ("<xml><ToUserName>gh</ToUserName><FromUserName>o_dev</FromUserName><CreateTime>1700000000"
           f"</CreateTime><MsgType>{msg_type}</MsgType>" + (f"<Event>{event}</Event>" if event else "")
           + "<DeviceType>gh_dev</DeviceType><DeviceID>d1</DeviceID><Content>hi</Content></xml>")
    ours, theirs = protocol.parse(xml), parse_message(xml)
    assert type(ours).__name__ == kind and type(ours) is type(theirs)
    assert (ours.type, protocol.fields(ours)) == (theirs.type, protocol.fields(theirs))


@pytest.mark.parametrize("key", ["qrscene_12", "scanbarcode|x", "scanimage|y", "MENU", None])
def test_subscribe_events_have_the_type_and_fields_wechatpy_gives_them(key):
    """A subscribe by a QR code's scene or a product scan is renamed in the fields too, as wechatpy does."""
    from wechatpy import parse_message

    xml = ("<xml><ToUserName>gh</ToUserName><FromUserName>o_sub</FromUserName><CreateTime>1700000000"
           "</CreateTime><MsgType>event</MsgType><Event>subscribe</Event>"
           + (f"<EventKey>{key}</EventKey>" if key else "") + "</xml>")
    ours, theirs = protocol.parse(xml), parse_message(xml)
    assert type(ours) is type(theirs)
    assert (ours.type, ours.event, protocol.fields(ours)) == (theirs.type, theirs.event, protocol.fields(theirs))


def test_an_envelope_with_an_entity_is_refused_without_expanding_it(envelope):
    """The ciphertext behind an internal entity: the C parser would expand it, so the body goes to
    xmltodict, which refuses every entity declaration."""
    encrypt = seal_raw(envelope, padded(layout(envelope, b"<xml>ok</xml>")))
    _, query = post(envelope, encrypt)
    body = f'<!DOCTYPE xml [<!ENTITY e "{encrypt}">]><xml><Encrypt>&e;</Encrypt></xml>'.encode()
    assert rejected(envelope.open, body, query) == (400, "not an encrypted WeChat message")


def test_the_flat_reader_takes_only_a_bare_xml_root_and_fields_in_no_namespace():
    fields = ("<ToUserName>gh</ToUserName><FromUserName>o_r</FromUserName><CreateTime>1700000000</CreateTime>"
              "<MsgType>text</MsgType><Content>hi</Content>")
    assert protocol.flat_fields(f"<xml>{fields}</xml>")["Content"] == "hi"
    for xml in (f"<message>{fields}</message>", f'<xml id="1">{fields}</xml>'):
        assert protocol.flat_fields(xml) is None and protocol.flat_fields(xml.encode()) is None, xml
    assert rejected(protocol.parse, f"<message>{fields}</message>") == (400, "not a WeChat message")
    # A field in a namespace of its own (ElementTree names it "{urn:x}A"): xmltodict's to read.
    for xml in (f'<xml>{fields}<A xmlns="urn:x">1</A></xml>', f'<xml xmlns:p="urn:p">{fields}<p:A>1</p:A></xml>'):
        assert protocol.flat_fields(xml) is None, xml
        assert protocol.parse(xml).content == "hi"
