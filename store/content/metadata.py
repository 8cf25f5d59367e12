"""An article's date, 来源 and author, found wherever the page puts them.

The page is read as lines, each tagged with where it sits: above the title ("before": 信息公开 tables),
between the title and the body ("info": the usual 发布时间/来源/作者 line), the body's first and last
lines ("lead", "tail": bylines, datelines, "（记者 X）"), and below the body ("after": 发布日期 or 来源
printed after the text, 版权声明 boxes). Each field is taken from the most telling place first:
a labelled value near the title, then the page's <meta>, then labels further away, then unlabelled
forms. Lines made mostly of links (related articles, menus) never give a date.
An editor (编辑, 责任编辑, 责编) or a photographer is never the author.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, NavigableString, Tag

from store.content.dom import BLOCKS, tags

_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)\s*日?")
# Dates many CMSs put in article URLs: /2024/03/14/, t20240314_123.html, /202403/14/
_URL_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})[-/_]?(\d{2})[-/_]?(\d{2})(?!\d)")
_WEEKDAY = re.compile(r"^\s*(\d{1,2}:\d{2}(:\d{2})?)?\s*[(（]?\s*(星期|周|礼拜)[一二三四五六日天]")
_DATE_LABEL = re.compile(
    r"(发布|发表|发稿|发文|成文|生成|更新|撰写|印发|出版|上传|录入|添加|公开)?\s*(时\s*间|日\s*期)\s*[:：]?\s*$"
    r"|(发布于|Date|Published)\s*[:：]?\s*$",
    re.I,
)
# Which labelled date wins when a page shows several (信息公开 tables show four).
_LABEL_RANK = (("发布", 0), ("发稿", 0), ("发表", 1), ("发文", 1), ("生成", 2), ("成文", 3), ("印发", 3))
_SOURCE = re.compile(r"(?:信息|文章|稿件|新闻|内容)?来\s*源\s*于?\s*[:：︰]|出\s*处\s*[:：]")
_AUTHOR_LABEL = re.compile(r"(?<![编审校])(?:作\s*者|撰\s*稿|撰\s*文|采\s*写|文\s*字)\s*[:：︱|]")
# A value ends where the next label starts or at a separator.
_STOP = re.compile(
    r"\s{2,}|[|｜丨│]|(?:作\s*者|编\s*辑|责任编辑|责编|来\s*源|发布|时\s*间|日\s*期|浏览|点击|阅读|字号|"
    r"打印|分享|【|\[|[（(]|记\s*者|通讯员|摄\s*影|(?:19|20)\d\d\s*[-/.年])"
)
_NAME = r"(?:[\u4e00-\u9fff]{2,4}|[\u4e00-\u9fff]{1,5}·[\u4e00-\u9fff]{1,8})"
_NAMES = rf"((?:{_NAME}[\s、]+)*{_NAME})"
_NAME_END = r"(?=\s*(?:$|[）)/\]】]|摄|报道|发自|实习生|通讯员))"
_REPORTER = re.compile(rf"(?<!摄影)(?<!摄像)记\s*者\s*[:：]?\s*{_NAMES}{_NAME_END}")
_SLASH_WEN = re.compile(rf"(?:^|[\s（(])文\s*/\s*{_NAMES}(?=\s|$|[）)])|{_NAMES}\s*/\s*文(?![\u4e00-\u9fff])")
_CLOSING = re.compile(rf"[（(]\s*{_NAMES}(?:\s*[\u4e00-\u9fff]{{2}}报道)?\s*[）)]\s*$")
_NOT_NAME = re.compile(
    r"[的了在从到是和对说获悉近日将已被为与及等这那其年月号时分]|记者|联系|博客|网友|读者|荐稿|本报|本网|供稿|"
    r"(局|委|办|会|院|部|厅|中心|站|社|网|报|处|科|室|队|所|团|馆|组|公司|集团|频道|整理|整合|报道|供图|制图|编辑)$"
)
_OUTLET = re.compile(r"^[《]?[\u4e00-\u9fffA-Za-z·]{2,16}(网|报|社|台|刊|站|中心|新闻|客户端|频道|周刊|杂志|晚报|日报)[》]?$")
_NOT_SOURCE = re.compile(r"星期|阅读|浏览|点击|字号|打印|分享|评论|收藏|次|编辑|作者|记者|http|www\.|\.com|\.cn", re.I)
_META_DATE = ("pubdate", "publishdate", "article:published_time", "og:time", "og:release_date", "pubtime",
              "publish_time", "publication_date", "dc.date", "dc.date.issued", "date", "datepublished",
              "datecreated", "dateupdate", "datemodified")  # fmt: skip
_META_SOURCE = ("contentsource", "source", "og:site_name_source", "article:source")


@dataclass
class Line:
    region: str  # before | title | info | lead | body | tail | after
    text: str
    linked: bool  # most of its text is link text


@dataclass
class Meta:
    published_at: date | None
    source_name: str
    author: str


def parse_date(text: str) -> date | None:
    """The first date written 2024-03-14, 2024年3月14日, 2024/3/14 or 2024.3.14 in `text`."""
    for m in _DATE.finditer(text):
        if (d := _to_date(m)) is not None:
            return d
    return None


def _to_date(m: re.Match) -> date | None:
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def url_date(url: str) -> date | None:
    m = _URL_DATE.search(urlsplit(url).path)
    return _to_date(m) if m else None


def page_lines(root: Tag, title_el: Tag | None, body: Tag | None, stop) -> list[Line]:
    """The page's text as lines tagged with their region (see the module docstring)."""
    title_ids = {id(x) for x in title_el.descendants} if title_el is not None else set()
    body_ids = {id(x) for x in body.descendants} if body is not None else set()
    lines: list[Line] = []
    parts: list[str] = []
    linked = [0, 0]
    region = "before"
    line_region = [region]

    def flush() -> None:
        text = " ".join("".join(parts).split())
        if text:
            lines.append(Line(line_region[0], text, linked[0] > linked[1] / 2))
        parts.clear()
        linked[0] = linked[1] = 0

    for d in root.descendants:
        if isinstance(d, Tag):
            if d.name in BLOCKS or d.name == "br":
                flush()
            continue
        if not isinstance(d, NavigableString) or not d.strip():
            continue
        key = id(d)
        if key in title_ids:
            region = "title"
        elif region == "title":
            region = "info"
        if key in body_ids:
            if region in ("before", "info", "title") and (d is stop or stop is None):
                region = "body"
        elif region == "body":
            region = "after"
        if region != line_region[0]:
            flush()
            line_region[0] = region
        n = len(d.strip())
        parts.append(" " + str(d))  # separate elements are separate fields: "求是网" "参与互动"
        linked[1] += n
        if any(p.name == "a" for p in d.parents):
            linked[0] += n
    flush()
    # The body's first and last lines carry bylines and datelines.
    body_at = [i for i, ln in enumerate(lines) if ln.region == "body"]
    for i in body_at[:2]:
        lines[i].region = "lead"
    for i in body_at[-3:]:
        if lines[i].region == "body":
            lines[i].region = "tail"
    return lines


def find_meta(soup: BeautifulSoup, lines: list[Line], url: str) -> Meta:
    metas = _meta_tags(soup)
    return Meta(_find_date(lines, metas, url), _find_source(lines, metas), _find_author(lines))


def _meta_tags(soup: BeautifulSoup) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in tags(soup.head or soup, ("meta",)):
        key = (m.get("name") or m.get("property") or m.get("itemprop") or "").strip().lower()
        if key and m.get("content") and key not in out:
            out[key] = m["content"].strip()
    return out


# --- date ------------------------------------------------------------------------------------------


def _dates_in(lines: list[Line], region: str, labelled_only: bool) -> list[tuple[int, date]]:
    """(rank, date) of each date in the region's lines; rank orders labels (0 best, 9 unlabelled)."""
    found = []
    for i, ln in enumerate(lines):
        if ln.region != region or ln.linked:
            continue
        for m in _DATE.finditer(ln.text):
            d = _to_date(m)
            if d is None or _WEEKDAY.match(ln.text[m.end() :]):
                continue  # a 'today is …' widget
            before = ln.text[: m.start()][-14:]
            if not before.strip() and i > 0 and lines[i - 1].region == region:
                before = lines[i - 1].text[-14:]  # label and value in two table cells
            label = _DATE_LABEL.search(before)
            if label:
                rank = next((r for word, r in _LABEL_RANK if word in label.group(0)), 4)
            elif labelled_only:
                continue
            else:
                rank = 9
            found.append((rank, d))
    return found


def _find_date(lines: list[Line], metas: dict[str, str], url: str) -> date | None:
    if dates := _dates_in(lines, "info", labelled_only=False):
        return min(dates, key=lambda rd: rd[0])[1]  # the best label; the first of equals
    # A body opening with its own date line: "（2023年4月12日）" (not "2018年3月20日，会议…").
    for ln in lines:
        if ln.region == "lead" and (m := _DATE.search(ln.text)) and len(_DATE.sub("", ln.text).strip(" （）()")) <= 2:
            if d := _to_date(m):
                return d
    # 信息公开 tables above the title label their dates (发布日期 / 生成日期 / 成文日期).
    if dates := _dates_in(lines, "before", labelled_only=True):
        return min(dates, key=lambda rd: rd[0])[1]
    for key in _META_DATE:
        if key in metas and (d := parse_date(metas[key])):
            return d
    for region in ("after", "tail"):
        if dates := _dates_in(lines, region, labelled_only=True):
            return min(dates, key=lambda rd: rd[0])[1]
    return url_date(url)


# --- 来源 ------------------------------------------------------------------------------------------


def _value_after(text: str, end: int, nxt: Line | None) -> str:
    rest = text[end:].strip(" [【《")
    # "作者：记者甲" names a reporter: a label word at the start is part of the value.
    m = _STOP.search(rest, 2 if rest.startswith(("记者", "通讯员")) else 0)
    value = rest[: m.start()] if m else rest
    value = value.strip(" ：:[]【】《》()（）")
    if not value and nxt is not None and len(nxt.text) <= 24 and not _STOP.match(nxt.text):
        value = _STOP.split(nxt.text.strip(), maxsplit=1)[0].strip(" ：:[]【】《》()（）")
    return value if 0 < len(value) <= 30 and not re.search(r"[，。；！？]", value) else ""


def _find_source(lines: list[Line], metas: dict[str, str]) -> str:
    def labelled(regions: tuple[str, ...]) -> str:
        for i, ln in enumerate(lines):
            if ln.region in regions:
                for m in _SOURCE.finditer(ln.text):
                    nxt = lines[i + 1] if i + 1 < len(lines) else None
                    if value := _value_after(ln.text, m.end(), nxt):
                        return value.split()[0]  # "求是网 参与互动": the next element is another field
        return ""

    if value := labelled(("info", "lead")):
        return value
    for key in _META_SOURCE:
        if value := re.sub(r"^来\s*源\s*[:：]\s*", "", metas.get(key, "")).strip():
            if len(value) <= 30:
                return value
    if value := labelled(("tail", "after", "before")):
        return value
    return _unlabelled_source(lines)


def _unlabelled_source(lines: list[Line]) -> str:
    """An outlet named beside the date: '2005年03月21日 11:21 《理财周刊》', 'TNW中文站2016年10月14日',
    or alone on the next line ('2022-02-13 09:57' / '光明网')."""
    info = [ln for ln in lines if ln.region == "info" and not ln.linked]
    for i, ln in enumerate(info):
        if not _DATE.search(ln.text):
            continue
        rest = _DATE.sub(" ", ln.text)
        rest = re.sub(r"\d{1,2}:\d{2}(:\d{2})?|https?://\S+|www\.\S+|[A-Za-z0-9.-]+\.(com|cn|net|org)\S*", " ", rest)
        tokens = [t for t in re.split(r"[\s|｜]+", rest) if t]
        if not tokens and i + 1 < len(info):
            tokens = [info[i + 1].text]
        for t in tokens:
            t = t.strip("[]【】")
            if _OUTLET.match(t) and not _NOT_SOURCE.search(t):
                return t.strip("《》")
        return ""
    return ""


# --- author ----------------------------------------------------------------------------------------


def _names(group: str) -> str:
    names = [n for n in re.split(r"[\s、]+", group) if n]
    if not names or len(names) > 4 or any(_NOT_NAME.search(n) or len(n) > 6 for n in names):
        return ""
    return " ".join(names)


def _find_author(lines: list[Line]) -> str:
    order = ("info", "lead", "tail", "after")
    for region in (*order, "body"):
        for i, ln in enumerate(lines):
            if ln.region != region:
                continue
            for m in _AUTHOR_LABEL.finditer(ln.text):
                nxt = lines[i + 1] if i + 1 < len(lines) and region == "info" else None
                # "采写：南都记者 余毅菁 向雪妮": the reporters after the outlet's 记者
                head = ln.text[m.end() : m.end() + 40]
                if (at := head.find("记者")) != -1 and at <= 12 and (rm := _REPORTER.match(head, at)):
                    if names := _names(rm.group(1)):
                        return names
                if value := _value_after(ln.text, m.end(), nxt):
                    first, *rest = value.split()
                    names = [first]
                    for token in rest:  # "余毅菁 向雪妮 返回富达": names while they look like names
                        if not re.fullmatch(_NAME, token) or _NOT_NAME.search(token):
                            break
                        names.append(token)
                    return " ".join(names)
    for region in order:
        for ln in lines:
            if ln.region != region or ln.linked:
                continue
            for pattern in (_REPORTER, _SLASH_WEN):
                for m in pattern.finditer(ln.text):
                    group = next(g for g in m.groups() if g)
                    if names := _names(group):
                        return names
            if region in ("tail", "lead") and (m := _CLOSING.search(ln.text)):
                # "（姚峰 上海报道）": the place of the report is not a name
                if names := _names(re.sub(r"\s*[\u4e00-\u9fff]{2}报道$", "", m.group(1))):
                    return names
    return ""
