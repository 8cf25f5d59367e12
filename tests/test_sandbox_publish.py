"""Local platform: freepublish completes asynchronously and delivers a signed, encrypted
PUBLISHJOBFINISH to the bot's webhook; mass sends with quotas, clientmsgid and MASSSENDJOBFINISH."""

import xmltodict
from aiohttp import web
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import check_signature

from tests.fixtures.sandbox import make_draft


class TinyWebhook:
    """A webhook that verifies and decrypts what the platform delivers, with wechatpy."""

    def __init__(self, settings):
        self.w = settings.wechat
        self.received: list[dict] = []
        self.queries: list[dict] = []

    async def handle(self, request):
        q = request.query
        check_signature(self.w.token, q["signature"], q["timestamp"], q["nonce"])
        body = await request.text()
        self.queries.append(dict(q))
        if q.get("encrypt_type") == "aes":
            crypto = WeChatCrypto(self.w.token, self.w.encoding_aes_key, self.w.appid)
            body = crypto.decrypt_message(body, q["msg_signature"], q["timestamp"], q["nonce"])
        self.received.append(xmltodict.parse(body)["xml"])
        return web.Response(text="success")

    async def __aenter__(self):
        app = web.Application()
        app.router.add_post("/wechat", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/wechat"
        return self

    async def __aexit__(self, *exc):
        await self.runner.cleanup()


async def test_publish_completes_and_delivers_encrypted_publishjobfinish(sandbox):
    async with TinyWebhook(sandbox.settings) as hook:
        sandbox.set_webhook(hook.url)
        media_id = await make_draft(sandbox, 2)
        await sandbox.control("options", {"hold_jobs": True})
        submitted = await sandbox.api("freepublish/submit", {"media_id": media_id})
        publish_id = submitted["publish_id"]
        assert (await sandbox.api("freepublish/get", {"publish_id": publish_id}))["publish_status"] == 1
        assert (await sandbox.api("draft/count", method="GET"))["total_count"] == 1  # still a draft
        await sandbox.control("options", {"hold_jobs": False})
        await sandbox.settle()
        done = await sandbox.api("freepublish/get", {"publish_id": publish_id})
        assert done["publish_status"] == 0 and done["article_detail"]["count"] == 2
        # the draft left the draft box
        assert (await sandbox.api("draft/get", {"media_id": media_id}))["errcode"] == 40007
        # the event: safe mode → only Encrypt in the body, decrypted and signed correctly
        assert hook.queries[0]["encrypt_type"] == "aes"
        event = hook.received[0]
        assert event["Event"] == "PUBLISHJOBFINISH" and event["ToUserName"] == sandbox.settings.wechat.account_id
        info = event["PublishEventInfo"]
        assert info["publish_id"] == publish_id and info["publish_status"] == "0"
        assert info["article_id"] == done["article_id"]
        urls = [i["article_url"] for i in info["article_detail"]["item"]]
        assert urls == [i["article_url"] for i in done["article_detail"]["item"]]
    # the article pages are served
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(urls[1]) as resp:
        assert resp.status == 200 and "测试文章2" in await resp.text()
    listed = await sandbox.api("freepublish/batchget", {"offset": 0, "count": 10})
    assert listed["total_count"] == 1 and listed["item"][0]["article_id"] == done["article_id"]
    got = await sandbox.api("freepublish/getarticle", {"article_id": done["article_id"]})
    assert [n["title"] for n in got["news_item"]] == ["测试文章1", "测试文章2"]
    assert (await sandbox.api("freepublish/delete", {"article_id": done["article_id"], "index": 0}))["errcode"] == 0
    assert (await sandbox.api("freepublish/get", {"publish_id": publish_id}))["publish_status"] == 5
    async with aiohttp.ClientSession() as http, http.get(urls[0]) as resp:
        assert resp.status == 404


async def test_publish_fault_fails_with_status_and_fail_idx(sandbox_factory):
    sandbox = await sandbox_factory(sandbox={"mode": "compatible"})
    async with TinyWebhook(sandbox.settings) as hook:
        sandbox.set_webhook(hook.url)
        media_id = await make_draft(sandbox, 2)
        await sandbox.control("faults", {"endpoint": "publish_job", "publish_status": 3, "fail_idx": [2]})
        publish_id = (await sandbox.api("freepublish/submit", {"media_id": media_id}))["publish_id"]
        await sandbox.settle()
        got = await sandbox.api("freepublish/get", {"publish_id": publish_id})
        assert got["publish_status"] == 3 and got["fail_idx"] == [2] and "article_id" not in got
        assert (await sandbox.api("draft/count", method="GET"))["total_count"] == 1  # stays a draft
        info = hook.received[0]["PublishEventInfo"]
        assert info["publish_status"] == "3" and info["fail_idx"] == "2"


async def test_publish_event_plain_mode_and_unverified_account(sandbox_factory):
    sandbox = await sandbox_factory(sandbox={"mode": "plain"})
    async with TinyWebhook(sandbox.settings) as hook:
        sandbox.set_webhook(hook.url)
        await sandbox.api("freepublish/submit", {"media_id": await make_draft(sandbox)})
        await sandbox.settle()
        assert "encrypt_type" not in hook.queries[0] and hook.received[0]["Event"] == "PUBLISHJOBFINISH"
    unverified = await sandbox_factory(wechat={"verified": False}, sandbox={"state_path": "other.json"})
    answer = await unverified.api("freepublish/submit", {"media_id": await make_draft(unverified)})
    assert answer["errcode"] == 48001


def sendall(media_id, clientmsgid=None, **flt):
    body = {"filter": flt or {"is_to_all": True}, "msgtype": "mpnews", "mpnews": {"media_id": media_id},
            "send_ignore_reprint": 0}
    if clientmsgid:
        body["clientmsgid"] = clientmsgid
    return body


async def test_mass_sendall_event_draft_deleted_and_broadcasts_recorded(sandbox):
    for openid in ("o1", "o2"):
        sandbox.platform.set_follower(openid)
    async with TinyWebhook(sandbox.settings) as hook:
        sandbox.set_webhook(hook.url)
        media_id = await make_draft(sandbox)
        sent = await sandbox.api("message/mass/sendall", sendall(media_id, "push-1-1"))
        assert sent["errcode"] == 0 and sent["msg_id"] and sent["msg_data_id"]
        await sandbox.settle()
        event = hook.received[0]
        assert event["Event"] == "MASSSENDJOBFINISH" and event["MsgID"] == str(sent["msg_id"])
        assert event["Status"] == "send success" and event["SentCount"] == "2"
        url = event["ArticleUrlResult"]["ResultList"]["item"]["ArticleUrl"]
        assert url.startswith(sandbox.url + "/s/")
    assert (await sandbox.api("draft/get", {"media_id": media_id}))["errcode"] == 40007
    assert (await sandbox.api("message/mass/get", {"msg_id": sent["msg_id"]}))["msg_status"] == "SEND_SUCCESS"
    followers = (await sandbox.control("state"))["followers"]
    assert [b["msg_id"] for b in followers["o1"]["broadcasts"]] == [sent["msg_id"]]
    assert (await sandbox.api("message/mass/delete", {"msg_id": sent["msg_id"]}))["errcode"] == 0
    assert (await sandbox.api("message/mass/get", {"msg_id": sent["msg_id"]}))["msg_status"] == "DELETE"


async def test_clientmsgid_idempotency_and_length(sandbox):
    sandbox.platform.set_follower("o1")
    media_id = await make_draft(sandbox)
    first = await sandbox.api("message/mass/sendall", sendall(media_id, "push-7-1"))
    again = await sandbox.api("message/mass/sendall", sendall(media_id, "push-7-1"))
    assert again["errcode"] == 45065 and again["msg_id"] == first["msg_id"]
    assert (await sandbox.api("message/mass/sendall", sendall(media_id, "x" * 65)))["errcode"] == 45067
    sandbox.advance(86400)  # 24 h later the id is forgotten (and it is another day for the quota)
    media_id = await make_draft(sandbox)
    later = await sandbox.api("message/mass/sendall", sendall(media_id, "push-7-1"))
    assert later["errcode"] == 0 and later["msg_id"] != first["msg_id"]
    assert len([m for m in (await sandbox.control("state"))["mass"].values()]) == 2


async def test_subscription_quota_one_a_day_and_unknown_media(sandbox):
    sandbox.platform.set_follower("o1", tags=[100])
    assert (await sandbox.api("message/mass/sendall", sendall("nope")))["errcode"] == 40007
    media_id = await make_draft(sandbox)
    assert (await sandbox.api("message/mass/sendall", sendall(media_id, is_to_all=False, tag_id=999)))["errcode"] == 45159
    assert (await sandbox.api("message/mass/sendall", sendall(media_id, is_to_all=False, tag_id=100)))["errcode"] == 0
    assert (await sandbox.api("message/mass/sendall", sendall(media_id)))["errcode"] == 45028
    sandbox.advance(86400)
    assert (await sandbox.api("message/mass/sendall", sendall(media_id)))["errcode"] == 0


async def test_service_quota_four_a_month(sandbox_factory):
    sandbox = await sandbox_factory(wechat={"account_type": "service"})
    sandbox.platform.set_follower("o1")
    uploaded = []
    for _ in range(5):
        media_id = await make_draft(sandbox)
        news = await sandbox.api("media/uploadnews", {"articles": (await sandbox.api(
            "draft/get", {"media_id": media_id}))["news_item"]})
        uploaded.append(news["media_id"])
    for i in range(4):
        assert (await sandbox.api("message/mass/sendall", sendall(uploaded[i])))["errcode"] == 0
    assert (await sandbox.api("message/mass/sendall", sendall(uploaded[4])))["errcode"] == 45028
    # sends to a tag may go on, but nobody receives more than 4 a month
    sandbox.platform.set_follower("o1", tags=[100])
    tagged = await sandbox.api("message/mass/sendall", sendall(uploaded[4], is_to_all=False, tag_id=100))
    assert tagged["errcode"] == 0
    assert sandbox.platform.state["mass"][str(tagged["msg_id"])]["recipients"] == []
    sandbox.advance(32 * 86400)  # next calendar month (uploadnews media expired after 3 days)
    assert (await sandbox.api("message/mass/sendall", sendall(uploaded[4])))["errcode"] == 40007
    fresh = await sandbox.api("media/uploadnews", {"articles": (await sandbox.api(
        "draft/get", {"media_id": await make_draft(sandbox)}))["news_item"]})
    assert (await sandbox.api("message/mass/sendall", sendall(fresh["media_id"])))["errcode"] == 0


async def test_draft_media_refused_when_configured_and_uploadnews_fallback(sandbox):
    sandbox.platform.set_follower("o1")
    await sandbox.control("options", {"draft_media_for_mass": False})
    media_id = await make_draft(sandbox)
    assert (await sandbox.api("message/mass/sendall", sendall(media_id)))["errcode"] == 40007
    items = (await sandbox.api("draft/get", {"media_id": media_id}))["news_item"]
    news = await sandbox.api("media/uploadnews", {"articles": items})
    assert news["type"] == "news"
    assert (await sandbox.api("message/mass/sendall", sendall(news["media_id"])))["errcode"] == 0


async def test_broadcast_protection_confirm_and_timeout(sandbox):
    sandbox.platform.set_follower("o1")
    await sandbox.control("options", {"broadcast_protection": True})
    media_id = await make_draft(sandbox)
    sent = await sandbox.api("message/mass/sendall", sendall(media_id, "p-1"))
    assert (await sandbox.api("message/mass/get", {"msg_id": sent["msg_id"]}))["msg_status"] == "SENDING"
    assert (await sandbox.api("message/mass/sendall", sendall(media_id, "p-1")))["errcode"] == 45066
    assert (await sandbox.control("mass/confirm", {"msg_id": sent["msg_id"]}))["ok"]
    await sandbox.settle()
    assert (await sandbox.api("message/mass/get", {"msg_id": sent["msg_id"]}))["msg_status"] == "SEND_SUCCESS"
    sandbox.advance(86400)
    second = await sandbox.api("message/mass/sendall", sendall(await make_draft(sandbox), "p-2"))
    sandbox.advance(30 * 60)
    await sandbox.settle()
    assert (await sandbox.api("message/mass/get", {"msg_id": second["msg_id"]}))["msg_status"] == "SEND_FAIL"
    assert (await sandbox.control("mass/confirm", {"msg_id": second["msg_id"]}))["status"] == 400


async def test_mass_send_preview(sandbox):
    sandbox.platform.set_follower("o1")
    sandbox.platform.set_follower("o2")
    media_id = await make_draft(sandbox)
    preview = {"touser": "o1", "msgtype": "mpnews", "mpnews": {"media_id": media_id}}
    assert (await sandbox.api("message/mass/preview", preview))["errcode"] == 0
    assert (await sandbox.api("message/mass/preview", {**preview, "touser": "o9"}))["errcode"] == 40003
    one = {"touser": ["o1"], "msgtype": "text", "text": {"content": "hi"}}
    assert (await sandbox.api("message/mass/send", one))["errcode"] == 40130
    two = {**one, "touser": ["o1", "o2"]}
    assert (await sandbox.api("message/mass/send", two))["errcode"] == 0
    state = await sandbox.control("state")
    assert state["previews"][0]["openid"] == "o1"
