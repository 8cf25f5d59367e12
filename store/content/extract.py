"""Turn one HTML page of a typical Chinese CMS into an article (or a listing of article links).

Works without configuration on unseen sites of this kind: the body is the container that collects
the most paragraph text with the fewest links; the title is the last heading before the body's first
real paragraph; the date, author and 来源 are read from the lines between the title and the body.
Site chrome (navigation, 登录/注册, breadcrumbs, 返回首页, QR-code blurbs, share buttons, "人阅读")
is dropped. A `[[sources]]` entry's CSS selectors, where given, override each guess.
Everything here is synchronous and CPU-bound: callers run it in a thread.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from bot.config import SourceSettings

DIGEST_MAX = 120  # WeChat allows 128; leave room for the ellipsis and editors' tweaks

_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)\s*日?")
# Dates many CMSs put in article URLs: /2024/03/14/, t20240314_123.html, /202403/14/
_URL_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})[-/_]?(\d{2})[-/_]?(\d{2})(?!\d)")
_SOURCE = re.compile(r"来\s*源\s*[:：]\s*([^\s|｜]{1,40})")
_AUTHOR = re.compile(r"(?:作\s*者|撰\s*稿)\s*[:：]\s*([^\s|｜]{1,20})")
_CRUMB = re.compile(r"(您当前的位置|当前位置|您的位置|所在位置|当前页面)\s*[:：]")
_NEXT = re.compile(r"^\s*(下一页|下页|后一页|next|next page|›|»|>|>>)\s*$", re.I)

# Short elements whose whole text is chrome.
_CHROME_TEXT = re.compile(
    r"^[\[【(（]?\s*("
    r"登录|注册|登\s*录\s*[|｜/]\s*注\s*册|会员登录|会员注册|退出|返回首页|返回顶部|返回列表|回到顶部|"
    r"首页|打印(本页|此页)?|关闭(窗口|本页)?|收藏(本页)?|分享(到)?.{0,20}|扫[一描]?[扫描]?二维码.{0,30}|"
    r"(微信)?扫一扫.{0,30}|二维码.{0,20}|字号.{0,10}|[大中小]\s*[大中小]?\s*[大中小]?|"
    r"上一篇.*|下一篇.*|相关(新闻|文章|阅读).*|(阅读|浏览|点击)(次数|量)?\s*[:：]?\s*\d*\s*次?|\d*\s*人阅读"
    r")\s*[\])】）]?$"
)
# A class/id word that marks chrome: nav, menu-top, bdshare, ewm (二维码), footer …
_CHROME_ATTR = re.compile(
    r"(^|[-_])(nav|navbar|menu|breadcrumbs?|crumbs?|location|position|login|logon|share|bdshare|"
    r"footer|foot|header|topbar|sidebar|side|aside|qrcode|qr|ewm|erweima|copyright|banner|pager|"
    r"pagination|pages|related|comment|comments|toolbar|print|search)([-_]|$)",
    re.I,
)
_CHROME_SRC = re.compile(r"(qr|ewm|erweima|share|icon|logo|weixin|wechat|spacer|blank)", re.I)
_DROP_TAGS = (
    "script", "style", "noscript", "iframe", "form", "input", "button", "select", "textarea",
    "object", "embed", "svg", "canvas", "template", "link", "meta", "nav", "video", "audio",
)  # fmt: skip
_BLOCKS = {
    "p", "div", "section", "article", "main", "td", "th", "tr", "li", "ul", "ol", "table", "h1", "h2",
    "h3", "h4", "h5", "h6", "blockquote", "pre", "figure", "figcaption", "center", "dl", "dt", "dd",
    "header", "footer", "aside", "body",
}  # fmt: skip
# What clean body HTML may contain (attributes: a href, img src/alt, td/th colspan/rowspan).
_KEEP = {
    "p", "br", "h2", "h3", "h4", "h5", "h6", "strong", "b", "em", "i", "u", "sub", "sup", "blockquote",
    "ul", "ol", "li", "table", "thead", "tbody", "tr", "td", "th", "img", "figure", "figcaption",
    "pre", "code", "hr", "a",
}  # fmt: skip
_KEEP_ATTRS = {
    "a": ("href",),
    "img": ("src", "alt"),
    "td": ("colspan", "rowspan"),
    "th": ("colspan", "rowspan"),
}
_WS = re.compile(r"[ \t\r\f\v\xa0\u3000\u2002\u2003\u200b]+")


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


@dataclass
class Listing:
    url: str
    items: list[tuple[str, date | None]]  # article URLs with the date the listing shows, if any
    next_url: str | None


class ExtractError(Exception):
    """The page has no recognisable article (reason in the message)."""


def parse_date(text: str) -> date | None:
    """The first date written 2024-03-14, 2024年3月14日, 2024/3/14 or 2024.3.14 in `text`."""
    for m in _DATE.finditer(text):
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            continue
    return None


def clean_text(text: str) -> str:
    lines = (_WS.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def make_digest(text: str, limit: int = DIGEST_MAX) -> str:
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    end = max(cut.rfind("。"), cut.rfind("！"), cut.rfind("？"))
    return cut[: end + 1] if end >= limit // 2 else cut[: limit - 1] + "…"


def block_text(el: Tag) -> str:
    """Text with a line break at each block boundary only, so inline markup never splits a phrase."""
    parts: list[str] = []
    for d in el.descendants:
        if isinstance(d, Comment):
            continue
        if isinstance(d, NavigableString):
            parts.append(str(d))
        elif isinstance(d, Tag) and (d.name in _BLOCKS or d.name == "br"):
            parts.append("\n")
    return clean_text("".join(parts))


def _soup(html: bytes | str, encoding: str | None) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml", from_encoding=encoding if isinstance(html, bytes) else None)


def _attr_words(el: Tag) -> list[str]:
    classes = el.get("class") or []
    return [*classes, el.get("id") or ""] if isinstance(classes, list) else [classes, el.get("id") or ""]


def _is_chrome_attr(el: Tag) -> bool:
    return any(_CHROME_ATTR.search(w) for w in _attr_words(el) if w)


def _text_len(el: Tag) -> int:
    return len("".join(el.get_text().split()))


def _link_density(el: Tag) -> float:
    total = _text_len(el)
    if not total:
        return 0.0
    return sum(_text_len(a) for a in el.find_all("a")) / total


def _strip_noise(soup: BeautifulSoup) -> None:
    for c in soup.find_all(string=lambda s: isinstance(s, Comment)):
        c.extract()
    for el in soup.find_all(_DROP_TAGS):
        el.decompose()


def _chrome(root: Tag) -> list[Tag]:
    """Chrome elements: chrome-named (when small or link-heavy, never a big text block), whole-text
    chrome ("返回首页", "扫二维码", "1234 人阅读") and breadcrumbs."""
    found: list[Tag] = []
    inside: set[int] = set()
    for el in root.find_all(True):
        if el.name in ("html", "body") or any(id(p) in inside for p in el.parents):
            continue
        text = " ".join(el.get_text(" ").split())
        if (
            (_is_chrome_attr(el) and (len(text) < 200 or _link_density(el) > 0.5))
            or (len(text) <= 40 and _CHROME_TEXT.match(text) and not el.find("img"))
            or (len(text) <= 60 and _CRUMB.search(text))
        ):
            found.append(el)
            inside.add(id(el))
    return found


def _drop_chrome(root: Tag) -> None:
    for el in _chrome(root):
        el.decompose()


def _inside(el, ancestor: Tag) -> bool:
    return any(p is ancestor for p in el.parents)


def _find_body(root: Tag) -> Tag | None:
    """Readability-style: text in a paragraph scores its container fully and the one above by half;
    a container's score shrinks with its share of link text. Chrome text scores nothing."""
    chrome = {id(el) for el in _chrome(root)}
    scores: dict[int, list] = {}

    def add(el: Tag, w: float) -> None:
        scores.setdefault(id(el), [el, 0.0])[1] += w

    for s in root.find_all(string=True):
        if isinstance(s, Comment):
            continue
        n = len("".join(s.split()))
        if n < 2:
            continue
        parents = list(s.parents)
        if any(p.name == "a" or id(p) in chrome for p in parents):
            continue
        block = next((p for p in parents if p.name in _BLOCKS), None)
        if block is None:
            continue
        para = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "figcaption", "dd")
        # Text straight in a div/td (lines split by <br>) scores that div itself.
        container = block.parent if block.name in para else block
        # Punctuation is the mark of prose, not of menus.
        weight = n + 3 * sum(s.count(ch) for ch in "，。、；！？")
        if container is not None:
            add(container, weight)
            if container.parent is not None:
                add(container.parent, weight / 2)
    if not scores:
        return None
    best = max(scores.values(), key=lambda pair: pair[1] * (1 - min(_link_density(pair[0]), 0.9)))
    return best[0]


def _page_title(soup: BeautifulSoup) -> str:
    og = soup.find("meta", attrs={"property": "og:title"})
    if og and og.get("content"):
        return og["content"].strip()
    return soup.title.get_text().strip() if soup.title else ""


def _first_paragraph(body: Tag) -> Tag | NavigableString | None:
    """The first substantial run of prose in the body: headings before it are the title's candidates."""
    for s in body.find_all(string=True):
        text = "".join(s.split())
        if len(text) >= 30 or (len(text) >= 12 and any(ch in text for ch in "，。")):
            return s
    return None


def _find_title(soup: BeautifulSoup, body: Tag | None) -> Tag | None:
    page_title = _page_title(soup)
    stop = _first_paragraph(body) if body is not None else None
    candidates: list[Tag] = []
    for el in soup.find_all(True):
        if stop is not None and el is stop.parent:
            break
        text = " ".join(el.get_text(" ").split())
        if not 4 <= len(text) <= 120:
            continue
        if el.name in ("h1", "h2", "h3") or any("title" in w.lower() for w in _attr_words(el) if w):
            if el.find(["h1", "h2", "h3"]) is None:  # the innermost heading, not its wrapper
                candidates.append(el)
        if stop is not None and el is stop:
            break
    # A heading that is also a link's text is a column name ("新闻动态" in the menu), not the title.
    links: dict[str, list[Tag]] = defaultdict(list)
    for a in soup.find_all("a"):
        links[" ".join(a.get_text(" ").split())].append(a)
    candidates = [
        c for c in candidates
        if not any(not _inside(a, c) for a in links.get(" ".join(c.get_text(" ").split()), []))
    ]  # fmt: skip
    if not candidates:
        return None
    in_page_title = [c for c in candidates if " ".join(c.get_text(" ").split()) in page_title]
    return (in_page_title or candidates)[-1]


def _elements_between(start: Tag | None, stop) -> list[NavigableString]:
    """Strings after `start` (or from the top) up to `stop`: where the date/source line lives."""
    out = []
    node = start.next_element if start is not None else None
    while node is not None and node is not stop:
        if isinstance(node, NavigableString) and not isinstance(node, Comment) and not _inside(node, start):
            out.append(node)
        node = node.next_element
        if len(out) > 200:
            break
    return out


def _select_text(soup: BeautifulSoup, selector: str) -> str:
    el = soup.select_one(selector) if selector else None
    return " ".join(el.get_text(" ").split()) if el else ""


def _resolve(url: str, href: str) -> str:
    href = (href or "").strip()
    if not href or href.startswith(("javascript:", "#", "mailto:", "data:", "tel:")):
        return ""
    return urljoin(url, href)


def _clean_body(body: Tag, url: str, remove: list[Tag]) -> tuple[str, list[str]]:
    """Clean HTML of the body (allowed tags, no attributes but links/images) and its image URLs."""
    for el in remove:
        if not el.decomposed:
            el.decompose()
    _drop_chrome(body)
    images: list[str] = []
    for el in list(body.find_all(True)):
        if el.decomposed:
            continue
        if el.name == "img":
            src = _resolve(url, el.get("data-src") or el.get("data-original") or el.get("src") or "")
            tiny = any(str(el.get(k, "")).isdigit() and int(el[k]) < 32 for k in ("width", "height"))
            if not src or tiny or _CHROME_SRC.search(src.rsplit("/", 1)[-1]):
                el.decompose()
                continue
            el.attrs = {"src": src, "alt": (el.get("alt") or "").strip()}
            images.append(src)
            continue
        if el.name == "h1":
            el.name = "h2"
        elif el.name in ("div", "section", "article", "center", "main", "span", "font"):
            has_block = any(isinstance(c, Tag) and c.name in _BLOCKS for c in el.descendants)
            if el.name in ("span", "font") or has_block:
                el.unwrap()
                continue
            el.name = "p"
        elif el.name not in _KEEP:
            el.unwrap()
            continue
        keep = _KEEP_ATTRS.get(el.name, ())
        el.attrs = {k: v for k, v in el.attrs.items() if k in keep}
        if el.name == "a":
            href = _resolve(url, el.get("href", ""))
            if not href:
                el.unwrap()
                continue
            el["href"] = href
    # Paragraphs left with neither text nor image are layout leftovers.
    for el in list(body.find_all(["p", "li", "h2", "h3", "h4", "h5", "h6", "blockquote", "figure"])):
        if not el.decomposed and not el.get_text(strip=True) and not el.find("img"):
            el.decompose()
    _paragraphs(body)
    html = body.decode_contents().strip()
    return html, images


_INLINE_BLOCKS = {"p", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "blockquote", "pre", "figure", "hr"}


def _paragraphs(body: Tag) -> None:
    """Text lying straight in the body between <br>s (old CMSs) becomes paragraphs."""
    run: list = []

    def flush(before) -> None:
        if any(
            (isinstance(n, NavigableString) and n.strip())
            or (isinstance(n, Tag) and (n.get_text(strip=True) or n.name == "img" or n.find("img")))
            for n in run
        ):
            p = BeautifulSoup("", "lxml").new_tag("p")
            for n in run:
                p.append(n.extract())
            if p.contents and isinstance(p.contents[0], NavigableString):
                p.contents[0].replace_with(_WS.sub(" ", str(p.contents[0])).lstrip())
            if before is not None:
                before.insert_before(p)
            else:
                body.append(p)
        else:
            for n in run:
                n.extract()
        run.clear()

    for node in list(body.children):
        if isinstance(node, Tag) and node.name == "br":
            flush(node)
            node.extract()
        elif isinstance(node, Tag) and node.name in _INLINE_BLOCKS:
            flush(node)
        else:
            run.append(node)
    flush(None)


def _tags(soup: BeautifulSoup) -> list[str]:
    """The column (栏目) from a breadcrumb such as "您当前的位置：首页 / 新闻动态"."""
    for s in soup.find_all(string=_CRUMB):
        holder = s.parent
        while holder is not None and len(holder.get_text()) < len(s) + 4 and holder.parent is not None:
            holder = holder.parent
        text = " ".join((holder or s).get_text(" ").split()) if holder else str(s)
        after = _CRUMB.split(text, maxsplit=1)[-1]
        parts = [p.strip() for p in re.split(r"[/>»›]|&gt;", after) if p.strip()]
        parts = [p for p in parts if p not in ("首页", "网站首页") and len(p) <= 12]
        if parts:
            return [parts[-1]]
    return []


def _listing(soup: BeautifulSoup, url: str, site: SourceSettings | None) -> Listing | None:
    host = urlsplit(url).netloc
    links: list[Tag]
    if site and site.listing_item:
        links = [
            a for el in soup.select(site.listing_item) for a in ([el] if el.name == "a" else el.find_all("a"))
        ]
        if not links:
            return None
    else:
        groups: dict[Tag, list[Tag]] = defaultdict(list)
        for a in soup.find_all("a", href=True):
            text = " ".join(a.get_text(" ").split())
            href = _resolve(url, a["href"])
            if len(text) < 6 or not href or urlsplit(href).netloc != host or a.find_parent(_is_chrome_attr):
                continue
            item = a.find_parent(["li", "tr", "dd", "p", "div"])
            if item is not None and item.parent is not None:
                groups[item.parent].append(a)
        if not groups:
            return None
        links = max(groups.values(), key=len)
        if len(links) < 4:
            return None
    items: list[tuple[str, date | None]] = []
    seen = set()
    for a in links:
        href = _resolve(url, a.get("href", ""))
        if not href or href in seen:
            continue
        seen.add(href)
        row = a.find_parent(["li", "tr", "dd"]) or a.parent
        items.append((href, parse_date(row.get_text(" ")) if row else None))
    return Listing(url=url, items=items, next_url=_next_page(soup, url, site))


def _next_page(soup: BeautifulSoup, url: str, site: SourceSettings | None) -> str | None:
    if site and site.next_page:
        el = soup.select_one(site.next_page)
        href = _resolve(url, el.get("href", "")) if el is not None else ""
        return href or None
    for a in soup.find_all("a", href=True):
        if _NEXT.match(a.get_text()) or "next" in (a.get("rel") or []):
            href = _resolve(url, a["href"])
            if href and href != url:
                return href
    return None


def parse_page(
    html: bytes | str, url: str, site: SourceSettings | None = None, encoding: str | None = None
) -> Extracted | Listing:
    """An article page → Extracted; a listing page (many same-site title links, little prose) → Listing."""
    soup = _soup(html, encoding)
    _strip_noise(soup)
    if site:
        for sel in site.drop:
            for el in soup.select(sel):
                el.decompose()
    if site and site.listing_item:
        if (listing := _listing(soup, url, site)) is not None:
            return listing
    body = soup.select_one(site.body) if site and site.body else _find_body(soup.body or soup)
    # Prose is text outside links: a listing's titles are links, an article's paragraphs are not.
    prose = _text_len(body) - sum(_text_len(a) for a in body.find_all("a")) if body is not None else 0
    if not (site and (site.body or site.listing_item)) and (prose < 300 or _link_density(body) > 0.5):
        if (listing := _listing(soup, url, site)) is not None:
            return listing
    if body is None or prose == 0:
        raise ExtractError("no article text found on the page")
    return _article(soup, body, url, site)


def _article(soup: BeautifulSoup, body: Tag, url: str, site: SourceSettings | None) -> Extracted:
    title_el = None if (site and site.title) else _find_title(soup, body)
    title = _select_text(soup, site.title) if site and site.title else ""
    if not title and title_el is not None:
        title = " ".join(title_el.get_text(" ").split())
    if not title:
        title = re.split(r"\s*[_|｜–—-]\s*", _page_title(soup))[0].strip()
    if not title:
        raise ExtractError("no title found on the page")

    # The "info" lines between the title and the first paragraph: date, 来源, 作者, 人阅读.
    stop = _first_paragraph(body)
    info_strings = _elements_between(title_el, stop) if title_el is not None else []
    info = " ".join(str(s) for s in info_strings)
    info_remove: list[Tag] = []
    for s in info_strings:
        holder = s.parent
        if holder is not None and holder is not body and _inside(holder, body):
            if len(holder.get_text(strip=True)) <= 80:
                info_remove.append(holder)

    published = parse_date(_select_text(soup, site.date)) if site and site.date else None
    published = published or parse_date(info)
    if published is None:
        for key in ("article:published_time", "publishdate", "PubDate", "pubdate"):
            meta = soup.find("meta", attrs={"property": key}) or soup.find("meta", attrs={"name": key})
            if meta and meta.get("content") and (published := parse_date(meta["content"])):
                break
    if published is None and (m := _URL_DATE.search(urlsplit(url).path)):
        try:
            published = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            published = None

    page_text = block_text(soup.body or soup)
    source = ""
    if site and site.source:
        source = re.sub(r"^来\s*源\s*[:：]\s*", "", _select_text(soup, site.source))
    m = _SOURCE.search(info) or _SOURCE.search(page_text)
    source = source or (m.group(1) if m else "")
    m = _AUTHOR.search(info)
    author = m.group(1) if m else ""

    remove = [*info_remove]
    if title_el is not None and _inside(title_el, body):
        remove.append(title_el)
    # The 来源 line inside the body is metadata, not prose.
    for s in body.find_all(string=_SOURCE):
        holder = s.parent
        if holder is not None and holder is not body and len(holder.get_text(strip=True)) <= 60:
            remove.append(holder)
    body_html, images = _clean_body(body, url, remove)
    body_text = clean_text(block_text(BeautifulSoup(body_html, "lxml")))
    if not body_text and not images:
        raise ExtractError("the article body is empty")
    return Extracted(
        url=url,
        title=title,
        published_at=published,
        source_name=source,
        author=author,
        body_html=body_html,
        body_text=body_text,
        digest=make_digest(body_text),
        images=images,
        tags=_tags(soup),
    )
