"""The webhook's protocol edge, driven through the real app with real signed and encrypted XML:
signatures, timestamps, sizes, AES envelopes, broken XML and XML bombs."""

from __future__ import annotations

import base64
import time

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.webhook_helpers import envelope, event_xml, signed_query, text_xml, webhook_client
from tests.webhook_support import make_services

BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xml><ToUserName>gh_test00000001</ToUserName><FromUserName>o_bomb</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&lol3;</Content><MsgId>1</MsgId></xml>"""
EXTERNAL = """<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh_test00000001</ToUserName><FromUserName>o_xxe</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>2</MsgId></xml>"""


@pytest.fixture
async def hook(make_settings, migrated):
    async with make_services(make_settings, migrated) as services, webhook_client(services) as client:
        yield client


async def test_get_echoes_echostr_only_when_signed(hook):
    token = hook.settings.wechat.token
    q = {**signed_query(token), "echostr": "hello123"}
    resp = await hook.client.get(hook.path, params=q)
    assert resp.status == 200 and await resp.text() == "hello123"
    for bad in ({**q, "signature": "0" * 40}, {"echostr": "x"}, {**signed_query("other"), "echostr": "x"}):
        resp = await hook.client.get(hook.path, params=bad)
        assert resp.status == 403 and "hello" not in await resp.text()
    resp = await hook.client.get(hook.path, params=signed_query(token))
    assert resp.status == 403


@pytest.mark.parametrize("mode", ["plain", "safe", "compatible"])
async def test_signed_message_gets_reply_in_every_mode(hook, mode):
    reply = await hook.send(text_xml("o_alice", "帮助"), mode=mode)
    assert reply["ToUserName"] == "o_alice" and reply["FromUserName"] == "gh_test00000001"
    assert reply["MsgType"] == "text" and "帮助" in reply["Content"]


async def test_forged_missing_and_wrong_signatures_are_403(hook):
    xml = text_xml("o_alice", "帮助")
    good = signed_query(hook.settings.wechat.token)
    cases = [
        {},
        {k: v for k, v in good.items() if k != "signature"},
        {**good, "signature": "f" * 40},
        {**good, "nonce": good["nonce"] + "x"},
        signed_query("wrongtoken"),
    ]
    for q in cases:
        status, text, _ = await hook.post(xml, query=q)
        assert status == 403, q
        assert "Traceback" not in text


async def test_timestamp_outside_window_is_403(hook):
    token = hook.settings.wechat.token
    old = signed_query(token, int(time.time()) - 3600)
    status, _, _ = await hook.post(text_xml("o_alice", "帮助"), query=old)
    assert status == 403
    status, _, _ = await hook.post(text_xml("o_alice", "帮助"), query={**signed_query(token), "timestamp": "abc"})
    assert status == 403


async def test_safe_mode_rejects_bad_msg_signature_wrong_appid_and_tampered_ciphertext(hook):
    settings = hook.settings
    xml = text_xml("o_alice", "帮助")
    body, q = envelope(settings, xml, signed_query(settings.wechat.token))
    status, _, _ = await hook.post(body, query={**q, "msg_signature": "0" * 40})
    assert status == 403

    body, q = envelope(settings, xml, signed_query(settings.wechat.token), appid="wxSOMEONEELSE00")
    status, _, _ = await hook.post(body, query=q)
    assert status == 403

    # Flip bytes inside the ciphertext and sign it properly: only the AES layer can notice.
    from wechat.protocol import sign
    body, q = envelope(settings, xml, signed_query(settings.wechat.token))
    start = body.index("<![CDATA[", body.index("<Encrypt>")) + 9
    end = body.index("]]>", start)
    raw = bytearray(base64.b64decode(body[start:end]))
    raw[-20] ^= 0xFF
    raw[5] ^= 0x55
    tampered = base64.b64encode(bytes(raw)).decode()
    q = {**q, "msg_signature": sign(settings.wechat.token, q["timestamp"], q["nonce"], tampered)}
    status, text, _ = await hook.post(body[:start] + tampered + body[end:], query=q)
    assert status == 403 and "Traceback" not in text


async def test_oversize_body_is_413(hook):
    big = text_xml("o_alice", "x" * (hook.settings.server.max_body_bytes + 10))
    status, _, _ = await hook.post(big)
    assert status == 413


@pytest.mark.parametrize("body", [
    "not xml at all", "<xml><ToUserName>a</ToUserName>", "<xml></xml>", "<other/>", "",
    "<xml><MsgType>text</MsgType></xml>",
    "<xml><FromUserName>o</FromUserName><CreateTime>x</CreateTime><MsgType>text</MsgType></xml>",
    "<xml><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
    "<MsgId>notanumber</MsgId></xml>",
])
async def test_broken_xml_is_400(hook, body):
    status, text, _ = await hook.post(body)
    assert status == 400 and "Traceback" not in text


@pytest.mark.parametrize("body", [BOMB, EXTERNAL])
async def test_entity_bombs_are_400_without_expanding(hook, body):
    status, text, _ = await hook.post(body)
    assert status == 400
    assert "lol" not in text and "root:" not in text
    # Inside the safe-mode envelope too.
    status, text, _ = await hook.post(body, mode="safe")
    assert status == 400 and "root:" not in text


async def test_safe_mode_without_key_configured_is_403(make_settings, migrated):
    async with make_services(make_settings, migrated, wechat={"encoding_aes_key": "", "mode": "plain"}) as services:
        async with webhook_client(services) as hook:
            status, _, _ = await hook.post(text_xml("o_alice", "帮助"), mode="safe", query={
                **signed_query(services.settings.wechat.token), "encrypt_type": "aes", "msg_signature": "x"})
            assert status == 403
            reply = await hook.send(event_xml("o_alice", "subscribe"))
            assert reply["MsgType"] == "text"


async def test_handler_crash_never_500(make_settings, migrated):
    from bot.router import Router

    boom = Router("boom")

    @boom.message("text")
    async def crash(message, ctx):
        raise RuntimeError("bug")

    async with make_services(make_settings, migrated) as services, webhook_client(services, [boom]) as hook:
        reply = await hook.send(text_xml("o_alice", "hi"))
        from bot import texts
        assert reply["Content"] == texts.ERROR


queries = st.dictionaries(
    st.sampled_from(["signature", "timestamp", "nonce", "encrypt_type", "msg_signature", "echostr", "x"]),
    st.text(max_size=60), max_size=6,
)


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=2000), st.text(max_size=2000).map(str.encode)), query=queries,
       signed=st.booleans(), aes=st.booleans())
async def test_arbitrary_bodies_and_queries_never_500(hook, body, query, signed, aes):
    if signed:
        query = {**query, **signed_query(hook.settings.wechat.token)}
        if aes:
            query["encrypt_type"] = "aes"
    resp = await hook.client.post(hook.path, params=query, data=body)
    assert resp.status in (200, 400, 403, 413)
    assert "Traceback" not in await resp.text()
    resp = await hook.client.get(hook.path, params=query)
    assert resp.status in (200, 403)
