"""Local platform: uploads, drafts and customer-service messages refused as WeChat refuses them."""

import aiohttp

from tests.fixtures.sandbox import make_draft, make_image


async def test_uploadimg_sniffs_type_and_limits_size_and_serves_the_url(sandbox):
    ok = await sandbox.api("media/uploadimg", files={"media": ("x.gif", make_image("PNG"))})
    assert ok["url"].startswith(sandbox.url + "/mmbiz/") and ok["url"].endswith(".png")
    async with aiohttp.ClientSession() as http, http.get(ok["url"]) as resp:
        assert resp.status == 200 and resp.content_type == "image/png"
        assert await resp.read() == make_image("PNG")
    # the name says .jpg, the content is a GIF → 40005; content decides, not the name
    assert (await sandbox.api("media/uploadimg", files={"media": ("x.jpg", make_image("GIF"))}))["errcode"] == 40005
    big = b"\xff\xd8\xff\xe0" + b"\0" * (1024 * 1024)
    assert (await sandbox.api("media/uploadimg", files={"media": ("x.jpg", big)}))["errcode"] == 40009
    assert (await sandbox.api("media/uploadimg", {}))["errcode"] == 41005


async def test_add_material_image_and_thumb_rules(sandbox):
    image = await sandbox.api("material/add_material", query={"type": "image"},
                              files={"media": ("a.gif", make_image("GIF"))})
    assert image["media_id"] and image["url"].startswith(sandbox.url)
    thumb = await sandbox.api("material/add_material", query={"type": "thumb"},
                              files={"media": ("t.jpg", make_image())})
    assert thumb["media_id"] and "url" not in thumb
    png_thumb = await sandbox.api("material/add_material", query={"type": "thumb"},
                                  files={"media": ("t.png", make_image("PNG"))})
    assert png_thumb["errcode"] == 40005
    big_thumb = b"\xff\xd8\xff\xe0" + b"\0" * (64 * 1024)
    assert (await sandbox.api("material/add_material", query={"type": "thumb"},
                              files={"media": ("t.jpg", big_thumb)}))["errcode"] == 40009
    assert (await sandbox.api("material/add_material", query={"type": "image"},
                              files={"media": ("a.txt", b"hello")}))["errcode"] == 40005


async def _article(sandbox, **fields):
    thumb = await sandbox.api("material/add_material", query={"type": "thumb"},
                              files={"media": ("t.jpg", make_image())})
    return {"title": "标题", "content": "<p>正文</p>", "thumb_media_id": thumb["media_id"], **fields}


async def test_draft_field_limits(sandbox):
    cases = [
        ({"title": "题" * 33}, 45003),
        ({"author": "作" * 17}, 45110),
        ({"digest": "摘" * 129}, 45004),
        ({"content": "字" * 20_000}, 45002),
        ({"content_source_url": "https://example.org/" + "a" * 1024}, 45005),
        ({"thumb_media_id": "not-a-material"}, 40007),
        ({"need_open_comment": 2}, 47001),
        ({"title": ""}, 44003),
    ]
    for fields, code in cases:
        answer = await sandbox.api("draft/add", {"articles": [await _article(sandbox, **fields)]})
        assert answer["errcode"] == code, (fields.keys(), answer)
    # limits are inclusive where WeChat says "≤"
    edge = await _article(sandbox, title="题" * 32, author="作" * 16, digest="摘" * 128,
                          content="字" * 19_999)
    assert "media_id" in await sandbox.api("draft/add", {"articles": [edge]})
    nine = [await _article(sandbox) for _ in range(9)]
    assert (await sandbox.api("draft/add", {"articles": nine}))["errcode"] == 45008
    assert "media_id" in await sandbox.api("draft/add", {"articles": nine[:8]})
    assert (await sandbox.api("draft/add", {"articles": []}))["errcode"] == 44003


async def test_draft_scripts_removed_and_external_images_stripped_and_reported(sandbox):
    ours = (await sandbox.api("media/uploadimg", files={"media": ("b.jpg", make_image())}))["url"]
    content = (f'<p>甲</p><script>alert(1)</script><img src="{ours}">'
               '<img src="https://example.org/x.jpg"><p>乙</p>')
    media_id = (await sandbox.api("draft/add", {"articles": [await _article(sandbox, content=content)]}))["media_id"]
    item = (await sandbox.api("draft/get", {"media_id": media_id}))["news_item"][0]
    assert "<script" not in item["content"] and "alert" not in item["content"]
    assert ours in item["content"] and "example.org" not in item["content"]
    assert item["digest"] == "甲 乙"  # default digest: the first characters of the text
    state = await sandbox.control("state")
    assert [s["url"] for s in state["stripped_images"]] == ["https://example.org/x.jpg"]


async def test_draft_get_count_batchget_delete(sandbox):
    first = await make_draft(sandbox, 2)
    second = await make_draft(sandbox)
    assert (await sandbox.api("draft/count", method="GET"))["total_count"] == 2
    page = await sandbox.api("draft/batchget", {"offset": 0, "count": 20, "no_content": 1})
    assert page["total_count"] == 2 and {i["media_id"] for i in page["item"]} == {first, second}
    assert all("content" not in n for i in page["item"] for n in i["content"]["news_item"])
    assert (await sandbox.api("draft/batchget", {"offset": 0, "count": 21}))["errcode"] == 40035
    assert len((await sandbox.api("draft/get", {"media_id": first}))["news_item"]) == 2
    assert (await sandbox.api("draft/delete", {"media_id": first}))["errcode"] == 0
    assert (await sandbox.api("draft/get", {"media_id": first}))["errcode"] == 40007
    assert (await sandbox.api("draft/count", method="GET"))["total_count"] == 1


def text(openid, content="你好"):
    return {"touser": openid, "msgtype": "text", "text": {"content": content}}


async def test_custom_send_message_window_5_in_48h(sandbox):
    assert (await sandbox.api("message/custom/send", text("o_unknown")))["errcode"] == 40003
    await sandbox.control("follower-action", {"openid": "o1", "kind": "message"})
    for _ in range(5):
        assert (await sandbox.api("message/custom/send", text("o1")))["errcode"] == 0
    assert (await sandbox.api("message/custom/send", text("o1")))["errcode"] == 45047
    sandbox.platform.follower_action("o1", "message")  # a new message resets the quota
    assert (await sandbox.api("message/custom/send", text("o1")))["errcode"] == 0
    sandbox.advance(48 * 3600)
    assert (await sandbox.api("message/custom/send", text("o1")))["errcode"] == 45015
    sandbox.platform.follower_action("o1", "unsubscribe")
    assert (await sandbox.api("message/custom/send", text("o1")))["errcode"] == 43004
    sent = (await sandbox.control("state"))["cs_messages"]
    assert len(sent) == 6 and sent[0]["payload"] == {"content": "你好"}


async def test_custom_send_event_window_3_per_minute(sandbox):
    for kind in ("click", "subscribe", "scan"):
        openid = f"o_{kind}"
        sandbox.platform.follower_action(openid, kind)
        for _ in range(3):
            assert (await sandbox.api("message/custom/send", text(openid)))["errcode"] == 0
        assert (await sandbox.api("message/custom/send", text(openid)))["errcode"] == 45047
        sandbox.platform.follower_action(openid, kind)
        sandbox.advance(61)
        assert (await sandbox.api("message/custom/send", text(openid)))["errcode"] == 45015


async def test_custom_send_payload_rules(sandbox):
    sandbox.platform.follower_action("o1", "message")
    too_long = "字" * 683  # 2049 bytes in UTF-8
    assert (await sandbox.api("message/custom/send", text("o1", too_long)))["errcode"] == 45002
    assert (await sandbox.api("message/custom/send", text("o1", "字" * 682 + "ab")))["errcode"] == 0
    article = {"title": "t", "description": "d", "url": "https://example.org", "picurl": ""}
    two = {"touser": "o1", "msgtype": "news", "news": {"articles": [article, article]}}
    assert (await sandbox.api("message/custom/send", two))["errcode"] == 45008
    one = {"touser": "o1", "msgtype": "news", "news": {"articles": [article]}}
    assert (await sandbox.api("message/custom/send", one))["errcode"] == 0
    bad_image = {"touser": "o1", "msgtype": "image", "image": {"media_id": "nope"}}
    assert (await sandbox.api("message/custom/send", bad_image))["errcode"] == 40007
    media_id = await make_draft(sandbox)
    mpnews = {"touser": "o1", "msgtype": "mpnews", "mpnews": {"media_id": media_id}}
    assert (await sandbox.api("message/custom/send", mpnews))["errcode"] == 0
    odd = {"touser": "o1", "msgtype": "hologram", "hologram": {}}
    assert (await sandbox.api("message/custom/send", odd))["errcode"] == 40008
    # refused payloads did not use the window: 3 accepted above, 2 left
    for _ in range(2):
        assert (await sandbox.api("message/custom/send", text("o1")))["errcode"] == 0
    assert (await sandbox.api("message/custom/send", text("o1")))["errcode"] == 45047
