"""WeChat-safe rendering and the upload cache, checked against the local platform's draft/add."""

from __future__ import annotations

import io
import os
import re
from datetime import date

import pytest
from PIL import Image as PILImage
from sqlalchemy import select

from app import open_services
from scheduler.uploads import UPLOADIMG_MAX, UploadCache, default_cover_png, fit_image
from store.content import render as render_module
from store.content.extract import Extracted
from store.content.importer import Importer
from store.content.render import (
    CONTENT_CHARS,
    TEXT_CUT_NOTE,
    ArticleTooLong,
    article_images,
    render_article,
    sanitize,
)
from store.migrate import upgrade
from store.models.content import Article, ImageUpload
from tests.content_site import make_jpeg, make_png


def noisy_png(size=(900, 900)) -> bytes:
    img = PILImage.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
async def services(sandbox, make_settings):
    settings = sandbox.settings_for(make_settings)
    await upgrade(settings.database_url)
    async with open_services(settings) as s:
        yield s


async def add_article(
    services, body_html: str, images: dict[str, bytes], title="总会召开等级评估工作推进会", **fields
) -> Article:
    importer = Importer(services.settings, services.db, services.clock, http=None)
    x = Extracted(
        url=fields.pop("url", "https://www.example.org/news/1.html"),
        title=title,
        published_at=date(2024, 3, 14),
        source_name="中国社会报",
        author="秘书处",
        body_html=body_html,
        body_text="正文",
        digest="摘要",
        images=list(images),
    )
    _, article_id = await importer.save(x, image_data=images)
    async with services.db() as session, session.begin():
        article = await session.get(Article, article_id)
        for k, v in fields.items():
            setattr(article, k, v)
    return article


async def render(services, article, **kw):
    async with services.db() as session:
        images = await article_images(session, article)
    return await render_article(article, images, UploadCache(services), **kw)


DIRTY = """<div class="x" onclick="steal()"><p style="color:red;background:url(javascript:x);position:fixed">第一段
<a href="https://www.gov.cn/policy.html" onmouseover="x()">政策原文</a>，另见
<a href="https://mp.weixin.qq.com/s/abc">往期推送</a>和<a href="javascript:void(0)">这里</a>。</p>
<script>alert(1)</script><iframe src="https://evil.example/"></iframe>
<form action="/x"><input name="q"><button>提交</button></form>
<img src="https://site.example/a.png" data-sha256="PLACEHOLDER_A" onerror="x()">
<img src="https://elsewhere.example/tracker.gif">
<table><tr><td colspan="2" onclick="y()">表格</td></tr></table>
<p>再见 <a href="https://www.gov.cn/policy.html">政策原文</a></p></div>"""


async def test_forbidden_removed_images_rewritten_and_accepted(services, sandbox):
    png = make_png(1)
    body = DIRTY.replace("PLACEHOLDER_A", "")  # the importer sets data-sha256 itself
    article = await add_article(services, body, {"https://site.example/a.png": png})
    r = await render(services, article)
    c = r.content
    for bad in (
        "<script",
        "<iframe",
        "<form",
        "<input",
        "<button",
        "onclick",
        "onerror",
        "onmouseover",
        "javascript",
        "position",
        "url(",
        "tracker.gif",
        "data-sha256",
        'class="',
    ):
        assert bad not in c, bad
    assert "color:red" in c and 'colspan="2"' in c
    # Outside links → text + note; the same URL keeps one number; WeChat links stay links.
    assert "政策原文[1]" in c and c.count("https://www.gov.cn/policy.html") == 1 and "[2]" not in c
    assert '<a href="https://mp.weixin.qq.com/s/abc">往期推送</a>' in c
    uploaded = sandbox.calls("media/uploadimg")
    assert len(uploaded) == 1
    assert c.count("<img") == 1 and f'src="{sandbox.url}/mmbiz/' in c
    assert (
        r.title == "总会召开等级评估工作推进会"
        and r.content_source_url == "https://www.example.org/news/1.html"
    )

    media_id = await services.api.draft_add([r.as_draft()])
    draft = sandbox.platform.state["drafts"][media_id]["news_item"][0]
    assert draft["stripped_images"] == [] and draft["scripts_removed"] == 0
    assert draft["content"] == c

    # Rendering again uploads nothing new: the cache answers for this account.
    again = await render(services, article)
    assert again.content == c and again.thumb_media_id == r.thumb_media_id
    assert len(sandbox.calls("media/uploadimg")) == 1
    assert len(sandbox.calls("material/add_material")) == 1
    async with services.db() as session:
        rows = (await session.execute(select(ImageUpload))).scalars().all()
    assert {row.account for row in rows} == {f"{sandbox.url}#{services.settings.wechat.appid}"}
    assert {row.kind for row in rows} == {"uploadimg", "image"}  # a PNG cover is an image material


async def test_cover_kinds_and_big_images_shrunk(services, sandbox):
    small_jpeg = make_jpeg(3)
    big = noisy_png()
    assert len(big) > UPLOADIMG_MAX
    article = await add_article(
        services,
        '<p>图</p><img src="https://s.example/c.jpg"><img src="https://s.example/big.png">',
        {"https://s.example/c.jpg": small_jpeg, "https://s.example/big.png": big},
    )
    r = await render(services, article)
    assert r.content.count(f"{sandbox.url}/mmbiz/") == 2
    await services.api.draft_add([r.as_draft()])
    async with services.db() as session:
        kinds = sorted(row.kind for row in (await session.execute(select(ImageUpload))).scalars())
    assert kinds == ["thumb", "uploadimg", "uploadimg"]  # a JPG ≤ 64 KB cover goes as a thumb


def test_fit_image_converts_and_shrinks():
    data, ext = fit_image(noisy_png((700, 700)), ("JPEG", "PNG"), 200_000)
    assert ext == "jpg" and len(data) < 200_000
    buf = io.BytesIO()
    PILImage.new("RGB", (50, 50), "red").save(buf, "WEBP")
    data, ext = fit_image(buf.getvalue(), ("JPEG", "PNG"), UPLOADIMG_MAX)
    assert ext == "jpg" and data[:3] == b"\xff\xd8\xff"
    png = make_png(2)
    assert fit_image(png, ("JPEG", "PNG"), UPLOADIMG_MAX) == (png, "png")  # already fine: untouched


async def test_title_limit(services):
    long_title = "关于印发《社会组织等级评估管理办法》实施细则及配套评分标准的通知全文"
    assert len(long_title) > 32
    article = await add_article(services, "<p>正文</p>", {}, title=long_title)
    with pytest.raises(ArticleTooLong, match="32 字"):
        await render(services, article)
    article = await add_article(
        services, "<p>正文</p>", {}, title=long_title, wechat_title="等级评估实施细则发布"
    )
    r = await render(services, article)
    assert r.title == "等级评估实施细则发布"


async def test_very_long_article(services, sandbox):
    paragraphs = "".join(f"<p>第{i}段：" + "社会组织等级评估工作稳步推进。" * 60 + "</p>" for i in range(40))
    article = await add_article(services, paragraphs, {})
    with pytest.raises(ArticleTooLong, match="20,000"):
        await render(services, article)
    r = await render(services, article, allow_cut=True)
    assert len(r.content) < CONTENT_CHARS and r.content.endswith(f"<p>{TEXT_CUT_NOTE}</p>")
    assert r.content.count("<p>") == r.content.count("</p>")  # whole paragraphs only
    assert "第0段" in r.content and "第39段" not in r.content
    media_id = await services.api.draft_add([r.as_draft()])
    assert media_id in sandbox.platform.state["drafts"]
    # Without a 阅读原文 URL to point to, cutting is not offered.
    local = await add_article(services, paragraphs, {}, url="file:///tmp/x.html")
    with pytest.raises(ArticleTooLong):
        await render(services, local, allow_cut=True)


async def test_article_without_image_gets_default_cover(services, sandbox):
    article = await add_article(services, "<p>只有文字的通知。</p>", {})
    r = await render(services, article)
    assert r.content == "<p>只有文字的通知。</p>"
    # The cover is the plain default one, uploaded as a permanent image material.
    material = sandbox.platform.state["materials"][r.thumb_media_id]
    assert material["type"] == "image" and material["size"] == len(default_cover_png())
    media_id = await services.api.draft_add([r.as_draft()])
    draft = sandbox.platform.state["drafts"][media_id]["news_item"][0]
    assert draft["thumb_media_id"] == r.thumb_media_id and draft["content"] == r.content
    assert (await render(services, article)).thumb_media_id == r.thumb_media_id  # uploaded once
    assert len(sandbox.calls("material/add_material")) == 1


def test_sanitize_keeps_structure():
    html, shas = sanitize(
        '<div><h1>小标题</h1><ul><li>一</li></ul><img data-sha256="ab" src="x"><img src="http://x/y.png"></div>'
    )
    assert html.startswith("<section><h1>小标题</h1><ul><li>一</li></ul>") and shas == ["ab"]
    assert html.count("<img") == 1  # an image we did not store cannot be uploaded: dropped


def test_sanitize_keeps_only_the_allowed_tags():
    """Tags outside the whitelist (and not dropped with their content) lose the tag, keep the text."""
    html, _ = sanitize(
        "<nav><p>导航</p></nav><marquee>滚动</marquee><label>标签</label><dl><dt>术语</dt><dd>释义</dd></dl>"
        '<details><summary>摘要</summary>细节</details><abbr title="x">缩写</abbr><o:p>办公</o:p>'
        '<font color="red">字体</font><center>居中</center><p>段落<mark>高亮</mark></p>'
    )
    assert html == (
        "<p>导航</p>滚动标签术语释义摘要细节缩写办公<span>字体</span><section>居中</section><p>段落高亮</p>"
    )
    tags = set(re.findall(r"</?([a-zA-Z][\w:-]*)", html))
    assert tags <= render_module._ALLOWED


def test_sanitize_keeps_allowed_attributes_and_styles_only():
    html, _ = sanitize(
        '<p style="color:red;position:fixed;font-size:14px;background:url(x)" class="c" id="i">一</p>'
        '<td colspan="2" rowspan="3" width="9" style="text-align:center">二</td>'
        '<span style="width:expression(alert(1))">三</span><h2 title="t" style="COLOR: #333">四</h2>'
    )
    assert html == (
        '<p style="color:red;font-size:14px">一</p><td colspan="2" rowspan="3" style="text-align:center">二</td>'
        '<span>三</span><h2 style="color:#333">四</h2>'
    )


async def test_article_images_are_its_body_images_and_its_cover_only(services):
    a = await add_article(services, '<p>一</p><img src="https://s.example/1.png"><img src="https://s.example/2.png">',
                          {"https://s.example/1.png": make_png(11), "https://s.example/2.png": make_png(12)})
    other = await add_article(services, '<p>二</p><img src="https://s.example/3.png">',
                              {"https://s.example/3.png": make_png(13)}, url="https://www.example.org/news/2.html")
    async with services.db() as session:
        body = {i.sha256 for i in await article_images(session, a)}
        theirs = {i.sha256 for i in await article_images(session, other)}
        assert len(body) == 2 and len(theirs) == 1 and not body & theirs
        # A cover that is not in the body comes along too.
        row = await session.get(Article, a.id)
        cover_id = (await article_images(session, other))[0].id
        row.cover_image_id = cover_id
        await session.commit()
        with_cover = {i.sha256 for i in await article_images(session, row)}
    assert with_cover == body | theirs
