"""统计: the registry's figures (会员统计) and the account's reading figures (阅读数据), read-only. The
same functions as `main.py members stats` and `main.py stats report` compute them
(store/members/stats.registry_figures, store/reading/report.reading_report), the same table builders
lay them out, and every table downloads through the CLI's `--xlsx` writers (to memory: the whole
workbook, or one sheet). The charts are SVG drawn here (console/charts.py)."""

from __future__ import annotations

import asyncio
import io
from datetime import date
from urllib.parse import quote

from aiohttp import web

from console import charts
from console import stats_words as words
from console.web import page, render, services, url
from store.members import stats_tables, stats_texts
from store.members.stats import DEFAULT_MONTHS, PAGE_TOP, RegistryFigures, day_asked, registry_figures
from store.members.status import local_today
from store.reading import tables as reading_tables
from store.reading import texts as reading_texts
from store.reading.report import DEFAULT_TOP, follower_series, push_reads, reading_report

PAGE_ROWS = 50  # rows of a long table shown on the page (expiring grades, pushes)
MAX_MONTHS = 120
MAX_YEARS = 10  # a span of years asked at once (each year is a few queries)
CHART_PUSHES = 60
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- 会员统计 -------------------------------------------------------------------------------------------

def _registry_query(request: web.Request) -> tuple[date, int, str | None]:
    """(day, months, the problem in words): a bad field falls back to today / 12 and says so."""
    svc = services(request)
    today = local_today(svc.clock.now(), svc.settings.scheduler.timezone)
    q = request.query
    try:
        day = day_asked(q.get("on"), today)
    except ValueError as e:
        return today, DEFAULT_MONTHS, str(e)
    text = q.get("months", "").strip()
    if not text:
        return day, DEFAULT_MONTHS, None
    if not text.isdigit() or int(text) > MAX_MONTHS:
        return day, DEFAULT_MONTHS, words.BAD_MONTHS.format(text=text, max=MAX_MONTHS)
    return day, int(text), None


async def _figures(request: web.Request, day: date, months: int, top: int | None) -> RegistryFigures:
    svc = services(request)
    settings = svc.settings
    return await registry_figures(svc.db, day, timezone=settings.scheduler.timezone, roles=settings.members.roles,
                                  months=months, top=top, list_expiring=True, cache=svc.figures)


def registry_charts(f: RegistryFigures) -> dict[str, object]:
    day = stats_texts.day(f.on)
    t = f.total
    grades = [charts.Bar(g, n) for g, n in t.grades.items()]
    grades += [charts.Bar(words.EXPIRED, t.expired, "muted"), charts.Bar(words.UNGRADED, t.ungraded, "muted")]
    regions = [charts.Bar(stats_texts.region_label(c.label), c.units, "" if c.label else "muted",
                          words.GRADED_NOTE.format(n=c.graded)) for c in f.by_region]
    return {
        "grades": charts.bars(grades, title=words.CHART_GRADES.format(day=day), unit=words.UNIT_UNITS),
        "regions": charts.bars(regions, title=words.CHART_REGIONS.format(day=day), unit=words.UNIT_UNITS),
    }


@page("/stats", role="editor", name="stats")
async def registry(request: web.Request) -> web.Response:
    day, months, problem = _registry_query(request)
    f = await _figures(request, day, months, PAGE_TOP)
    query = {"on": day.isoformat(), "months": str(months)}
    svc = services(request)
    return await render(
        request, "stats_registry.html", f=f, problem=problem, query=query,
        tables=_downloads(request, "stats_registry_xlsx", query, stats_tables.sheets(f)),
        whole=url(request, "stats_registry_xlsx", query), headline=stats_texts.headline(f.headline),
        charts=registry_charts(f), today=local_today(svc.clock.now(), svc.settings.scheduler.timezone),
        day=stats_texts.day(f.on), page_rows=PAGE_ROWS, words=words,
    )


def _downloads(request: web.Request, name: str, query: dict[str, str], sheets) -> list[tuple[str, list, str]]:
    """(sheet name, rows, the link that downloads that one sheet)."""
    return [(sheet, rows, url(request, name, {**query, "sheet": sheet})) for sheet, rows in sheets]


def _attachment(data: bytes, ascii_name: str, name: str) -> web.Response:
    return web.Response(body=data, headers={
        "Content-Type": XLSX,
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
    })


@page("/stats/registry.xlsx", role="editor", name="stats_registry_xlsx")
async def registry_xlsx(request: web.Request) -> web.Response:
    """Every table of the page (the whole ranking), or the one named by ?sheet=, as the CLI writes them."""
    day, months, problem = _registry_query(request)
    if problem:
        raise web.HTTPBadRequest(text=problem)
    only = request.query.get("sheet") or None
    f = await _figures(request, day, months, None)
    if only is not None and only not in dict(stats_tables.sheets(f)):
        raise web.HTTPNotFound(text=words.NO_SUCH_TABLE)
    out = io.BytesIO()
    await asyncio.to_thread(stats_tables.write_xlsx, out, f, only)
    name = f"{words.REGISTRY}{'-' + only if only else ''}-{day.isoformat()}.xlsx"
    return _attachment(out.getvalue(), f"registry-{day.isoformat()}.xlsx", name)


# --- 阅读数据 -------------------------------------------------------------------------------------------

def _reading_query(request: web.Request) -> tuple[int, int | None, str | None]:
    """(year, since, the problem in words)."""
    svc = services(request)
    this_year = local_today(svc.clock.now(), svc.settings.scheduler.timezone).year
    q = request.query
    asked = []
    for key, default in (("year", this_year), ("since", None)):
        text = q.get(key, "").strip()
        if not text:
            asked.append(default)
        elif text.isdigit() and 2000 <= int(text) <= this_year:
            asked.append(int(text))
        else:
            return this_year, None, words.BAD_YEAR.format(text=text, first=2000, last=this_year)
    year, since = asked
    if since is not None and since > year:
        return this_year, None, reading_texts.CLI_BAD_YEARS
    if since is not None and year - since >= MAX_YEARS:
        return this_year, None, words.TOO_MANY_YEARS.format(n=MAX_YEARS)
    return year, since, None


async def _reading(request: web.Request, year: int, since: int | None):
    db = services(request).db
    r = await reading_report(db, year, since=since, top=DEFAULT_TOP)
    first, last = date(r.first_year, 1, 1), date(r.last_year, 12, 31)
    return r, await follower_series(db, first, last), await push_reads(db, first, last)


@page("/stats/reading", role="editor", name="stats_reading")
async def reading(request: web.Request) -> web.Response:
    year, since, problem = _reading_query(request)
    r, followers, pushes = await _reading(request, year, since)
    account = services(request).settings.wechat.display_name
    span = reading_texts.span(r)
    recent = pushes[-CHART_PUSHES:]
    points = [(p.day.isoformat(), p.followers) for p in followers if p.followers is not None]
    chart = {
        "followers": charts.line(points, title=words.CHART_FOLLOWERS.format(span=span), unit=words.UNIT_PEOPLE,
                                 empty=words.NO_FIGURES),
        "pushes": charts.columns(
            [charts.Bar(p.sent_on.isoformat(), p.reads, note=words.PUSH_NOTE.format(
                day=p.sent_on.isoformat(), n=p.articles, title=p.title)) for p in recent],
            title=words.CHART_PUSHES.format(span=span, n=len(recent)), unit=words.UNIT_READS,
            first=recent[0].sent_on.isoformat() if recent else "", last=recent[-1].sent_on.isoformat() if recent else "",
            empty=words.NO_FIGURES),
    }
    query = {"year": str(year), **({"since": str(since)} if since is not None else {})}
    return await render(
        request, "stats_reading.html", r=r, problem=problem, query=query, charts=chart,
        tables=_downloads(request, "stats_reading_xlsx", query, [  # the years without the sentence above them
            (name, reading_tables.year_table(r) if name == reading_texts.SHEET_YEARS else rows)
            for name, rows in reading_tables.sheets(r, account, followers, pushes)]),
        whole=url(request, "stats_reading_xlsx", query), headline=reading_texts.headline(r, account), span=span,
        page_rows=PAGE_ROWS, words=words,
    )


@page("/stats/reading.xlsx", role="editor", name="stats_reading_xlsx")
async def reading_xlsx(request: web.Request) -> web.Response:
    """The page's tables as `main.py stats report --xlsx` writes them (with the followers by day and
    the reads per push), or the one named by ?sheet=."""
    year, since, problem = _reading_query(request)
    if problem:
        raise web.HTTPBadRequest(text=problem)
    r, followers, pushes = await _reading(request, year, since)
    account = services(request).settings.wechat.display_name
    only = request.query.get("sheet") or None
    if only is not None and only not in dict(reading_tables.sheets(r, account, followers, pushes)):
        raise web.HTTPNotFound(text=words.NO_SUCH_TABLE)
    out = io.BytesIO()
    await asyncio.to_thread(reading_tables.write_xlsx, out, r, account, only=only, followers=followers,
                            pushes=pushes)
    span = f"{r.first_year}-{r.last_year}" if r.first_year != r.last_year else str(r.last_year)
    name = f"{words.READING}{'-' + only if only else ''}-{span}.xlsx"
    return _attachment(out.getvalue(), f"reading-{span}.xlsx", name)
