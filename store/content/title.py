"""An article's title: the heading nearest above the body that best repeats the page's own title.

The page names its title in <meta name="ArticleTitle">, og:title and <title> (usually "标题_栏目_站名").
Candidates are the innermost blocks above the body's first paragraph: h1–h3 score most, then a
title-named class, then <b>/<strong>; each gains by repeating the page's title. A breadcrumb, the info
line, a menu entry or a column name (a short text the menu links to) is never the title. A page with
no such heading takes the bare short line nearest the body, and failing that the <title>.
"""

from __future__ import annotations

import re
from collections import defaultdict

from bs4 import BeautifulSoup, NavigableString, Tag

from store.content.dom import (
    BLOCKS,
    CRUMB,
    attr_words,
    containers_of,
    inside,
    link_density,
    one_line,
    squash,
    tags,
)
from store.content.metadata import parse_date

SPLIT = re.compile(r"\s*(?:[_|｜–—>]|--|-|——)\s*")
_TITLE_WORD = re.compile(r"title|tit$|tit[-_]|headline|biaoti|^bt$|heading", re.I)
_INFO_LABEL = re.compile(r"(来\s*源|作\s*者|编\s*辑|发布|时\s*间|日\s*期|浏览|点击|责编)\s*[:：]")
_WRAPPERS = ("h1", "h2", "h3", "p", "div", "td", "table", "li")
_HEADING = {"h1": 3.0, "h2": 2.0, "h3": 1.5}


class Titles:
    """What one page says its title is, and where on the page that title stands."""

    def __init__(self, soup: BeautifulSoup) -> None:
        self.soup = soup
        self.titles = _page_titles(soup)
        self.segments = [[squash(x) for x in SPLIT.split(t) if x.strip()] for t in self.titles]
        self._links: dict[str, list[Tag]] | None = None

    @property
    def links(self) -> dict[str, list[Tag]]:
        if self._links is None:
            self._links = defaultdict(list)
            for a in tags(self.soup, ("a",)):
                self._links[squash(a.get_text())].append(a)
        return self._links

    def match(self, text: str) -> float:
        """1 when `text` is the page's title (or one of its segments), less for a part of it."""
        t = squash(text)
        best = 0.0
        for full, segments in zip(self.titles, self.segments, strict=True):
            f = squash(full)
            if t in segments or (t == f and len(segments) == 1):
                return 1.0
            if t == f:  # the whole "站名_栏目" title shown as a banner is not the article's title
                best = max(best, 0.2)
            if len(t) >= 6 and t in f:
                best = max(best, 0.8)
            elif segments and len(segments[0]) >= 6 and t.startswith(segments[0]):
                best = max(best, 0.7)
        return best

    def fallback(self) -> str:
        return SPLIT.split(self.titles[-1])[0].strip() if self.titles else ""

    def find(self, root: Tag, stop: NavigableString | None, chrome: set[int]) -> Tag | None:
        wrappers = containers_of(root, _WRAPPERS)
        candidates: list[tuple[Tag, float]] = []
        bare: list[Tag] = []  # plain short lines, nearest the body last
        stack = [c for c in reversed(root.contents) if isinstance(c, Tag)]
        while stack:
            el = stack.pop()
            if stop is not None and el is stop.parent:
                break
            if id(el) in chrome:
                continue  # chrome and all inside it
            stack.extend(c for c in reversed(el.contents) if isinstance(c, Tag))
            if id(el) in wrappers or (el.name not in BLOCKS and el.name not in ("b", "strong", "font", "span")):
                continue  # the innermost block holding the line, not its wrapper
            if (score := self._score(el)) is None:
                continue
            if score == 0:
                bare.append(el)
                score = 0.1  # a bare short line only wins when nothing else does
            candidates.append((el, score))
        if not candidates:
            return None
        best = max(score for _, score in candidates)
        near = bare if best <= 0.1 else [el for el, score in candidates if score == best]
        return self._whole(near[-1]) if near else None

    def _score(self, el: Tag) -> float | None:
        text = one_line(el)
        if not 4 <= len(text) <= 120 or CRUMB.search(text) or parse_date(text) or _INFO_LABEL.search(text):
            return None  # breadcrumb or info line
        if link_density(el) > 0.5 and el.name not in _HEADING:
            return None  # a menu entry (a heading may link to its own page)
        key = squash(text)
        if len(key) <= 12 and any(not inside(a, el) for a in self.links.get(key, [])):
            return None  # a column name: the menu links to it
        heading = _HEADING.get(el.name, 0.0)
        if not heading and any(_TITLE_WORD.search(w) for w in attr_words(el)):
            heading = 1.5
        elif not heading and el.name in ("b", "strong", "font"):
            heading = 0.5
        score = heading + 4 * self.match(text)
        if score == 0 and re.search(r"[。；]", text):
            return None  # a sentence, not a title
        return score

    def _whole(self, el: Tag) -> Tag:
        """A title set in two spans (title, line break, the rest): the block holding both."""
        while (m := self.match(one_line(el))) and m < 1.0 and el.parent is not None and el.parent.name != "body":
            if self.match(one_line(el.parent)) <= m:
                break
            el = el.parent
        return el

    def has_article_title(self, skip: set[int]) -> bool:
        """A heading that repeats the page's title and is no link's text: an article's own title (a
        listing's heading is its column's name, which the menu links to)."""
        for el in tags(self.soup, ("h1", "h2", "h3", "b", "strong", "div", "td", "span")):
            titled = el.name in ("h1", "h2", "h3", "b", "strong") or any(_TITLE_WORD.search(w) for w in attr_words(el))
            if not titled:
                continue
            text = squash(el.get_text())
            if 6 <= len(text) <= 120 and text not in self.links and self.match(text) >= 0.7:
                if not any(id(p) in skip for p in el.parents):
                    return True
        return False


def _page_titles(soup: BeautifulSoup) -> list[str]:
    out = []
    head = soup.head or soup
    for meta in tags(head, ("meta",)):
        key = (meta.get("name") or meta.get("property") or "").lower()
        if key in ("articletitle", "og:title") and meta.get("content"):
            out.append(re.sub(r"<[^>]+>", " ", meta["content"]))  # a CMS may leave markup in it
    title = next(tags(head, ("title",)), None)
    if title is not None:
        out.append(title.get_text())
    return [" ".join(t.split()) for t in out if t.strip()]
