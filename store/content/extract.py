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
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from bs4 import BeautifulSoup, NavigableString, Tag

from bot.config import SourceSettings
from store.content.clean import clean_body
from store.content.dom import (
    BLOCKS,
    CRUMB,
    attr_words,
    block_text,
    chrome_elements,
    clean_text,
    inside,
    link_density,
    one_line,
    parse_html,
    squash,
    strip_noise,
)  # fmt: skip
from store.content.listing import Listing, best_group, has_pager, make_listing, selected_listing
from store.content.metadata import find_meta, page_lines, parse_date

__all__ = ["DIGEST_MAX", "Extracted", "ExtractError", "Listing", "block_text", "parse_date", "parse_page"]

DIGEST_MAX = 120  # WeChat allows 128; leave room for the ellipsis and editors' tweaks
_PARA = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "figcaption", "dd"}
_PUNCT = "，。、；！？"
_TITLE_SPLIT = re.compile(r"\s*(?:[_|｜–—>]|--|-|——)\s*")
_TITLE_WORD = re.compile(r"title|tit$|tit[-_]|headline|biaoti|^bt$|heading", re.I)
_INFO_LABEL = re.compile(r"(来\s*源|作\s*者|编\s*辑|发布|时\s*间|日\s*期|浏览|点击|责编)\s*[:：]")
_BOTTOM = re.compile(r"^(footer|foot|copyright|bottom)([-_]|$)|[-_](footer|foot|copyright|bottom)$", re.I)
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


class ExtractError(Exception):
    """The page has no recognisable article (reason in the message)."""


def make_digest(text: str, limit: int = DIGEST_MAX) -> str:
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
    body = soup.select_one(site.body) if site and site.body else _find_body(root, chrome)
    if not (site and (site.body or site.listing_item)):
        group = best_group(soup, url)
        if group is not None and _is_listing(soup, body, group):
            return make_listing(soup, url, group, site)
    if body is None or _prose(body)[0] == 0:
        raise ExtractError("no article text found on the page")
    return _article(soup, body, url, site)


# --- the body --------------------------------------------------------------------------------------


def _find_body(root: Tag, chrome: list[Tag]) -> Tag | None:
    """Readability-style: the text of a paragraph scores its container fully and the one above by half;
    a container's score shrinks with its share of link text. Chrome and link text score nothing."""
    chrome_ids = {id(el) for el in chrome}
    # A page's footer is never its body, however much it says (声明, 免责, addresses).
    bottom = {id(el) for el in root.find_all(True) if any(_BOTTOM.search(w) for w in attr_words(el))}
    leaf: dict[int, bool] = {}
    scores: dict[int, list] = {}

    def add(el: Tag | None, w: float) -> None:
        if el is not None and el.name not in ("html", "[document]"):
            scores.setdefault(id(el), [el, 0.0])[1] += w

    for s in root.find_all(string=True):
        n = len(squash(s))
        if n < 2:
            continue
        parents = list(s.parents)
        if any(p.name in ("a", "footer") or id(p) in chrome_ids or id(p) in bottom for p in parents):
            continue
        block = next((p for p in parents if p.name in BLOCKS), None)
        if block is None:
            continue
        if id(block) not in leaf:
            leaf[id(block)] = block.find(list(BLOCKS)) is None
        # A paragraph scores its container; text straight in a div among blocks scores that div.
        container = block.parent if block.name in _PARA or leaf[id(block)] else block
        weight = n + 3 * sum(s.count(ch) for ch in _PUNCT)
        add(container, weight)
        if container is not None:
            add(container.parent, weight / 2)
    if not scores:
        return None
    best = max(scores.values(), key=lambda pair: pair[1] * (1 - min(link_density(pair[0]), 0.9)))
    return best[0]


def _prose(el: Tag, skip: set[int] | None = None) -> tuple[int, bool]:
    """(characters outside links, whether any of it reads as sentences) in `el`, ignoring `skip`."""
    total, sentences = 0, False
    for s in el.find_all(string=True):
        parents = list(s.parents)
        if any(p.name == "a" or (skip and id(p) in skip) for p in parents):
            continue
        text = squash(s)
        total += len(text)
        if len(text) >= 20 and (any(ch in text for ch in "。！？") or text.count("，") >= 2):
            sentences = True
    return total, sentences


def _is_listing(soup: BeautifulSoup, body: Tag | None, group) -> bool:
    """Listing or article, by structure: the entries' text against the prose outside them."""
    pager = has_pager(soup)
    if len(group.rows) < (1 if pager else 2):
        return False
    # Entries' text is not prose, unless the "entry" holds the body (a link in the article's header).
    skip = {id(row) for _, row in group.rows if body is None or not (row is body or inside(body, row))}
    prose, sentences = _prose(body, skip) if body is not None else (0, False)
    if sentences and _has_article_title(soup, skip):
        return False  # a titled article however short, beside however many links to others
    article = prose * (2.0 if sentences else 0.5)
    return group.text * (1.5 if pager else 1.0) > article


def _has_article_title(soup: BeautifulSoup, skip: set[int]) -> bool:
    """A heading that repeats the page's <title> and is no link's text: an article's own title (a
    listing's heading is its column's name, which the menu links to)."""
    titles = _page_titles(soup)
    link_texts = {squash(a.get_text()) for a in soup.find_all("a")}
    for el in soup.find_all(["h1", "h2", "h3", "b", "strong", "div", "td", "span"]):
        if el.name in ("div", "td", "span", "b", "strong") and not any(_TITLE_WORD.search(w) for w in attr_words(el)):
            if el.name not in ("b", "strong"):
                continue
        text = squash(el.get_text())
        if 6 <= len(text) <= 120 and text not in link_texts and _match(text, titles) >= 0.7:
            if not any(id(p) in skip for p in el.parents):
                return True
    return False


def _first_paragraph(body: Tag) -> NavigableString | None:
    """The first substantial run of prose in the body: what comes before it is the title and info."""
    titles = _page_titles(body.find_parent("html") or body)
    for s in body.find_all(string=True):
        text = squash(s)
        if len(text) >= 30 or (len(text) >= 12 and any(ch in text for ch in "，。")):
            if s.find_parent(["h1", "h2", "h3"]) is None and _match(text, titles) < 0.7:
                return s
    return None


# --- the title -------------------------------------------------------------------------------------


def _page_titles(soup: BeautifulSoup) -> list[str]:
    out = []
    for attrs in ({"name": re.compile("^articletitle$", re.I)}, {"property": "og:title"}):
        meta = soup.find("meta", attrs=attrs)
        if meta and meta.get("content"):
            out.append(BeautifulSoup(meta["content"], "lxml").get_text(" "))
    if soup.title:
        out.append(soup.title.get_text())
    return [" ".join(t.split()) for t in out if t.strip()]


def _match(text: str, titles: list[str]) -> float:
    t = squash(text)
    best = 0.0
    for full in titles:
        f = squash(full)
        segments = [squash(x) for x in _TITLE_SPLIT.split(full) if x.strip()]
        if t in segments or (t == f and len(segments) == 1):
            return 1.0
        if t == f:  # the whole "站名_栏目" title shown as a banner is not the article's title
            best = max(best, 0.2)
        if len(t) >= 6 and t in f:
            best = max(best, 0.8)
        elif segments and len(segments[0]) >= 6 and t.startswith(segments[0]):
            best = max(best, 0.7)
    return best


def _find_title(soup: BeautifulSoup, body: Tag | None, chrome: set[int]) -> Tag | None:
    titles = _page_titles(soup)
    stop = _first_paragraph(body) if body is not None else None
    link_texts: dict[str, list[Tag]] = defaultdict(list)
    for a in soup.find_all("a"):
        link_texts[squash(a.get_text())].append(a)
    candidates: list[tuple[Tag, float]] = []
    lines_since: list[Tag] = []  # plain short lines seen, nearest last
    for el in (soup.body or soup).find_all(True):
        if stop is not None and el is stop.parent:
            break
        if el.name not in BLOCKS and el.name not in ("b", "strong", "font", "span", "h1", "h2", "h3"):
            continue
        if any(id(p) in chrome for p in (el, *el.parents)):
            continue
        text = one_line(el)
        if not 4 <= len(text) <= 120 or CRUMB.search(text):
            continue
        if link_density(el) > 0.5 and el.name not in ("h1", "h2", "h3"):
            continue  # a menu entry (a heading may link to its own page)
        if parse_date(text) or _INFO_LABEL.search(text):
            continue  # the info line
        if el.find(["h1", "h2", "h3", "p", "div", "td", "table", "li"]) is not None:
            continue  # the innermost block holding the line, not its wrapper
        if len(squash(text)) <= 12 and any(not inside(a, el) for a in link_texts.get(squash(text), [])):
            continue  # a column name: the menu links to it
        heading = {"h1": 3.0, "h2": 2.0, "h3": 1.5}.get(el.name, 0.0)
        if not heading and any(_TITLE_WORD.search(w) for w in attr_words(el)):
            heading = 1.5
        elif not heading and el.name in ("b", "strong", "font"):
            heading = 0.5
        score = heading + 4 * _match(text, titles)
        if score == 0:
            if re.search(r"[。；]", text) or parse_date(text):
                continue
            lines_since.append(el)
            score = 0.1  # a bare short line: only wins when nothing else does, if nearest the body
        candidates.append((el, score))
    if not candidates:
        return None
    best = max(score for _, score in candidates)
    near = [el for el, score in candidates if score == best]
    if best <= 0.1:
        near = lines_since  # the bare line nearest the body
    if not near:
        return None
    el = near[-1]
    # A title set in two spans (title + line break + rest): take the block holding both.
    while (m := _match(one_line(el), titles)) and m < 1.0 and el.parent is not None and el.parent.name != "body":
        if _match(one_line(el.parent), titles) <= m:
            break
        el = el.parent
    return el


def _title_text(soup: BeautifulSoup, title_el: Tag | None) -> str:
    if title_el is not None:
        return one_line(title_el)
    titles = _page_titles(soup)
    return _TITLE_SPLIT.split(titles[-1])[0].strip() if titles else ""


# --- the article -----------------------------------------------------------------------------------


def _select_text(soup: BeautifulSoup, selector: str) -> str:
    el = soup.select_one(selector) if selector else None
    return " ".join(el.get_text(" ").split()) if el else ""


def _tags(soup: BeautifulSoup) -> list[str]:
    """The column (栏目): the breadcrumb's last crumb that names a column ("新闻动态"), never "正文"."""
    for s in soup.find_all(string=CRUMB):
        holder = s.parent
        while holder is not None and len(holder.get_text()) < len(s) + 4 and holder.parent is not None:
            holder = holder.parent
        links = [one_line(a) for a in holder.find_all("a")] if holder is not None else []
        text = one_line(holder) if holder is not None else str(s)
        parts = links or re.split(r"[/>»›]|&gt;|\s-\s", CRUMB.split(text, maxsplit=1)[-1])
        parts = [p.strip() for p in parts if p.strip()]
        parts = [p for p in parts if p not in ("首页", "网站首页", "主页", "正文", "内容", "详情") and len(p) <= 12]
        if parts:
            return [parts[-1]]
    return []


def _article(soup: BeautifulSoup, body: Tag, url: str, site: SourceSettings | None) -> Extracted:
    chrome = {id(el) for el in chrome_elements(soup.body or soup)}
    title_el = None if (site and site.title) else _find_title(soup, body, chrome)
    title = _select_text(soup, site.title) if site and site.title else _title_text(soup, title_el)
    if not title:
        raise ExtractError("no title found on the page")
    stop = _first_paragraph(body)
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
    for s in body.find_all(string=re.compile(r"来\s*源\s*[:：]")):
        holder = s.parent
        text = holder.get_text(strip=True) if holder is not None else ""
        if holder is not body and len(text) <= 60 and _SOURCE_LINE.match(text):
            remove.append(holder)
    body_html, images = clean_body(body, url, remove)
    body_text = clean_text(block_text(BeautifulSoup(body_html, "lxml")))
    if not body_text and not images:
        raise ExtractError("the article body is empty")
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
