"""Fetching the reading figures (数据统计, wechat/datacube.py) into their tables (store/reading/).

`fetch` asks, for every day from the window's first to the latest ready one (yesterday after 08:00
Beijing time), each endpoint that covers the day (wechat/datacube.endpoints_for: the 发表内容 statistics
from 2025-11-01, the legacy ones before) for what is not stored yet, in queries of at most the
endpoint's span. A day is done once its answer is stored (reading_fetches, in the same transaction as
the figures), so a run that stops halfway loses nothing and the next one goes on from there, and a
missed day (the process was down, WeChat refused) is fetched by the next run within the window. The
totals endpoints (getarticletotaldetail, getarticletotal) grow for 30 (7) days after a publish: their
days are asked again until then. Answers marked is_delay (not final) are stored but not marked done.

Refusals: 61501 on a range is split and asked day by day (a span smaller than documented loses
nothing), 61501 on one day is recorded (asked again only by an explicit `--since`); 61503 (not ready)
and other errors stop that endpoint for this run, keeping what came before. Several processes: one
fetches at a time (a lock in the shared state); the upserts make even two runs at once harmless.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from core.services import Services
from core.shared import LockTimeout
from store.models.reading import ArticleDay, ArticleTotal, FollowerDay, FollowerSource, ReadArticle, ReadHour
from store.reading import records
from wechat import datacube as dc
from wechat.errors import FatalCredentials, PermissionDenied, WeChatError

log = logging.getLogger("scheduler.reading")

LOCK = "reading:fetch"
LOCK_SECONDS = 900.0
MAX_CALLS = 400  # per run, so a run fits its lock; the rest is the next run's
ORDER = dc.FOLLOWERS + ("getarticletotaldetail", "getarticleread", "getarticleshare", "getarticletotal",
                        "getarticlesummary") + dc.HOURS  # articles before their figures


@dataclass
class FetchReport:
    first: date
    last: date
    calls: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # endpoint → rows stored
    refused: list[tuple[str, date]] = field(default_factory=list)  # 61501 for that day
    not_ready: list[str] = field(default_factory=list)  # 61503
    errors: list[str] = field(default_factory=list)
    busy: bool = False  # another process was fetching
    more: bool = False  # stopped at MAX_CALLS: the next run goes on
    linked: int = 0  # articles newly linked to their push


def window(services: Services, since: date | None = None) -> tuple[date, date]:
    last = dc.last_ready(services.clock.now())
    first = since or last - timedelta(days=services.settings.scheduler.reading_backfill_days - 1)
    return max(first, dc.DATACUBE_LEGACY_START), last


async def fetch(services: Services, since: date | None = None, max_calls: int = MAX_CALLS) -> FetchReport:
    """Fetch what is missing from `since` (default: the last `[scheduler] reading_backfill_days`) to
    the latest ready day; see the module docstring."""
    first, last = window(services, since)
    report = FetchReport(first, last)
    try:
        async with services.shared.lock(LOCK, ttl=LOCK_SECONDS, timeout=0):
            await _fetch(services, report, since is not None, max_calls)
            async with services.db.begin() as s:
                report.linked = await records.link_pushes(s)
    except LockTimeout:
        report.busy = True
    except (FatalCredentials, PermissionDenied) as e:
        report.errors.append(str(e))
        log.error("reading figures: %s", e)
    return report


async def _fetch(services: Services, report: FetchReport, again: bool, max_calls: int) -> None:
    days = [report.first + timedelta(days=i) for i in range((report.last - report.first).days + 1)]
    for endpoint in ORDER:
        wanted = [d for d in days if endpoint in dc.endpoints_for(d) and d >= dc.start_of(endpoint)]
        if not wanted:
            continue
        async with services.db() as s:
            have = await records.done(s, endpoint, wanted[0], wanted[-1])
        missing = [d for d in wanted if _wanted(endpoint, d, have.get(d), report.last, again)]
        for begin, end in dc.ranges(missing, dc.span(endpoint)):
            if report.calls >= max_calls:
                report.more = True
                return
            if not await _query(services, report, endpoint, begin, end):
                break


def _wanted(endpoint: str, day: date, have, last: date, again: bool) -> bool:
    if have is None:
        return True
    if have.refused:
        return again
    grows = dc.TOTALS.get(endpoint)
    return bool(grows) and have.through < min(day + timedelta(days=grows - 1), last)


async def _query(services: Services, report: FetchReport, endpoint: str, begin: date, end: date) -> bool:
    """Ask and store one range; False stops the endpoint for this run."""
    report.calls += 1
    try:
        answer = await services.api.datacube(endpoint, begin.isoformat(), end.isoformat())
    except (FatalCredentials, PermissionDenied):
        raise
    except WeChatError as e:
        if e.code == dc.RANGE_REFUSED and begin < end:  # split: a span smaller than documented
            middle = begin + timedelta(days=(end - begin).days // 2)
            return (await _query(services, report, endpoint, begin, middle)
                    and await _query(services, report, endpoint, middle + timedelta(days=1), end))
        if e.code == dc.RANGE_REFUSED:
            report.refused.append((endpoint, begin))
            async with services.db.begin() as s:
                await records.mark(s, endpoint, [begin], report.last, 0, services.clock.now(), refused=True)
            log.warning("reading figures: %s refused %s (61501)", endpoint, begin)
            return True
        if e.code == dc.NOT_READY:
            report.not_ready.append(endpoint)
        else:
            report.errors.append(str(e))
            log.warning("reading figures: %s %s..%s failed: %s", endpoint, begin, end, e)
        return False
    rows = list(answer.get("list") or [])
    async with services.db.begin() as s:
        await store(s, endpoint, rows)
        if not answer.get("is_delay"):
            days = [begin + timedelta(days=i) for i in range((end - begin).days + 1)]
            await records.mark(s, endpoint, days, report.last, len(rows), services.clock.now())
    report.rows[endpoint] = report.rows.get(endpoint, 0) + len(rows)
    return True


async def store(s, endpoint: str, rows: list[dict]) -> None:
    """One endpoint's answer into its tables."""
    if endpoint == "getusersummary":
        await records.upsert(s, FollowerSource, dc.follower_sources(rows))
    elif endpoint == "getusercumulate":
        await records.upsert(s, FollowerDay, dc.follower_days(rows))
    elif endpoint == "getarticleread":
        await records.upsert(s, ArticleDay, dc.article_reads(rows))
    elif endpoint == "getarticleshare":
        await records.upsert(s, ArticleDay, dc.article_shares(rows))
    elif endpoint in ("getarticletotaldetail", "getarticletotal"):
        parse = dc.total_details if endpoint == "getarticletotaldetail" else dc.article_total
        articles, totals = parse(rows)
        await records.upsert(s, ReadArticle, articles)
        await records.upsert(s, ArticleTotal, totals)
        if endpoint == "getarticletotaldetail":
            await records.favourites_from_totals(s, (a["msgid"] for a in articles))
    elif endpoint == "getarticlesummary":
        articles, days = dc.article_summary(rows)
        # the summary does not know the sending day: an article already there keeps its own
        await records.upsert(s, ReadArticle, articles, keep=tuple(articles[0]) if articles else ())
        await records.upsert(s, ArticleDay, days)
    elif endpoint == "getuserreadhour":
        await records.upsert(s, ReadHour, dc.read_hours(rows))
