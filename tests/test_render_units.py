"""store/content/render.py on its own, without a database or a platform: styles, links and images in
`sanitize`, whole-block cuts, and `render_article`'s limits at their edges with a recording uploader.
tests/test_content_render.py checks the same against the local platform's draft/add."""

from __future__ import annotations

import pytest

from store.content import render as r
from store.models.content import Article, Image
from wechat.limits import AUTHOR_CHARS, CONTENT_CHARS, DIGEST_CHARS, SOURCE_URL_BYTES, TITLE_CHARS


class Uploader:
    def __init__(self) -> None:
        self.bodies: list[str] = []
        self.covers: list[str] = []
        self.default = Image(id=99, sha256="d" * 64, path="d.png", size=1, mime="image/png", width=1, height=1)

    async def body_image_url(self, image: Image) -> str:
        self.bodies.append(image.sha256)
        return f"https://mmbiz.qpic.cn/{image.sha256[:4]}"

    async def cover_media_id(self, image: Image) -> str:
        self.covers.append(image.sha256)
        return f"media-{image.id}"

    async def default_cover(self) -> Image:
        return self.default


def image(n: int) -> Image:
    return Image(id=n, sha256=f"{n:x}" * 64, path=f"{n}.jpg", size=1, mime="image/jpeg", width=1, height=1)


def article(body: str = "<p>正文</p>", **kw) -> Article:
    fields = {"id": 7, "title": "总会召开推进会", "author": "秘书处", "source_url": "https://www.example.org/n/1.html",
              "body_html": body, "body_text": "", "digest": "摘要", "cover_image_id": None, "wechat_title": None,
              "wechat_digest": None}
    return Article(**{**fields, **kw})


def test_clean_style_keeps_known_properties_with_plain_values():
    assert r.clean_style("Color: RED ; FONT-SIZE:14px;;") == "color:RED;font-size:14px"
    assert r.clean_style("position:fixed;color:red") == "color:red"
    assert r.clean_style("background-color:url(x)") == ""
    assert r.clean_style("width:expression(1)") == ""
    assert r.clean_style("color:" + "a" * 61) == "" and r.clean_style("color:" + "a" * 60) == "color:" + "a" * 60
    assert r.clean_style("color:red;margin:0 auto;text-align:center") == "color:red;margin:0 auto;text-align:center"
    assert r.clean_style("color:red!important") == ""  # "!" is not a plain value
    assert r.clean_style("color:") == ""


def test_links_outside_become_numbered_notes_and_wechat_links_stay():
    html, _ = r.sanitize(
        '<p><a href="https://a.example/x">甲</a>，<a href=" https://a.example/x ">再甲</a>，'
        '<a href="http://b.example/y"></a>，<a href="https://mp.weixin.qq.com/s/z" target="_blank">乙</a>，'
        '<a href="mailto:x@e.org">丙</a>，<a>丁</a></p>'
    )
    assert html == (
        '<p>甲[1]，再甲[1]，http://b.example/y[2]，<a href="https://mp.weixin.qq.com/s/z">乙</a>，丙，丁</p>'
        '<section style="font-size:14px;color:#888888"><p>文中链接：</p>'
        "<p>[1] https://a.example/x</p><p>[2] http://b.example/y</p></section>"
    )


def test_note_urls_are_escaped():
    html, _ = r.sanitize('<a href="https://a.example/?a=1&b=<2>">x</a>')
    assert "<p>[1] https://a.example/?a=1&amp;b=&lt;2&gt;</p>" in html


def test_images_keep_their_placeholder_and_drop_the_rest():
    html, shas = r.sanitize('<p><img data-sha256="ab" src="x" alt="图" width="9" onerror="y"><img src="z"></p>'
                            '<img data-sha256="cd">')
    assert shas == ["ab", "cd"]
    assert html == ('<p><img alt="图" data-sha256="ab" style="max-width:100%;height:auto"/></p>'
                    '<img alt="" data-sha256="cd" style="max-width:100%;height:auto"/>')


def test_comments_and_dropped_tags_go_with_their_content():
    html, _ = r.sanitize("<p>留<!-- 注释 --><script>x()</script><style>p{}</style><video>v</video>下</p>")
    assert html == "<p>留下</p>"


def test_cut_to_fit_drops_whole_blocks_from_the_end():
    block = "<p>" + "字" * 999 + "</p>"
    html = block * 30  # 30,210 characters
    cut = r.cut_to_fit(html)
    note = f"<p>{r.TEXT_CUT_NOTE}</p>"
    assert cut.endswith(note) and len(cut) < CONTENT_CHARS
    kept = cut[: -len(note)]
    assert kept == block * (len(kept) // len(block)) and len(kept) // len(block) == 19
    assert r.cut_to_fit("<p>短</p>") == f"<p>短</p>{note}"  # already fits: only the note
    assert r.cut_to_fit("<p>" + "字" * CONTENT_CHARS + "</p>") is None  # not even one block fits


def test_fill_images_puts_each_url_in_place():
    html = r.fill_images('<img data-sha256="ab"/><p><img data-sha256="cd"/></p>', {"ab": "u1", "cd": "u2"})
    assert html == '<img src="u1"/><p><img src="u2"/></p>'


async def test_render_article_fields_and_uploads():
    body = '<p>一</p><img data-sha256="{a}"><img data-sha256="{a}"><img data-sha256="{b}"><img data-sha256="ee">'
    a, b = image(1), image(2)
    up = Uploader()
    cover = image(3)
    art = article(body.format(a=a.sha256, b=b.sha256), cover_image_id=3, author="作" * 20,
                  wechat_digest="  公众号摘要  ")
    out = await r.render_article(art, [a, b, cover], up)
    assert out.title == "总会召开推进会" and out.author == "作" * AUTHOR_CHARS and out.digest == "公众号摘要"
    assert out.content_source_url == "https://www.example.org/n/1.html"
    assert up.bodies == [a.sha256, b.sha256]  # each image once, the unknown one dropped
    assert out.content.count("<img") == 3 and "ee" not in out.content
    assert out.thumb_media_id == "media-3" and up.covers == [cover.sha256]
    assert out.as_draft() == {"title": out.title, "author": out.author, "digest": out.digest,
                              "content": out.content, "content_source_url": out.content_source_url,
                              "thumb_media_id": "media-3", "need_open_comment": 0, "only_fans_can_comment": 0}


async def test_render_article_limits_at_their_edges():
    up = Uploader()
    ok = await r.render_article(article(title="题" * TITLE_CHARS), [], up)
    assert ok.title == "题" * TITLE_CHARS and ok.thumb_media_id == "media-99"  # the default cover
    with pytest.raises(r.ArticleTooLong) as e:
        await r.render_article(article(title="题" * (TITLE_CHARS + 1)), [], up)
    assert str(e.value) == r.TEXT_TITLE_TOO_LONG.format(id=7, n=TITLE_CHARS + 1)
    wechat_title = await r.render_article(article(title="题" * 40, wechat_title="短标题"), [], up)
    assert wechat_title.title == "短标题"

    digest = await r.render_article(article(digest="摘" * DIGEST_CHARS), [], up)
    assert digest.digest == "摘" * DIGEST_CHARS
    long_digest = await r.render_article(article(digest="摘" * (DIGEST_CHARS + 1)), [], up)
    assert long_digest.digest == "摘" * (DIGEST_CHARS - 1) + "…"
    assert (await r.render_article(article(digest=None), [], up)).digest == ""

    base = "https://e.org/"
    edge = base + "a" * (SOURCE_URL_BYTES - len(base))
    assert (await r.render_article(article(source_url=edge), [], up)).content_source_url == edge
    assert (await r.render_article(article(source_url=edge + "a"), [], up)).content_source_url == ""
    assert (await r.render_article(article(source_url="file:///x.html"), [], up)).content_source_url == ""
    assert (await r.render_article(article(source_url="http://e.org/x"), [], up)).content_source_url == "http://e.org/x"


async def test_too_long_content_is_refused_or_cut_when_allowed():
    body = "".join(f"<p>第{i}段" + "字" * 990 + "</p>" for i in range(30))
    up = Uploader()
    with pytest.raises(r.ArticleTooLong) as e:
        await r.render_article(article(body), [], up)
    n = sum(len(f"<p>第{i}段" + "字" * 990 + "</p>") for i in range(30))
    assert str(e.value) == r.TEXT_CONTENT_TOO_LONG.format(id=7, chars=n, bytes=n + 2 * 992 * 30)  # 992 Chinese characters a paragraph
    cut = await r.render_article(article(body), [], up, allow_cut=True)
    assert cut.content.endswith(f"<p>{r.TEXT_CUT_NOTE}</p>") and "第0段" in cut.content and "第29段" not in cut.content
    with pytest.raises(r.ArticleTooLong):  # nowhere to point 阅读原文: no cut
        await r.render_article(article(body, source_url="file:///x"), [], up, allow_cut=True)
    one_block = "<p>" + "字" * 25_000 + "</p>"
    with pytest.raises(r.ArticleTooLong) as e:  # not even the first block fits
        await r.render_article(article(one_block), [], up, allow_cut=True)
    assert str(e.value) == r.TEXT_CONTENT_TOO_LONG.format(id=7, chars=25_007, bytes=75_007)


class LongUrls(Uploader):
    async def body_image_url(self, image: Image) -> str:
        return "https://mmbiz.qpic.cn/" + "u" * 3000


def long_with_real_urls() -> tuple[str, list[Image]]:
    """18,000 characters of text and seven images whose WeChat URLs (LongUrls) take it past the limit."""
    imgs = [image(n) for n in range(1, 8)]
    return "<p>" + "字" * 18_000 + "</p>" + "".join(f'<p><img data-sha256="{i.sha256}"></p>' for i in imgs), imgs


async def test_content_that_grows_past_the_limit_with_real_urls_is_cut_or_refused():
    body, imgs = long_with_real_urls()
    with pytest.raises(r.ArticleTooLong) as e:
        await r.render_article(article(body), imgs, LongUrls())
    assert "20,000" in str(e.value)
    cut = await r.render_article(article(body), imgs, LongUrls(), allow_cut=True)
    assert len(cut.content) < CONTENT_CHARS and cut.content.endswith(f"<p>{r.TEXT_CUT_NOTE}</p>")
    assert cut.content.startswith("<p>字")


def test_fits_below_the_character_limit_only():
    assert r._fits("a" * (CONTENT_CHARS - 1)) and not r._fits("a" * CONTENT_CHARS)


def test_cut_to_fit_at_the_edge():
    note = f"<p>{r.TEXT_CUT_NOTE}</p>"
    first = "<p>" + "a" * 9_000 + "</p>"
    # Everything with the note exactly at the limit: one block too many, the last goes.
    last = "<p>" + "b" * (CONTENT_CHARS - len(first) - len(note) - 7) + "</p>"
    assert len(first) + len(last) + len(note) == CONTENT_CHARS
    assert r.cut_to_fit(first + last) == first + note
    shorter = last[:-5] + "</p>"  # one character under: all kept
    assert r.cut_to_fit(first + shorter) == first + shorter + note


async def test_the_size_is_estimated_with_upload_urls_before_any_upload():
    """Each image placeholder counts as a `src` of 120 characters: an article that fits only without
    them is refused before anything is uploaded; one exactly under the limit goes through."""
    imgs = [image(n) for n in range(1, 11)]
    tags = "".join(f'<img data-sha256="{i.sha256}">' for i in imgs)
    placeholder = len(f'<img alt="" data-sha256="{"1" * 64}" style="max-width:100%;height:auto"/>')
    estimate = len(f'<img alt="" src="{"x" * 120}" style="max-width:100%;height:auto"/>')
    text = CONTENT_CHARS - 1 - 10 * estimate - len("<p></p>")
    body = "<p>" + "字" * text + "</p>" + tags
    up = Uploader()
    out = await r.render_article(article(body), imgs, up)  # estimate 19,999: fits
    assert len(up.bodies) == 10 and out.content.count("<img") == 10
    over = "<p>" + "字" * (text + 1) + "</p>" + tags
    assert len("<p>" + "字" * (text + 1) + "</p>") + 10 * placeholder < CONTENT_CHARS  # fits without the estimate
    up = Uploader()
    with pytest.raises(r.ArticleTooLong) as e:
        await r.render_article(article(over), imgs, up)
    assert up.bodies == []
    assert str(e.value) == r.TEXT_CONTENT_TOO_LONG.format(id=7, chars=CONTENT_CHARS, bytes=CONTENT_CHARS + 2 * (text + 1))


def test_a_wechat_link_over_plain_http_stays_a_link():
    html, _ = r.sanitize('<p><a href="http://mp.weixin.qq.com/s/z">乙</a>，<a href="HTTPS://mp.weixin.qq.com/s/y">丙</a></p>')
    assert html == '<p><a href="http://mp.weixin.qq.com/s/z">乙</a>，<a href="HTTPS://mp.weixin.qq.com/s/y">丙</a></p>'


async def test_images_we_do_not_have_are_removed_without_a_trace():
    a = image(1)
    body = f'<p>前<img data-sha256="{"e" * 64}">中<img data-sha256="{a.sha256}">后<img data-sha256="{"f" * 64}"></p>'
    up = Uploader()
    out = await r.render_article(article(body, author=""), [a], up)
    assert out.content == f'<p>前中<img alt="" src="https://mmbiz.qpic.cn/{a.sha256[:4]}" style="max-width:100%;height:auto"/>后</p>'
    assert up.bodies == [a.sha256] and out.author == ""


async def test_a_cut_article_uploads_the_images_it_keeps_only():
    kept, dropped = image(1), image(2)
    body = (f'<p><img data-sha256="{kept.sha256}"></p>' + "".join(f"<p>第{i}段" + "字" * 990 + "</p>" for i in range(30))
            + f'<p><img data-sha256="{dropped.sha256}"></p>')
    up = Uploader()
    out = await r.render_article(article(body), [kept, dropped], up, allow_cut=True)
    assert up.bodies == [kept.sha256]
    assert out.content.startswith(f'<p><img alt="" src="https://mmbiz.qpic.cn/{kept.sha256[:4]}" style="max-width:100%;height:auto"/></p><p>第0段')
    assert out.content.endswith(f"<p>{r.TEXT_CUT_NOTE}</p>") and len(out.content) < CONTENT_CHARS


async def test_content_too_long_with_real_urls_is_refused_with_its_real_size():
    body, imgs = long_with_real_urls()
    with pytest.raises(r.ArticleTooLong) as e:
        await r.render_article(article(body), imgs, LongUrls())
    img = len('<p><img alt="" src="https://mmbiz.qpic.cn/' + "u" * 3000 + '" style="max-width:100%;height:auto"/></p>')
    chars = 18_007 + 7 * img
    assert str(e.value) == r.TEXT_CONTENT_TOO_LONG.format(id=7, chars=chars, bytes=chars + 2 * 18_000)


def test_a_very_long_article_is_cut_to_its_first_blocks_too():
    """600 kB of text, or one paragraph of over 1 MB: what is dropped is taken off the size in bytes
    as well (never added to it, nor the size reset to the dropped block's)."""
    block = "<p>" + "字" * 996 + "</p>"  # 1,003 characters, 2,995 bytes
    cut = r.cut_to_fit(block * 200)
    assert cut == block * 19 + f"<p>{r.TEXT_CUT_NOTE}</p>"
    # One paragraph of over 1 MB at the end: it goes, and the short one before it is kept.
    assert r.cut_to_fit("<p>短</p><p>" + "字" * 350_000 + "</p>") == f"<p>短</p><p>{r.TEXT_CUT_NOTE}</p>"
