"""An article as WeChat's draft/add accepts it.

WeChat removes scripts, filters out images not served by its own `media/uploadimg`, strips links
to outside sites (unless the account has WeChat Pay) and refuses content of 20,000 characters or
1 MB. So the content we send has only plain tags, simple inline styles, every image re-hosted,
outside links as plain text with numbered notes at the end, and fits the limits: otherwise
ArticleTooLong says why (or, when the caller allows, whole blocks are dropped from the end with a
note pointing to 阅读原文: never a cut inside a tag).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Protocol
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Comment, NavigableString
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models.content import Article, ArticleImage, Image
from wechat.limits import (
    AUTHOR_CHARS,
    CONTENT_BYTES,
    CONTENT_CHARS,
    DIGEST_CHARS,
    SOURCE_URL_BYTES,
    TITLE_CHARS,
)

# What editors and readers see when something does not fit (Chinese: it reaches editors verbatim).
TEXT_TITLE_TOO_LONG = "文章 {id} 的标题有 {n} 个字，超过公众号 32 字的上限；请用 `news edit {id} --wechat-title …` 设置公众号标题。"
TEXT_CONTENT_TOO_LONG = "文章 {id} 的正文 HTML 有 {chars} 个字符、{bytes} 字节，超过公众号 20,000 字符或 1 MB 的上限；请删减正文后再推送。"
TEXT_CUT_NOTE = "（全文较长，以上为节选，请点击“阅读原文”查看全文。）"
TEXT_NOTES = "文中链接："

_DROP = (
    "script", "style", "iframe", "frame", "frameset", "form", "input", "button", "select", "textarea",
    "object", "embed", "applet", "noscript", "svg", "canvas", "link", "meta", "base", "template",
    "video", "audio", "head", "title",
)  # fmt: skip
_ALLOWED = {
    "p", "br", "span", "strong", "b", "em", "i", "u", "s", "sub", "sup", "h1", "h2", "h3", "h4", "h5",
    "h6", "blockquote", "pre", "code", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td",
    "img", "figure", "figcaption", "section", "hr", "a",
}  # fmt: skip
_RENAME = {"div": "section", "article": "section", "main": "section", "center": "section", "font": "span"}
_ATTRS = {
    "img": {"src", "alt", "style"},
    "td": {"colspan", "rowspan", "style"},
    "th": {"colspan", "rowspan", "style"},
}
_STYLE_PROPS = {
    "color", "background-color", "font-size", "font-weight", "font-style", "text-align", "text-decoration",
    "text-indent", "line-height", "letter-spacing", "margin", "margin-top", "margin-bottom", "margin-left",
    "margin-right", "padding", "padding-top", "padding-bottom", "padding-left", "padding-right",
    "max-width", "width", "height", "border", "vertical-align",
}  # fmt: skip
_STYLE_VALUE = re.compile(r"^[#\w\s.,%()-]{1,60}$")
_WECHAT_HOSTS = ("mp.weixin.qq.com",)


class ArticleTooLong(Exception):
    """The article cannot be sent as is; the message says why and what to do."""


class Uploader(Protocol):
    async def body_image_url(self, image: Image) -> str: ...
    async def cover_media_id(self, image: Image) -> str: ...
    async def default_cover(self) -> Image: ...


@dataclass(frozen=True)
class RenderedArticle:
    title: str
    author: str
    digest: str
    content: str
    content_source_url: str
    thumb_media_id: str

    def as_draft(self) -> dict:
        """One item of draft/add's `articles`."""
        return {**asdict(self), "need_open_comment": 0, "only_fans_can_comment": 0}


def clean_style(style: str) -> str:
    keep = []
    for decl in style.split(";"):
        prop, _, value = decl.partition(":")
        prop, value = prop.strip().lower(), value.strip()
        if (
            prop in _STYLE_PROPS
            and _STYLE_VALUE.match(value)
            and "url" not in value.lower()
            and "expression" not in value.lower()
        ):
            keep.append(f"{prop}:{value}")
    return ";".join(keep)


def sanitize(body_html: str) -> tuple[str, list[str]]:
    """Allowed tags and attributes only; outside links → text + [n] with the notes at the end;
    images keep a `data-sha256` placeholder for the upload → (html, sha256 of each image in order)."""
    soup = BeautifulSoup(body_html, "html.parser")
    for c in soup.find_all(string=lambda s: isinstance(s, Comment)):
        c.extract()
    for el in soup.find_all(_DROP):
        el.decompose()
    notes: list[str] = []
    images: list[str] = []
    for el in list(soup.find_all(True)):
        if el.decomposed:
            continue
        el.name = _RENAME.get(el.name, el.name)
        if el.name not in _ALLOWED:
            el.unwrap()
            continue
        if el.name == "a":
            href = (el.get("href") or "").strip()
            text = el.get_text().strip()
            if urlsplit(href).scheme in ("http", "https") and urlsplit(href).hostname in _WECHAT_HOSTS:
                el.attrs = {"href": href}
                continue
            if urlsplit(href).scheme in ("http", "https"):
                n = notes.index(href) + 1 if href in notes else (notes.append(href) or len(notes))
                el.insert_after(NavigableString(f"[{n}]"))
                if not text:
                    el.insert_after(NavigableString(href))
            el.unwrap()
            continue
        if el.name == "img":
            sha = el.get("data-sha256")
            if not sha:
                el.decompose()  # WeChat would filter it out anyway; we have nothing to upload
                continue
            images.append(sha)
            el.attrs = {"data-sha256": sha, "alt": el.get("alt", ""), "style": "max-width:100%;height:auto"}
            continue
        allowed = _ATTRS.get(el.name, {"style"})
        attrs = {k: v for k, v in el.attrs.items() if k in allowed}
        if "style" in attrs:
            attrs["style"] = clean_style(
                attrs["style"] if isinstance(attrs["style"], str) else " ".join(attrs["style"])
            )
            if not attrs["style"]:
                del attrs["style"]
        el.attrs = attrs
    html = str(soup).strip()
    if notes:
        items = "".join(f"<p>[{i}] {_escape(url)}</p>" for i, url in enumerate(notes, 1))
        html += f'<section style="font-size:14px;color:#888888"><p>{TEXT_NOTES}</p>{items}</section>'
    return html, images


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fits(html: str) -> bool:
    return len(html) < CONTENT_CHARS and len(html.encode("utf-8")) < CONTENT_BYTES


def fill_images(html: str, urls: dict[str, str]) -> str:
    soup = BeautifulSoup(html, "html.parser")
    for img in soup.find_all("img"):
        img["src"] = urls[img["data-sha256"]]
        del img["data-sha256"]
    return str(soup)


def cut_to_fit(html: str) -> str | None:
    """Drop whole top-level blocks from the end until the rest plus a 阅读原文 note fits; None if
    not even the first block fits."""
    soup = BeautifulSoup(html, "html.parser")
    blocks = [str(node) for node in soup.contents]
    note = f"<p>{TEXT_CUT_NOTE}</p>"
    total = sum(len(b) for b in blocks) + len(note)
    total_bytes = sum(len(b.encode()) for b in blocks) + len(note.encode())
    while blocks and (total >= CONTENT_CHARS or total_bytes >= CONTENT_BYTES):
        last = blocks.pop()
        total -= len(last)
        total_bytes -= len(last.encode())
    return "".join(blocks) + note if blocks else None


async def render_article(
    article: Article, images: Iterable[Image], uploader: Uploader, *, allow_cut: bool = False
) -> RenderedArticle:
    """The draft/add fields for `article`; `images` are its Image rows (body and cover).
    Raises ArticleTooLong when the title or the content does not fit. With `allow_cut`, content
    that is too long loses whole blocks from its end and gains a note pointing to 阅读原文."""
    title = article.wechat_title or article.title
    if len(title) > TITLE_CHARS:
        raise ArticleTooLong(TEXT_TITLE_TOO_LONG.format(id=article.id, n=len(title)))
    by_sha = {i.sha256: i for i in images}
    by_id = {i.id: i for i in by_sha.values()}

    html, shas = await asyncio.to_thread(sanitize, article.body_html)
    source_url = article.source_url if article.source_url.startswith(("http://", "https://")) else ""
    if len(source_url.encode()) > SOURCE_URL_BYTES:
        source_url = ""
    # Measure with placeholders as long as an uploaded URL before spending uploads on it.
    rough = re.sub(r'data-sha256="[0-9a-f]+"', 'src="' + "x" * 120 + '"', html)
    if not _fits(rough) and not (allow_cut and source_url):
        raise ArticleTooLong(
            TEXT_CONTENT_TOO_LONG.format(id=article.id, chars=len(rough), bytes=len(rough.encode()))
        )
    if not _fits(rough):
        html = await asyncio.to_thread(cut_to_fit, html) or ""
        if not html:
            raise ArticleTooLong(
                TEXT_CONTENT_TOO_LONG.format(id=article.id, chars=len(rough), bytes=len(rough.encode()))
            )
        shas = re.findall(r'data-sha256="([0-9a-f]+)"', html)

    urls: dict[str, str] = {}
    missing = [s for s in shas if s not in by_sha]
    if missing:
        html = re.sub(r'<img[^>]*data-sha256="(' + "|".join(missing) + ')"[^>]*/?>', "", html)
    for sha in dict.fromkeys(s for s in shas if s in by_sha):
        urls[sha] = await uploader.body_image_url(by_sha[sha])
    content = await asyncio.to_thread(fill_images, html, urls)
    if not _fits(content):  # the real URLs came out longer than our estimate
        cut = await asyncio.to_thread(cut_to_fit, content) if allow_cut and source_url else None
        if cut is None:
            raise ArticleTooLong(
                TEXT_CONTENT_TOO_LONG.format(id=article.id, chars=len(content), bytes=len(content.encode()))
            )
        content = cut

    cover = by_id.get(article.cover_image_id) if article.cover_image_id else None
    cover = cover or await uploader.default_cover()
    digest = (article.wechat_digest or article.digest or "").strip()
    if len(digest) > DIGEST_CHARS:
        digest = digest[: DIGEST_CHARS - 1] + "…"
    return RenderedArticle(
        title=title,
        author=(article.author or "")[:AUTHOR_CHARS],
        digest=digest,
        content=content,
        content_source_url=source_url,
        thumb_media_id=await uploader.cover_media_id(cover),
    )


async def article_images(session: AsyncSession, article: Article) -> list[Image]:
    """The Image rows render_article needs for `article`: its body images and its cover."""
    linked = select(ArticleImage.image_id).where(ArticleImage.article_id == article.id)
    stmt = select(Image).where(or_(Image.id.in_(linked), Image.id == article.cover_image_id))
    return list((await session.execute(stmt)).scalars())
