"""Local platform: menu, followers, daily quotas and the clock, faults, restart, delivery retries."""

import asyncio

import aiohttp
import pytest
from aiohttp import web

from sandbox.delivery import text_message


def click(name="菜单", key="K"):
    return {"type": "click", "name": name, "key": key}


@pytest.mark.parametrize("menu, code", [
    ({"button": []}, 40016),
    ({"button": [click()] * 4}, 40016),
    ({"button": [click(name="十七个字节的名字ab")]}, 40018),  # 5×3 + 2 = 17 bytes
    ({"button": [{"type": "hologram", "name": "x", "key": "k"}]}, 40017),
    ({"button": [click(key="k" * 129)]}, 40019),
    ({"button": [{"type": "view", "name": "x", "url": "https://e.org/" + "a" * 1011}]}, 40020),
    ({"button": [{"name": "组", "sub_button": [click()] * 6}]}, 40023),
    ({"button": [{"name": "组", "sub_button": [click(name="字" * 21)]}]}, 40025),
    ({"button": [{"name": "组", "sub_button": [{"type": "nope", "name": "x"}]}]}, 40024),
    ({"button": [{"name": "组", "sub_button": [click(key="k" * 129)]}]}, 40026),
])
async def test_menu_limits(sandbox, menu, code):
    assert (await sandbox.api("menu/create", menu))["errcode"] == code


async def test_menu_create_get_at_the_limits(sandbox):
    menu = {"button": [click(name="四个汉字"), click(name="五个汉字啊a", key="k" * 128),
                       {"name": "更多", "sub_button": [click(name="字" * 20)] * 5}]}
    assert (await sandbox.api("menu/create", menu))["errcode"] == 0
    assert (await sandbox.api("menu/get", method="GET"))["menu"] == menu


async def test_followers_tags_user_get_and_info(sandbox):
    await sandbox.control("follower-action", {"openid": "o1", "kind": "subscribe"})
    await sandbox.control("followers", {"openid": "o2", "tags": [2]})
    sandbox.platform.follower_action("o3", "subscribe")
    sandbox.platform.follower_action("o3", "unsubscribe")
    got = await sandbox.api("user/get", method="GET")
    assert got["total"] == 2 and got["data"]["openid"] == ["o1", "o2"] and got["next_openid"] == ""
    info = await sandbox.api("user/info", method="GET", query={"openid": "o2"})
    assert info["subscribe"] == 1 and info["tagid_list"] == [2]
    assert await sandbox.api("user/info", method="GET", query={"openid": "o3"}) == {
        "errcode": 0, "errmsg": "ok", "subscribe": 0, "openid": "o3"}
    assert (await sandbox.api("user/info", method="GET", query={"openid": "o9"}))["errcode"] == 40003
    tags = (await sandbox.api("tags/get", method="GET"))["tags"]
    assert tags == [{"id": 2, "name": "星标组", "count": 1}]
    assert (await sandbox.control("follower-action", {"openid": "o1", "kind": "dance"}))["status"] == 400


async def test_daily_quota_45009_reset_by_clock_and_raised(sandbox):
    token = await sandbox.token()
    await sandbox.control("quotas", {"endpoint": "draft/count", "limit": 2})
    for _ in range(2):
        assert (await sandbox.api("draft/count", method="GET", token=token))["errcode"] == 0
    assert (await sandbox.api("draft/count", method="GET", token=token))["errcode"] == 45009
    # the quota day ends at midnight Beijing time
    state = await sandbox.control("state")
    day = state["day"]
    answer = await sandbox.control("clock/advance", {"seconds": 86400})
    assert answer["ok"] and answer["now"] > state["now"]
    assert (await sandbox.control("state"))["day"] != day
    token = await sandbox.token()  # the day's advance also expired the old token
    assert (await sandbox.api("draft/count", method="GET", token=token))["errcode"] == 0
    assert len(sandbox.calls("draft/count", errcode=45009)) == 1


async def test_freepublish_submit_quota_is_100_a_day(sandbox):
    token = await sandbox.token()
    for _ in range(100):
        assert (await sandbox.platform.call("freepublish/submit", {"access_token": token},
                                            {"media_id": "x"}))["errcode"] == 40007
    assert (await sandbox.platform.call("freepublish/submit", {"access_token": token},
                                        {"media_id": "x"}))["errcode"] == 45009


async def test_faults_errcode_times_latency_and_drop(sandbox):
    token = await sandbox.token()
    await sandbox.control("faults", {"endpoint": "tags/get", "errcode": -1, "times": 2})
    codes = [(await sandbox.api("tags/get", method="GET", token=token))["errcode"] for _ in range(3)]
    assert codes == [-1, -1, 0]
    await sandbox.control("faults", {"endpoint": "/cgi-bin/tags/get", "latency": 0.3})
    started = asyncio.get_running_loop().time()
    assert (await sandbox.api("tags/get", method="GET", token=token))["errcode"] == 0
    assert asyncio.get_running_loop().time() - started >= 0.3
    await sandbox.control("faults", {"endpoint": "tags/get", "drop": True})
    # POST: aiohttp itself re-sends an idempotent GET once when the server drops the connection
    with pytest.raises(aiohttp.ClientError):
        await sandbox.api("tags/get", {}, token=token)
    assert (await sandbox.api("tags/get", method="GET", token=token))["errcode"] == 0
    calls = sandbox.calls("tags/get")
    assert [c["errcode"] for c in calls] == [-1, -1, 0, 0, None, 0]
    assert (await sandbox.control("faults", {"endpoint": "tags/get"}))["status"] == 400


async def test_bad_json_and_unknown_endpoint(sandbox):
    token = await sandbox.token()
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{sandbox.url}/cgi-bin/draft/add", params={"access_token": token},
                             data=b"{not json") as resp:
            assert (await resp.json(content_type=None))["errcode"] == 47001
    assert (await sandbox.api("nope/nothing", {}, token=token))["errcode"] == 40066


async def test_state_survives_restart_and_reset_forgets(sandbox):
    from tests.fixtures.sandbox import make_draft

    media_id = await make_draft(sandbox)
    token = await sandbox.token()
    sandbox.platform.follower_action("o1", "message")
    await sandbox.control("quotas", {"endpoint": "draft/get", "limit": 7})
    await sandbox.restart()
    assert (await sandbox.api("draft/get", {"media_id": media_id}, token=token))["news_item"]
    assert sandbox.platform.quota_limit("draft/get") == 7
    assert sandbox.platform.state["followers"]["o1"]["msg_window"]["used"] == 0
    # the uploaded image file is still served after the restart
    image_url = next(iter(sandbox.platform.state["images"].values()))["url"]
    async with aiohttp.ClientSession() as http, http.get(image_url) as resp:
        assert resp.status == 200
    assert (await sandbox.control("reset"))["ok"]
    assert (await sandbox.api("tags/get", method="GET", token=token))["errcode"] == 40001
    assert sandbox.platform.state["drafts"] == {}


async def test_publish_in_flight_finishes_after_restart(sandbox):
    from tests.fixtures.sandbox import make_draft

    await sandbox.control("options", {"hold_jobs": True})
    publish_id = (await sandbox.api("freepublish/submit", {"media_id": await make_draft(sandbox)}))["publish_id"]
    await sandbox.restart()
    assert sandbox.platform.state["publishes"][publish_id]["status"] == 1
    await sandbox.control("options", {"hold_jobs": False})
    await sandbox.settle()
    assert (await sandbox.api("freepublish/get", {"publish_id": publish_id}))["publish_status"] == 0


async def test_delivery_retries_the_same_body_and_records_the_window(sandbox_factory):
    sandbox = await sandbox_factory(delivery_retry_after=0.2)
    bodies = []

    async def slow_then_fast(request):
        bodies.append((dict(request.query), await request.text()))
        if len(bodies) < 3:
            await asyncio.sleep(1)  # no answer within the retry time
        return web.Response(text="success")

    app = web.Application()
    app.router.add_post("/wechat", slow_then_fast)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/wechat"
        w = sandbox.settings.wechat
        xml = text_message(w.account_id, "o_new", "新闻", 1001, 1_700_000_000)
        result = await sandbox.platform.delivery(url).deliver(xml)
        assert result.ok and result.attempts == 3 and result.reply == "success"
        assert bodies[0] == bodies[1] == bodies[2]  # same query, same (encrypted) body
        assert sandbox.platform.state["followers"]["o_new"]["msg_window"] is not None
    finally:
        await runner.cleanup()


async def test_index_page_lists_what_happened(sandbox):
    from tests.fixtures.sandbox import make_draft

    await make_draft(sandbox)
    sandbox.platform.follower_action("o1", "message")
    await sandbox.api("message/custom/send", {"touser": "o1", "msgtype": "text", "text": {"content": "通知内容"}})
    async with aiohttp.ClientSession() as http, http.get(sandbox.url + "/") as resp:
        page = await resp.text()
    assert "测试文章1" in page and "通知内容" in page
