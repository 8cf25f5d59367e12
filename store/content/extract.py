"""Turn one HTML page of a typical Chinese CMS into an article (or a listing of article links).

Works without configuration on unseen sites of this kind. The bytes are decoded as a browser would
(charset.py). The body is the container that collects the most prose (text outside links, weighted
by its punctuation) with the fewest links, where a paragraph may be a <p>, an <li> or any block that
holds only inline content (TRS editors write <div><span>…</span></div> per paragraph). The page is
a listing when a group of sibling entries linking to the site's pages (listing.py) outweighs that
prose. The title is the heading (or, failing one, the short line) nearest above the body that best
matches the page's <title>/<meta>; the date, 来源 and author come from metadata.py. Site chrome is
dropped (dom.py). A `[[sources]]` entry's CSS selectors, where given, override each guess.
Everything here is synchronous and CPU-bound: callers run it off the event loop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from bs4 import BeautifulSoup, NavigableString, Tag

from core.config import SourceSettings
from store.content import texts
from store.content.clean import clean_body
from store.content.dom import (
    BLOCKS,
    CRUMB,
    attr_words,
    block_text,
    chrome_elements,
    containers_of,
    inside,
    link_density,
    one_line,
    parse_html,
    squash,
    strings,
    strip_noise,
    tags,
)  # fmt: skip
from store.content.listing import Listing, best_group, has_pager, make_listing, selected_listing
from store.content.metadata import find_meta, page_lines, parse_date
from store.content.title import Titles

__all__ = ["DIGEST_TARGET", "Extracted", "ExtractError", "Listing", "block_text", "parse_date", "parse_page"]

# The digest made from the body: under WeChat's 128 (wechat.limits.DIGEST_CHARS), leaving room for
# the ellipsis and editors' tweaks.
DIGEST_TARGET = 120
_PARA = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "figcaption", "dd"}
_PUNCT = "，。、；！？"
_BOTTOM = re.compile(r"^(footer|foot|copyright|bottom)([-_]|$)|[-_](footer|foot|copyright|bottom)$", re.I)
_SOURCE_ANY = re.compile(r"来\s*源\s*[:：]")
_SOURCE_LINE = re.compile(r"^[\[【(（]?\s*(信息|文章|稿件|新闻)?来\s*源\s*[:：]")
_META_LINE = re.compile(
    r"(来\s*源|作\s*者|编\s*辑|发布|时\s*间|日\s*期|浏览|点击|阅读|字号|分享|打印|责编|(?:19|20)\d\d\s*[-/.年])"
)


@dataclass
class Extracted:
    url: str
    title: str
    published_at: date | None
    source_name: str
    author: str
    body_html: str  # clean HTML; <img src> absolute, in the order of `images`
    body_text: str
    digest: str
    images: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    # (title terms, title-and-body terms) for the search index, when the parser computed them.
    terms: tuple[set[str], set[str]] | None = None
    # Its content hash (parsing.content_hash), when the parser computed it.
    content_hash: str | None = None


class ExtractError(Exception):
    """The page has no recognisable article (reason in the message)."""


def make_digest(text: str, limit: int = DIGEST_TARGET) -> str:
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    end = max(cut.rfind("。"), cut.rfind("！"), cut.rfind("？"))
    return cut[: end + 1] if end >= limit // 2 else cut[: limit - 1] + "…"


def parse_page(
    html: bytes | str, url: str, site: SourceSettings | None = None, encoding: str | None = None
) -> Extracted | Listing:
    """An article page → Extracted; a listing page (a group of entries outweighing any prose) → Listing."""
    soup = parse_html(html, encoding)
    strip_noise(soup)
    if site:
        for sel in site.drop:
            for el in soup.select(sel):
                el.decompose()
    if site and site.listing_item and (listing := selected_listing(soup, url, site)) is not None:
        return listing
    root = soup.body or soup
    chrome = chrome_elements(root)
    titles = Titles(soup)
    body = soup.select_one(site.body) if site and site.body else _find_body(root, chrome)
    if not (site and (site.body or site.listing_item)):
        group = best_group(soup, url)
        if group is not None and _is_listing(soup, body, group, titles):
            return make_listing(soup, url, group, site)
    if body is None or _prose(body)[0] == 0:
        raise ExtractError(texts.NO_ARTICLE_TEXT)
    return _article(soup, body, url, site, chrome, titles)


# --- the body --------------------------------------------------------------------------------------


def _find_body(root: Tag, chrome: list[Tag]) -> Tag | None:
    """Readability-style: the text of a paragraph scores its container fully and the one above by half;
    a container's score shrinks with its share of link text. Chrome and link text score nothing."""
    chrome_ids = {id(el) for el in chrome}
    # A page's footer is never its body, however much it says (声明, 免责, addresses).
    skip = chrome_ids | {id(el) for el in tags(root) if any(_BOTTOM.search(w) for w in attr_words(el))}
    not_leaf = containers_of(root, BLOCKS)
    scores: dict[int, list] = {}

    def add(el: Tag | None, w: float) -> None:
        if el is not None and el.name not in ("html", "[document]"):
            scores.setdefault(id(el), [el, 0.0])[1] += w

    for s in strings(root):
        n = len(squash(s))
        if n < 2:
            continue
        block = None
        for p in s.parents:
            if p.name in ("a", "footer") or id(p) in skip:
                break
            if block is None and p.name in BLOCKS:
                block = p
        else:
            if block is None:
                continue
            # A paragraph scores its container; text straight in a div among blocks scores that div.
            container = block.parent if block.name in _PARA or id(block) not in not_leaf else block
            weight = n + 3 * sum(s.count(ch) for ch in _PUNCT)
            add(container, weight)
            if container is not None:
                add(container.parent, weight / 2)
    if not scores:
        return None
    # The link share is costly to measure: only for the few best by raw score.
    top = sorted(scores.values(), key=lambda pair: pair[1], reverse=True)[:12]
    return max(top, key=lambda pair: pair[1] * (1 - min(link_density(pair[0]), 0.9)))[0]


def _prose(el: Tag, skip: set[int] | None = None) -> tuple[int, bool]:
    """(characters outside links, whether any of it reads as sentences) in `el`, ignoring `skip`."""
    total, sentences = 0, False
    for s in strings(el):
        if any(p.name == "a" or (skip and id(p) in skip) for p in s.parents):
            continue
        text = squash(s)
        total += len(text)
        if len(text) >= 20 and (any(ch in text for ch in "。！？") or text.count("，") >= 2):
            sentences = True
    return total, sentences


def _is_listing(soup: BeautifulSoup, body: Tag | None, group, titles: Titles) -> bool:
    """Listing or article, by structure: the entries' text against the prose outside them."""
    pager = has_pager(soup)
    if len(group.rows) < (1 if pager else 2):
        return False
    # Entries' text is not prose, unless the "entry" holds the body (a link in the article's header).
    skip = {id(row) for _, row in group.rows if body is None or not (row is body or inside(body, row))}
    prose, sentences = _prose(body, skip) if body is not None else (0, False)
    if sentences and titles.has_article_title(skip):
        return False  # a titled article however short, beside however many links to others
    article = prose * (2.0 if sentences else 0.5)
    return group.text * (1.5 if pager else 1.0) > article


def _first_paragraph(body: Tag, titles: Titles) -> NavigableString | None:
    """The first substantial run of prose in the body: what comes before it is the title and info."""
    for s in strings(body):
        text = squash(s)
        if len(text) >= 30 or (len(text) >= 12 and any(ch in text for ch in "，。")):
            if not any(p.name in ("h1", "h2", "h3") for p in s.parents) and titles.match(text) < 0.7:
                return s
    return None


# --- the article -----------------------------------------------------------------------------------


def _select_text(soup: BeautifulSoup, selector: str) -> str:
    el = soup.select_one(selector) if selector else None
    return " ".join(el.get_text(" ").split()) if el else ""


def _tags(soup: BeautifulSoup) -> list[str]:
    """The column (栏目): the breadcrumb's last crumb that names a column ("新闻动态"), never "正文"."""
    for s in (s for s in strings(soup) if CRUMB.search(s)):
        holder = s.parent
        while holder is not None and len(holder.get_text()) < len(s) + 4 and holder.parent is not None:
            holder = holder.parent
        links = [one_line(a) for a in tags(holder, ("a",))] if holder is not None else []
        text = one_line(holder) if holder is not None else str(s)
        parts = links or re.split(r"[/>»›]|&gt;|\s-\s", CRUMB.split(text, maxsplit=1)[-1])
        parts = [p.strip() for p in parts if p.strip()]
        parts = [p for p in parts if p not in ("首页", "网站首页", "主页", "正文", "内容", "详情") and len(p) <= 12]
        if parts:
            return [parts[-1]]
    return []


def _article(
    soup: BeautifulSoup, body: Tag, url: str, site: SourceSettings | None, chrome: list[Tag], titles: Titles
) -> Extracted:
    stop = _first_paragraph(body, titles)
    title_el = None if (site and site.title) else titles.find(soup.body or soup, stop, {id(el) for el in chrome})
    if site and site.title:
        title = _select_text(soup, site.title)
    else:
        title = one_line(title_el) if title_el is not None else titles.fallback()
    if not title:
        raise ExtractError(texts.NO_TITLE)
    lines = page_lines(soup.body or soup, title_el, body, stop)
    meta = find_meta(soup, lines, url)
    published = parse_date(_select_text(soup, site.date)) if site and site.date else None
    source = re.sub(r"^来\s*源\s*[:：]\s*", "", _select_text(soup, site.source)) if site and site.source else ""

    # What sits between the title and the first paragraph inside the body: the info line goes.
    remove: list[Tag] = []
    if title_el is not None and inside(title_el, body):
        remove.append(title_el)
    node = title_el.next_element if title_el is not None and inside(title_el, body) else None
    while node is not None and node is not stop:
        if isinstance(node, NavigableString) and not inside(node, title_el):
            holder = node.parent
            if holder is not None and holder is not body and inside(holder, body):
                text = holder.get_text(strip=True)
                if len(text) <= 80 and _META_LINE.search(text):
                    remove.append(holder)
        node = node.next_element
    # The 来源 line inside the body is metadata, not prose.
    for s in (s for s in strings(body) if _SOURCE_ANY.search(s)):
        holder = s.parent
        text = holder.get_text(strip=True) if holder is not None else ""
        if holder is not body and len(text) <= 60 and _SOURCE_LINE.match(text):
            remove.append(holder)
    body_html, images = clean_body(body, url, remove, [el for el in chrome if inside(el, body)])
    body_text = block_text(body)
    if not body_text and not images:
        raise ExtractError(texts.EMPTY_BODY)
    return Extracted(
        url=url,
        title=title,
        published_at=published or meta.published_at,
        source_name=source or meta.source_name,
        author=meta.author,
        body_html=body_html,
        body_text=body_text,
        digest=make_digest(body_text),
        images=images,
        tags=_tags(soup),
    )
