"""The body element of an article → clean HTML: allowed tags only, no attributes but links and images
(made absolute), no chrome, no layout leftovers, and text lying between <br>s made into paragraphs."""

from __future__ import annotations

import re

from bs4 import NavigableString, Tag

from store.content.dom import BLOCKS, WS, containers_of, in_link, resolve, strings, tags

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
_CHROME_SRC = re.compile(r"(qr|ewm|erweima|share|icon|logo|weixin|wechat|spacer|blank)", re.I)
# Where an article's text ends and the page's goes on: the editor's line, a related-items heading.
_TAIL = re.compile(
    r"^[\[【(（]?\s*(责任编辑|责编|编辑|相关(报道|新闻|文章|阅读|链接|稿件)|延伸阅读|推荐阅读|热点推荐|更多精彩|猜你喜欢)"
    r"\s*([:：]|$|[\]】)）])"
)
_FILE = re.compile(r"\.(docx?|xlsx?|pdf|zip|rar|7z|wps|et|pptx?|txt|ofd)(\?|$)", re.I)
_RELATED_LABEL = re.compile(r"^[\[【(（]?(延伸阅读|相关|推荐|更多|热点|热门|精彩)")
_INLINE_BLOCKS = {"p", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "blockquote", "pre", "figure", "hr"}


def clean_body(body: Tag, url: str, remove: list[Tag], chrome: list[Tag]) -> tuple[str, list[str]]:
    """Clean the body in place: its HTML and its image URLs, in order. `chrome`: the page's chrome
    elements inside the body."""
    # extract, not decompose: bs4's `decomposed` check on a live element searches its whole subtree.
    for el in remove:
        el.extract()
    _cut_tail(body)
    for el in chrome:
        el.extract()
    _drop_link_runs(body)
    images: list[str] = []
    holds_blocks = containers_of(body, BLOCKS)
    for el in list(tags(body)):
        if el.name == "img":
            src = resolve(url, el.get("data-src") or el.get("data-original") or el.get("src") or "")
            tiny = any(str(el.get(k, "")).isdigit() and int(el[k]) < 32 for k in ("width", "height"))
            if not src or tiny or _CHROME_SRC.search(src.rsplit("/", 1)[-1]):
                el.extract()
                continue
            el.attrs = {"src": src, "alt": (el.get("alt") or "").strip()}
            images.append(src)
            continue
        if el.name == "h1":
            el.name = "h2"
        elif el.name in ("div", "section", "article", "center", "main", "span", "font", "form"):
            if el.name in ("span", "font") or id(el) in holds_blocks:
                el.unwrap()
                continue
            el.name = "p"
        elif el.name not in _KEEP:
            el.unwrap()
            continue
        keep = _KEEP_ATTRS.get(el.name, ())
        el.attrs = {k: v for k, v in el.attrs.items() if k in keep}
        if el.name == "a":
            href = resolve(url, el.get("href", ""))
            if not href:
                el.unwrap()
                continue
            el["href"] = href
    # Paragraphs left with neither text nor image are layout leftovers.
    for el in list(tags(body, ("p", "li", "h2", "h3", "h4", "h5", "h6", "blockquote", "figure"))):
        if not el.get_text(strip=True) and next(tags(el, ("img",)), None) is None:
            el.extract()
    _paragraphs(body)
    return body.decode_contents().strip(), images


def _cut_tail(body: Tag) -> None:
    """Drop the editor's line (or a 相关报道 heading) and everything after it, when it comes late in
    the body or what follows it is mostly links."""
    texts = [s for s in strings(body) if s.strip()]
    sizes = [len("".join(s.split())) for s in texts]
    linked = [in_link(s) for s in texts]
    total = sum(sizes)
    seen = 0
    for i, s in enumerate(texts):
        seen += sizes[i]
        holder = s.parent
        if holder is None or holder is body or not _TAIL.match("".join(holder.get_text().split())):
            continue
        rest = sum(sizes[i + 1 :])
        rest_links = sum(n for n, linked in zip(sizes[i + 1 :], linked[i + 1 :], strict=True) if linked)
        if seen < total * 0.6 and not (rest and rest_links >= rest * 0.5):
            continue
        for el in [holder, *holder.parents]:
            if el is body:
                break
            for sib in list(el.next_siblings):
                sib.extract()
        holder.extract()
        return


def _drop_link_runs(body: Tag) -> None:
    """Two or more lines in a row that are nothing but a link are a box of other articles (推荐, 延伸
    阅读) set inside the text; a label line just before them goes with them."""
    lines: list[tuple[Tag, bool]] = []
    not_leaf = containers_of(body, BLOCKS)
    for el in tags(body, BLOCKS):
        if id(el) in not_leaf:
            continue  # leaf blocks only: one line each
        text = "".join(el.get_text().split())
        if not text:
            continue
        links = list(tags(el, ("a",)))
        linked = sum(len("".join(a.get_text().split())) for a in links)
        # Attachments (附件：申报表.doc) are the notice's own content.
        files = any(_FILE.search(a.get("href", "")) for a in links)
        lines.append((el, len(text) >= 6 and linked >= len(text) * 0.9 and not files))
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and lines[j][1]:
            j += 1
        if j - i >= 2:
            start = i - 1 if i > 0 and _RELATED_LABEL.match("".join(lines[i - 1][0].get_text().split())) else i
            for el, _ in lines[start:j]:
                el.extract()
        i = max(j, i + 1)


def _paragraphs(body: Tag) -> None:
    """Text lying straight in the body between <br>s (old CMSs) becomes paragraphs."""
    run: list = []

    def flush(before) -> None:
        if any(
            (isinstance(n, NavigableString) and n.strip())
            or (isinstance(n, Tag) and (n.get_text(strip=True) or n.name == "img" or next(tags(n, ("img",)), None) is not None))
            for n in run
        ):
            p = Tag(name="p")
            for n in run:
                p.append(n.extract())
            if p.contents and isinstance(p.contents[0], NavigableString):
                p.contents[0].replace_with(WS.sub(" ", str(p.contents[0])).lstrip())
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
