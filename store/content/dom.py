"""What the extractor asks of a parsed page: a block's text, its link share, whether an element is
site chrome (navigation, 登录/注册, breadcrumbs, share bars, QR blurbs, footers), and which links stay
on the site. Shared by extract.py, listing.py and metadata.py."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from store.content.charset import decode_html

BLOCKS = {
    "p", "div", "section", "article", "main", "td", "th", "tr", "li", "ul", "ol", "table", "h1", "h2",
    "h3", "h4", "h5", "h6", "blockquote", "pre", "figure", "figcaption", "center", "dl", "dt", "dd",
    "header", "footer", "aside", "body", "tbody", "thead", "form",
}  # fmt: skip
# Controls and embeds carry no article text; a <form> may (ASP.NET pages sit in one), so only its
# controls go.
DROP_TAGS = (
    "script", "style", "noscript", "iframe", "input", "button", "select", "textarea", "object", "embed",
    "svg", "canvas", "template", "link", "nav", "video", "audio", "map",
)  # fmt: skip
WS = re.compile(r"[ \t\r\f\v\xa0\u3000\u2002\u2003\u200b\ufeff]+")
CRUMB = re.compile(r"(您当前的位置|您当前位置|当前位置|您的位置|您所在的位置|所在位置|当前页面|现在位置|位置)\s*[:：]")
# Short elements whose whole text is chrome.
CHROME_TEXT = re.compile(
    r"^[\[【(（]?\s*("
    r"登录|注册|登\s*录\s*[|｜/]\s*注\s*册|会员登录|会员注册|退出|返回.{0,8}首页\W{0,4}|返回顶部|返回列表|回到顶部|返回|"
    r"点击进入专题.{0,20}|"
    r"首页|打印(本页|此页|本稿|文章)?|关闭(窗口|本页|此页)?|收藏(本页|本文)?|已收藏|分享(到|至)?.{0,20}|"
    r"扫[一描]?[扫描]?(二维码)?.{0,30}|(微信|用微信)?扫一扫.{0,30}|二维码.{0,20}|字号.{0,10}|"
    r"(【\s*)?字体\s*[:：]?.{0,12}|[大中小]\s*[大中小]?\s*[大中小]?|纠错|我要纠错|推荐|复制(链接|地址|网址)|"
    r"上一篇.*|下一篇.*|相关(新闻|文章|阅读|链接|报道|稿件).*|延伸阅读.*|(精彩)?(视频)?推荐.{0,8}|"
    r"(阅读|浏览|点击|访问)(次数|量)?\s*[:：]?\s*\d*\s*次?|\d*\s*人(阅读|参与|浏览)|"
    r".{0,30}ICP[备证].{0,30}|.{0,40}(版权所有|Copyright|©).{0,60}|发表评论|我来说两句.{0,6}|查看评论|"
    r"责任编辑\s*[:：].{0,12}|责编\s*[:：].{0,12}|标签\s*[:：]?.{0,40}|(\S{1,12}\s*[|｜]\s*){2,}\S{1,12}"
    r")\s*[\])】）]?$",
    re.I,
)
# A class/id word that marks chrome: nav, menu-top, bdshare, ewm (二维码), footer …
CHROME_ATTR = re.compile(
    r"(^|[-_])(nav|navbar|menu|breadcrumbs?|crumbs?|location|position|login|logon|share|bdshare|"
    r"footer|foot|topbar|sidebar|side|aside|qrcode|qr|ewm|erweima|copyright|banner|pager|"
    r"pagination|pages|related|relate|comment|comments|toolbar|print|search|hot|rank|recommend)([-_]|$)",
    re.I,
)
_SECOND_LEVEL = {"com", "net", "org", "gov", "edu", "ac", "co", "mil"}


def parse_html(html: bytes | str, encoding: str | None = None) -> BeautifulSoup:
    return BeautifulSoup(decode_html(html, encoding), "lxml")


def clean_text(text: str) -> str:
    lines = (WS.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def squash(text: str) -> str:
    return "".join(text.split())


def block_text(el: Tag) -> str:
    """Text with a line break at each block boundary only, so inline markup never splits a phrase."""
    parts: list[str] = []
    for d in el.descendants:
        if isinstance(d, Comment):
            continue
        if isinstance(d, NavigableString):
            # A newline in the source is a space, as a browser shows it; only blocks break lines.
            parts.append(str(d) if any(p.name == "pre" for p in d.parents) else str(d).replace("\n", " "))
        elif isinstance(d, Tag) and (d.name in BLOCKS or d.name == "br"):
            parts.append("\n")
    return clean_text("".join(parts))


def one_line(el: Tag | NavigableString) -> str:
    return " ".join(el.get_text(" ").split()) if isinstance(el, Tag) else " ".join(str(el).split())


def attr_words(el: Tag) -> list[str]:
    classes = el.get("class") or []
    words = [*classes] if isinstance(classes, list) else [classes]
    return [w for w in (*words, el.get("id") or "") if w]


def is_chrome_attr(el: Tag) -> bool:
    return any(CHROME_ATTR.search(w) for w in attr_words(el))


def text_len(el: Tag) -> int:
    return len(squash(el.get_text()))


def link_len(el: Tag) -> int:
    return sum(text_len(a) for a in tags(el, ("a",)))


def link_density(el: Tag) -> float:
    total = text_len(el)
    return link_len(el) / total if total else 0.0


def inside(node, ancestor: Tag) -> bool:
    return any(p is ancestor for p in node.parents)


def tags(el: Tag, names=None):
    """The elements under `el` in document order (named in `names`, if given): a plain walk, much
    cheaper than bs4's find_all filters on big pages."""
    for d in el.descendants:
        if isinstance(d, Tag) and (names is None or d.name in names):
            yield d


def strings(el: Tag):
    """The text nodes under `el` in document order (comments and the like are gone: strip_noise)."""
    for d in el.descendants:
        if type(d) is NavigableString:
            yield d


def in_link(node) -> bool:
    return any(p.name == "a" for p in node.parents)


_HIDDEN = re.compile(r"display\s*:\s*none", re.I)


def strip_noise(soup: BeautifulSoup) -> None:
    """Drop comments, scripts, styles, controls and embeds, and hidden blocks (display:none holds
    search-engine copies of the metadata, popups and templates)."""
    doomed: list = []
    stack = list(reversed(soup.contents))
    while stack:
        node = stack.pop()
        if isinstance(node, Tag):
            style = node.get("style")
            if node.name in DROP_TAGS or (style and node.name not in ("html", "body") and _HIDDEN.search(style)):
                doomed.append(node)
                continue
            stack.extend(reversed(node.contents))
        elif isinstance(node, NavigableString) and type(node) is not NavigableString:
            doomed.append(node)  # comments, CDATA, processing instructions, doctype
    for node in doomed:
        node.extract()


def text_sizes(root: Tag) -> dict[int, int]:
    """id of each element under `root` → characters of text in it (whitespace aside), in one pass."""
    sizes: dict[int, int] = {}
    for s in strings(root):
        n = len(squash(s))
        if n:
            for p in s.parents:
                sizes[id(p)] = sizes.get(id(p), 0) + n
    return sizes


def chrome_elements(root: Tag) -> list[Tag]:
    """Chrome: chrome-named elements (when small or link-heavy, never a big text block), whole-text
    chrome ("返回首页", "扫二维码", "1234 人阅读", an ICP line) and breadcrumbs. Outermost only."""
    sizes = text_sizes(root)
    found: list[Tag] = []
    stack = [c for c in reversed(root.contents) if isinstance(c, Tag)]
    while stack:
        el = stack.pop()
        if el.name not in ("html", "body"):
            n = sizes.get(id(el), 0)
            text = one_line(el) if n <= 80 else ""  # the whole text is read only where it can matter
            if (
                (is_chrome_attr(el) and (n < 200 or link_density(el) > 0.5))
                or (text and len(text) <= 60 and CHROME_TEXT.match(text) and next(tags(el, ("img",)), None) is None)
                or (text and len(text) <= 80 and CRUMB.search(text))
            ):
                found.append(el)
                continue
        stack.extend(c for c in reversed(el.contents) if isinstance(c, Tag))
    return found


def resolve(url: str, href: str) -> str:
    href = (href or "").strip()
    if not href or href.startswith(("javascript:", "#", "mailto:", "data:", "tel:")):
        return ""
    return urljoin(url, href)


def site_of(url: str) -> str:
    """The registrable part of a URL's host (news.163.com and dy.163.com are one site; so are
    www.mca.gov.cn and xxgk.mca.gov.cn); file: URLs are all one site."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return "file"
    host = (parts.hostname or "").lower()
    labels = host.split(".")
    if len(labels) <= 2 or host.replace(".", "").isdigit():
        return host
    keep = 3 if labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2 else 2
    return ".".join(labels[-keep:])


def containers_of(root: Tag, names) -> set[int]:
    """ids of the elements under `root` that hold an element named in `names` (one pass, no search
    per element)."""
    names = set(names)
    out: set[int] = set()
    for el in tags(root, names):
        for p in el.parents:
            if id(p) in out:
                break  # its ancestors are marked already
            out.add(id(p))
    return out
