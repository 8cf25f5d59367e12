"""Listing (栏目) pages: which links are the column's entries, the dates shown beside them, the next page.

Entries are found by structure, with no minimum count: sibling blocks under one parent, each holding
a title link to a page of the same site (a link text of at least 5 characters, or a link wrapping a
block with the title, a summary and the date). The group with the most title text wins; menus and
other chrome never count. Whether the page IS a listing is decided in extract.py, which weighs this
group against the page's prose.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from bs4 import BeautifulSoup, Tag

from core.config import SourceSettings
from store.content.dom import (
    CHROME_ATTR,
    attr_words,
    in_link,
    one_line,
    resolve,
    site_of,
    squash,
    strings,
    tags,
)
from store.content.metadata import parse_date

_NEXT = re.compile(r"^[\s\[【<«‹(（]*(下一页|下页|后一页|后页|下一頁|next|next page|›|»|>|>>|→)[\s\]】>»›)）→]*$", re.I)
_PAGER = re.compile(r"(上一页|下一页|尾页|末页|首页\s*上一页|共\s*\d+\s*页|第\s*\d+\s*页)")
_PAGER_WORD = re.compile(r"^[<«‹(（\[]*(上一页|下一页|上页|下页|首页|尾页|末页|前一页|后一页)[>»›)）\]]*$")
_TITLE_MIN = 5
_ENTRY_MAX = 600  # characters: a title, a summary and a date
_ITEMS = ("li", "tr", "dd", "article")  # an entry never reaches above these


@dataclass
class Listing:
    url: str
    items: list[tuple[str, date | None]]  # article URLs with the date the listing shows, if any
    next_url: str | None


@dataclass
class Group:
    container: Tag
    rows: list[tuple[str, Tag]]  # (absolute URL, the entry's block)
    text: int  # characters in the entries


def _title_link(a: Tag, url: str, site: str) -> str:
    href = resolve(url, a.get("href", ""))
    if not href or site_of(href) != site:
        return ""
    text = squash(a.get_text()).strip("[]【】·•")
    return href if len(text) >= _TITLE_MIN and not _PAGER_WORD.search(text) else ""


def _in_chrome(a: Tag, stop: Tag | None = None) -> bool:
    for p in a.parents:
        if p is stop or p.name in ("body", "html"):
            return False
        if any(CHROME_ATTR.search(w) for w in attr_words(p)) and "list" not in " ".join(attr_words(p)).lower():
            return True
    return False


def best_group(soup: BeautifulSoup, url: str) -> Group | None:
    """The page's largest group of sibling entries, each a block around one same-site title link."""
    site = site_of(url)
    links = [(a, h) for a in tags(soup, ("a",)) if a.get("href") and (h := _title_link(a, url, site))]
    hrefs_inside: dict[int, set[str]] = defaultdict(set)
    for a, href in links:
        for p in a.parents:
            hrefs_inside[id(p)].add(href)
    groups: dict[int, Group] = {}
    for a, href in links:
        if _in_chrome(a):
            continue
        # The entry: the highest block above the link that holds no other entry's link.
        row: Tag = a
        for p in a.parents:
            if p.name in ("body", "html") or len(hrefs_inside[id(p)]) > 1 or row.name in _ITEMS:
                break
            row = p
        parent = row.parent
        if parent is None:
            continue
        size = len(squash(row.get_text()))
        if size > _ENTRY_MAX:
            continue  # a block this big is a page section, not one entry
        g = groups.setdefault(id(parent), Group(parent, [], 0))
        if all(h != href for h, _ in g.rows):
            g.rows.append((href, row))
            g.text += size
    if not groups:
        return None
    # One column shown as several alike blocks (five entries per <ul>, eight <ul>s) is one group.
    merged: dict[tuple, Group] = {}
    for g in groups.values():
        c = g.container
        up = c.parent
        key = (c.name, tuple(attr_words(c)), up.name if up else "", tuple(attr_words(up)) if up else (),
               id(up.parent) if up is not None and up.parent is not None else id(c))  # fmt: skip
        if key in merged:
            m = merged[key]
            m.rows += [(h, r) for h, r in g.rows if all(h != x for x, _ in m.rows)]
            m.text += g.text
        else:
            merged[key] = g
    return max(merged.values(), key=lambda g: (g.text * min(len(g.rows), 3), len(g.rows)))


def has_pager(soup: BeautifulSoup) -> bool:
    for s in strings(soup):
        if _PAGER.search(s) and s.parent is not None and len(squash(s.parent.get_text())) < 200:
            return True
    return any(_NEXT.match(a.get_text()) for a in tags(soup, ("a",)))


def make_listing(soup: BeautifulSoup, url: str, group: Group, site: SourceSettings | None) -> Listing:
    items = [(href, _row_date(row)) for href, row in group.rows]
    return Listing(url=url, items=items, next_url=next_page(soup, url, site))


def _row_date(row: Tag) -> date | None:
    """The date shown beside the entry's link; a title may hold a date of its own ("6月30日净值公告")."""
    outside = "".join(str(s) for s in strings(row) if not in_link(s))
    return parse_date(outside) or parse_date(one_line(row))


def selected_listing(soup: BeautifulSoup, url: str, site: SourceSettings) -> Listing | None:
    """The listing a `[[sources]]` entry's `listing_item` selector picks, if it picks anything."""
    items: list[tuple[str, date | None]] = []
    for el in soup.select(site.listing_item):
        for a in [el] if el.name == "a" else el.find_all("a"):
            href = resolve(url, a.get("href", ""))
            if href and all(h != href for h, _ in items):
                row = a.find_parent(["li", "tr", "dd"]) or el
                items.append((href, _row_date(row)))
    return Listing(url, items, next_page(soup, url, site)) if items else None


def next_page(soup: BeautifulSoup, url: str, site: SourceSettings | None) -> str | None:
    if site and site.next_page:
        el = soup.select_one(site.next_page)
        href = resolve(url, el.get("href", "")) if el is not None else ""
        return href or None
    for a in tags(soup, ("a",)):
        if not a.get("href"):
            continue
        # The text may sit in a child element: <a><span>下一页&gt;&gt;</span></a>.
        if _NEXT.match(a.get_text()) or "next" in (a.get("rel") or []):
            href = resolve(url, a["href"])
            if href and href != url:
                return href
    return None
