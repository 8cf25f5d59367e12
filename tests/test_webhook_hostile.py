"""Hostile and unlucky input through the real app, with valid signatures around it: blank texts,
fields WeChat never sends, a row the database refuses, replayed signed queries, plaintext in safe
mode, a message for another account, malformed HTTP — and the one status table for every path."""

from __future__ import annotations

import asyncio
import logging
import time
import zlib

import pytest
from sqlalchemy import select
from wechatpy.crypto import PrpCrypto, WeChatCrypto

from handlers import texts
from store.migrate import upgrade
from store.models.webhook import Follower, MessageLog
from tests.webhook_helpers import (
    envelope,
    event_xml,
    next_msg_id,
    signed_query,
    text_xml,
    webhook_client,
)
from tests.webhook_support import make_services
from wechat.protocol import sign

ACCOUNT = "gh_test00000001"


def raw_text(openid: str, content_element: str, msg_id: int | None = None) -> str:
    """A text message whose <Content> element (or its absence) is given as is."""
    return (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>{content_element}"
            f"<MsgId>{msg_id or next_msg_id()}</MsgId></xml>")


@pytest.fixture
async def hook(make_settings, migrated):
    async with make_services(make_settings, migrated) as services, webhook_client(services) as client:
        yield client


async def rows_of(services, model, openid: str) -> list:
    async with services.db() as session:
        return list(await session.scalars(select(model).where(model.openid == openid)))


# --- 1. a blank text is an empty text; nothing one row does stops the others -----------------------

BLANKS = {
    "missing": "",
    "empty": "<Content></Content>",
    "spaces": "<Content><![CDATA[   ]]></Content>",
    "ideographic space": "<Content><![CDATA[\u3000]]></Content>",
    "newlines": "<Content>\n\t\n</Content>",
}


@pytest.mark.parametrize("blank", list(BLANKS))
async def test_blank_text_is_answered_and_the_log_keeps_growing(make_settings, db_url, blank):
    await upgrade(db_url)
    async with make_services(make_settings, db_url) as services, webhook_client(services) as hook:
        reply = await hook.send(raw_text("o_blank", BLANKS[blank]), mode="safe")
        assert isinstance(reply, dict) and reply["MsgType"] == "text"  # an answer, not `success`
        assert reply["Content"].startswith(texts.BLANK) and texts.HELP_HEADER in reply["Content"]
        for i in range(3):
            assert (await hook.send(text_xml(f"o_after_{i}", "帮助")))["Content"].startswith(texts.HELP_HEADER)
        await services.messagelog.flush()
        logged = [(r.direction, r.content) for r in await rows_of(services, MessageLog, "o_blank")]
        assert logged[0] == ("in", "") and logged[1][0] == "out"
        for openid in ("o_blank", "o_after_0", "o_after_1", "o_after_2"):
            assert len(await rows_of(services, Follower, openid)) == 1
            assert len(await rows_of(services, MessageLog, openid)) == 2


async def test_a_row_the_database_refuses_is_dropped_alone(make_settings, db_url, caplog):
    await upgrade(db_url)
    async with make_services(make_settings, db_url) as services:
        writer = services.messagelog
        store = services.followers
        for openid in ("o_ok1", "o_bad", "o_ok2"):
            store.touch(await store.get(openid), type("M", (), {"type": "text"})())
        writer.record("o_ok1", "in", "webhook", "text", "one")
        writer.record("o_bad", "in", "webhook", "text", "two")
        writer.pending[-1]["content"] = None  # what a blank text became before: NOT NULL refuses it
        writer.record("o_ok2", "in", "webhook", "text", "three")
        assert await writer.flush() == 2
        assert writer.pending == []  # not put back to fail again forever
        assert [r.content for r in await rows_of(services, MessageLog, "o_ok1")] == ["one"]
        assert [r.content for r in await rows_of(services, MessageLog, "o_ok2")] == ["three"]
        for openid in ("o_ok1", "o_bad", "o_ok2"):  # the follower records went too
            assert len(await rows_of(services, Follower, openid)) == 1
        assert "dropped a row the database refuses (in webhook text from o_bad" in caplog.text
        writer.record("o_ok1", "in", "webhook", "text", "four")  # and the writer carries on
        assert await writer.flush() == 1


async def test_names_as_long_as_wechat_sends_fit_and_longer_senders_are_400(make_settings, db_url):
    await upgrade(db_url)
    async with make_services(make_settings, db_url) as services, webhook_client(services) as hook:
        # The longest event name wechatpy knows, with a menu key of 128 bytes: columns wide enough.
        key = "K" * 128
        assert await hook.send(event_xml("o_long", "user_scan_product_enter_session", key)) == "success"
        assert (await hook.send(event_xml("o_long", "CLICK", key)))["Content"] == texts.UNKNOWN_CLICK
        too_long = "o" * 65  # no OpenID is that long; the openid columns hold 64
        status, _, _ = await hook.post(text_xml(too_long, "帮助"))
        assert status == 400
        await services.messagelog.flush()
        logged = await rows_of(services, MessageLog, "o_long")
        assert [r.msg_type for r in logged if r.direction == "in"] == [
            "event:user_scan_product_enter_session", "event:click"]
        assert all(len(r.msg_key) > 128 for r in logged if r.direction == "in")


# --- 4. replays, modes, the account ------------------------------------------------------------------


async def test_a_signed_query_replayed_with_another_body_is_403(hook):
    token = hook.settings.wechat.token
    q = signed_query(token)
    first = text_xml("o_alice", "帮助")
    status, answer, _ = await hook.post(first, query=q)
    assert status == 200 and "o_alice" in answer
    # Captured once, the query signs nothing else: another body, another follower — refused.
    for forged in (text_xml("o_mallory", "帮助"), text_xml("o_alice", "解绑"), "<xml>broken"):
        status, text, _ = await hook.post(forged, query=q)
        assert status == 403 and "o_mallory" not in text, forged
    # WeChat's own retry repeats query and body: the same answer.
    status, again, _ = await hook.post(first, query=q)
    assert status == 200 and again == answer


@pytest.fixture(params=["postgresql", "redis"])
def shared_in(request) -> str | None:
    """Where two instances share their state: PostgreSQL itself (None), or Redis (its URL)."""
    return request.getfixturevalue("redis_url") if request.param == "redis" else None


@pytest.fixture
async def two_instances(make_settings, pg_url, shared_in):
    await upgrade(pg_url)
    sections = {"redis": {"url": shared_in}} if shared_in else {}
    async with make_services(make_settings, pg_url, shared_from_settings=True, **sections) as a, \
            make_services(make_settings, pg_url, shared_from_settings=True, **sections) as b:
        async with webhook_client(a) as hook_a, webhook_client(b) as hook_b:
            yield hook_a, hook_b


async def test_replay_is_refused_by_the_other_instance_too(two_instances):
    hook_a, hook_b = two_instances
    q = signed_query(hook_a.settings.wechat.token)
    msg_id = next_msg_id()
    xml = text_xml("o_alice", "帮助", msg_id=msg_id)
    status, answer, _ = await hook_a.post(xml, query=q)
    assert status == 200
    # The same MsgId, so the answer is in A's memory: the query is still checked before it is given.
    status, text, _ = await hook_a.post(text_xml("o_mallory", "解绑", msg_id=msg_id), query=q)
    assert status == 403 and "o_alice" not in text
    status, _, _ = await hook_b.post(text_xml("o_mallory", "帮助"), query=q)
    assert status == 403
    status, _, _ = await hook_a.post(text_xml("o_mallory", "帮助"), query=q)
    assert status == 403
    status, again, _ = await hook_b.post(xml, query=q)  # a retry that reaches the other process
    assert status == 200 and again == answer


@pytest.mark.parametrize("mode, accepts", [
    ("safe", {"safe", "compatible"}), ("compatible", {"plain", "safe", "compatible"}), ("plain", {"plain"}),
])
async def test_wechat_mode_decides_what_is_accepted(make_settings, migrated, mode, accepts):
    async with make_services(make_settings, migrated, wechat={"mode": mode}) as services:
        async with webhook_client(services) as hook:
            for sent in ("plain", "safe", "compatible"):
                status, text, _ = await hook.post(text_xml("o_alice", "帮助"), mode=sent)
                assert status == (200 if sent in accepts else 403), (mode, sent, text)


async def test_safe_mode_refuses_plaintext_even_with_a_valid_signature(make_settings, migrated):
    async with make_services(make_settings, migrated, wechat={"mode": "safe"}) as services:
        async with webhook_client(services) as hook:
            status, text, _ = await hook.post(text_xml("o_alice", "帮助"))  # signature right, no AES
            assert status == 403 and "safe" in text
            assert (await hook.send(text_xml("o_alice", "帮助"), mode="safe"))["Content"].startswith(texts.HELP_HEADER)


@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_a_message_for_another_account_is_403(hook, mode):
    status, text, _ = await hook.post(text_xml("o_alice", "帮助", account="gh_someoneelse01"), mode=mode)
    assert status == 403 and "gh_someoneelse01" not in text


# --- 6. the smaller ones -------------------------------------------------------------------------------


SIGNED_400 = {
    "nested ToUserName": raw_text("o_x", "<Content>a</Content>").replace(
        f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>", f"<ToUserName><a>{ACCOUNT}</a></ToUserName>"),
    "nested Content": raw_text("o_x", "<Content><b>a</b></Content>"),
    "duplicated Content": raw_text("o_x", "<Content>a</Content><Content>b</Content>"),
    "Content with an attribute": raw_text("o_x", '<Content lang="zh">a</Content>'),
    "nested FromUserName": raw_text("o_x", "<Content>a</Content>").replace(
        "<FromUserName><![CDATA[o_x]]></FromUserName>", "<FromUserName><x>o</x></FromUserName>"),
    "MsgId of 400 digits": raw_text("o_x", "<Content>a</Content>", msg_id=int("9" * 400)),
    "CreateTime of 400 nines": raw_text("o_x", "<Content>a</Content>").replace(
        f"<CreateTime>{int(time.time())}</CreateTime>", f"<CreateTime>{'9' * 400}</CreateTime>"),
    "duplicated Event": event_xml("o_x", "CLICK", "K")[:-6] + "<Event>VIEW</Event></xml>",
}


@pytest.mark.parametrize("case", list(SIGNED_400))
@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_signed_bodies_that_are_no_wechat_message_are_400_without_a_trace(hook, case, mode, caplog):
    status, text, _ = await hook.post(SIGNED_400[case], mode=mode)
    assert status == 400, text
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_timestamp_of_400_nines_is_403(hook, caplog):
    token = hook.settings.wechat.token
    ts, nonce = "9" * 400, "n1"
    status, _, _ = await hook.post(text_xml("o_alice", "帮助"),
                                   query={"signature": sign(token, ts, nonce), "timestamp": ts, "nonce": nonce})
    assert status == 403 and "Traceback" not in caplog.text


@pytest.mark.parametrize("encoding", ["deflate", "gzip", "br"])
async def test_undecodable_compression_is_400(hook, encoding, caplog):
    q = signed_query(hook.settings.wechat.token)
    resp = await hook.client.post(hook.path, params=q, data=b"\x00garbage, not compressed" * 20,
                                  headers={"Content-Encoding": encoding})
    assert resp.status == 400
    await asyncio.sleep(0.1)  # aiohttp reads what is left of the body after the answer, and logs that
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # What does decode is a message like any other.
    q = signed_query(hook.settings.wechat.token)
    resp = await hook.client.post(hook.path, params=q, data=zlib.compress(text_xml("o_z", "帮助").encode()),
                                  headers={"Content-Encoding": "deflate"})
    assert resp.status == 200 and texts.HELP_HEADER in await resp.text()


async def test_non_utf8_message_inside_a_valid_envelope_is_400(hook):
    w = hook.settings.wechat
    inner = text_xml("o_alice", "帮助").replace("帮助", "\u5e2e\u52a9").encode("gbk")
    crypto = WeChatCrypto(w.token, w.encoding_aes_key, w.appid)
    encrypt = PrpCrypto(crypto.key).encrypt(inner, w.appid).decode()
    q = signed_query(w.token)
    q = {**q, "encrypt_type": "aes", "msg_signature": sign(w.token, q["timestamp"], q["nonce"], encrypt)}
    body = f"<xml><ToUserName><![CDATA[{w.account_id}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    status, text, _ = await hook.post(body, query=q)
    assert status == 400, text


async def raw_request(hook, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(hook.client.server.host, hook.client.server.port)
    writer.write(data)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return answer


async def test_malformed_http_is_one_warning_without_trace_or_signed_query(hook, caplog):
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    q = signed_query(hook.settings.wechat.token)
    query = "&".join(f"{k}={v}" for k, v in q.items())
    for request in (
        f"POST {hook.path}?{query} HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
        f"POST {hook.path}?{query} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        f"POST {hook.path}?{query}\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
    ):
        answer = await raw_request(hook, request.encode("latin-1"))
        assert answer.startswith(b"HTTP/1.") and answer.split()[1] == b"400", answer[:80]
    logged = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert len(logged) == 3 and all(r.levelno == logging.WARNING and not r.exc_info for r in logged)
    assert q["signature"] not in caplog.text and q["nonce"] not in caplog.text
    assert "Traceback" not in caplog.text


# --- the table ----------------------------------------------------------------------------------------


async def test_one_status_for_every_kind_of_request(make_settings, migrated):
    async with make_services(make_settings, migrated, wechat={"mode": "safe"}) as services:
        async with webhook_client(services) as hook:
            token, settings = services.settings.wechat.token, services.settings
            xml = text_xml("o_t", "帮助")

            def sealed(x=xml, q=None):
                return envelope(settings, x, q or signed_query(token))

            body, q = sealed()
            cases = [
                ("no signature", 403, xml, {}),
                ("wrong signature", 403, body, {**q, "signature": "0" * 40}),
                ("timestamp not a number", 403, body, {**signed_query(token), "timestamp": "x1"}),
                ("timestamp outside the window", 403, *sealed(q=signed_query(token, int(time.time()) - 3600))),
                ("plaintext in safe mode", 403, xml, signed_query(token)),
                ("wrong msg_signature", 403, body, {**q, "msg_signature": "0" * 40}),
                ("another account", 403, *sealed(text_xml("o_t", "帮助", account="gh_other000001"))),
                ("too large", 413, *sealed(text_xml("o_t", "x" * settings.server.max_body_bytes))),
                ("broken XML", 400, *sealed("<xml><ToUserName>")),
                ("entity bomb", 400, *sealed('<!DOCTYPE x [<!ENTITY a "b">]><xml>&a;</xml>')),
                ("not an envelope", 400, "<xml><Encrypt><x/></Encrypt></xml>", {**q, "msg_signature": "0"}),
                ("a message", 200, *sealed()),
            ]
            for name, expected, data, query in cases:
                resp = await hook.client.post(hook.path, params=query, data=data)
                assert resp.status == expected, (name, resp.status, await resp.text())
            # The query of "a message" again, around another (validly sealed) body: a replay.
            signed = {k: cases[-1][3][k] for k in ("signature", "timestamp", "nonce")}
            data, query = sealed(text_xml("o_mallory", "帮助"), signed)
            resp = await hook.client.post(hook.path, params=query, data=data)
            assert resp.status == 403
            await services.messagelog.flush()
            assert len(await rows_of(services, MessageLog, "o_t")) == 2  # only the message got through
