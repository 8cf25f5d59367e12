"""Polling the `[[sources]]` that have `poll`: one run imports what is new on the source's listing
(store/content/poll.py), records the run, and does with each new article what `on_new` says.

Several processes: each `serve` schedules the polls, and a run first takes the source's lease, a
conditional UPDATE of its `source_states` row (free or expired lease, and due: `next_poll_at`
passed), as the tick does for pushes; so one process polls a source at a time, and a source is
polled once per interval however many processes run (less a quarter of
it, at most a minute, of slack for a late firing). A lease lasts LEASE; a dead process's
source is polled again after it.

Back-off: a run fails when the listing cannot be fetched or read, or when every new article on it
failed. After n consecutive failed runs the next poll waits 2^(n-1) poll intervals (the first
failure is retried at the next regular poll), at most 24 hours; one good run resets it. Editors get
a notice (scheduler/notify.py, delivered with the push notices) at the 1st and the 3rd failure in a
row, and one when the source works again.

The first good run of a source takes stock: what it finds is stored (as `on_new` store/ready say)
but not queued, so a site's history does not fill the pushes; later runs queue what is new.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import aiohttp
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from core.config import SourceSettings
from core.services import Services
from scheduler import intake, notify, planning, texts
from store.content.extract import ExtractError
from store.content.fetch import FetchError
from store.content.importer import Importer
from store.content.poll import PollResult, poll_site
from store.models.sources import SourceRun, SourceState

log = logging.getLogger("scheduler.sources")

LEASE = timedelta(minutes=15)
MAX_WAIT = timedelta(hours=24)
NOTIFY_AT = (1, 3)  # the failures in a row at which editors are told


def polled(services: Services) -> list[SourceSettings]:
    return [s for s in services.settings.sources if s.poll]


def trigger(services: Services, source: SourceSettings) -> tuple[str, dict]:
    """The APScheduler trigger of a source's poll job: ("interval", {seconds}) or ("cron", {...})."""
    if source.poll_seconds is not None:
        return "interval", {"seconds": source.poll_seconds}
    return "cron", {"trigger": CronTrigger.from_crontab(source.poll, timezone=planning.zone(services.settings))}


def interval_after(services: Services, source: SourceSettings, now: datetime) -> timedelta:
    """One poll interval from `now`: the "every …" interval, or the time to the cron's next firing."""
    if source.poll_seconds is not None:
        return timedelta(seconds=source.poll_seconds)
    cron = CronTrigger.from_crontab(source.poll, timezone=planning.zone(services.settings))
    nxt = cron.get_next_fire_time(None, now)
    return (nxt - now) if nxt else MAX_WAIT


def wait_after(services: Services, source: SourceSettings, now: datetime, failures: int) -> timedelta:
    """How long after a run the next one may start: one interval, 2^(n-1) of them after n failures."""
    base = interval_after(services, source, now)
    return min(base * 2 ** max(failures - 1, 0), max(MAX_WAIT, base))


async def claim(services: Services, name: str, worker: str) -> SourceState | None:
    """The source's state, leased to `worker`; None when another process holds it or it is not due."""
    now = services.clock.now()
    try:
        async with services.db.begin() as s:
            if await s.get(SourceState, name) is None:
                s.add(SourceState(name=name, failures=0))
    except IntegrityError:
        pass  # another process created it a moment ago
    free = or_(SourceState.claim_until.is_(None), SourceState.claim_until < now)
    due = or_(SourceState.next_poll_at.is_(None), SourceState.next_poll_at <= now)
    async with services.db.begin() as s:
        got = await s.execute(update(SourceState).where(SourceState.name == name, free, due)
                              .values(claimed_by=worker, claim_until=now + LEASE))
        if got.rowcount != 1:
            return None
        return await s.scalar(select(SourceState).where(SourceState.name == name))


async def poll(services: Services, source: SourceSettings, worker: str, http: aiohttp.ClientSession) -> SourceRun | None:
    """One run of the source if this process gets it; the recorded run (None: not this time)."""
    started = services.clock.now()
    state = await claim(services, source.name, worker)
    if state is None:
        return None
    importer = Importer(services.settings, services.db, services.clock, http,
                        ready=True if source.on_new in ("ready", "queue") else None)
    error = None
    result = PollResult(etag=state.etag, last_modified=state.last_modified)
    try:
        result = await poll_site(importer, source, state.etag, state.last_modified)
    except (FetchError, ExtractError) as e:
        error = str(e)
    except Exception as e:  # a bug must not stop the other sources; the run says what happened
        log.exception("source %s: poll failed", source.name)
        error = f"{type(e).__name__}: {e}"
    report = result.report
    if error is None and result.found and report.failed and not (report.added or report.updated or report.unchanged):
        url, reason = report.failed[0]
        error = texts.SOURCE_ALL_PAGES_FAILED.format(n=len(result.found), url=url, reason=reason)
    notes: list[str] = []
    queued = 0
    if error is None and source.on_new == "queue" and state.last_ok_at is not None:
        for aid in sorted(report.added_ids):
            problem = await intake.enqueue(services, aid)
            if problem:
                notes.append(texts.SOURCE_QUEUE_FAILED.format(id=aid, reason=problem))
            else:
                queued += 1
    run = SourceRun(source=source.name, worker=worker, started_at=started, finished_at=services.clock.now(),
                    not_modified=result.not_modified, requests=importer.fetcher.requests,
                    found=len(result.found), added=len(report.added), updated=len(report.updated),
                    failed=len(report.failed), queued=queued, error="；".join([error or "", *notes]).strip("；") or None)
    await _finish(services, source, state, run, result, failed=error is not None, worker=worker)
    log.info("source %s: %s", source.name, "not modified" if result.not_modified else
             f"found {run.found}, added {run.added}, updated {run.updated}, failed {run.failed}, queued {queued}"
             + (f" ({error})" if error else ""))
    return run


async def _finish(services: Services, source: SourceSettings, state: SourceState, run: SourceRun,
                  result: PollResult, *, failed: bool, worker: str) -> None:
    """The run, the source's new state (validators, failures, next poll; lease released) and the
    editors' notices, in one transaction."""
    now = services.clock.now()
    before = state.failures
    failures = before + 1 if failed else 0
    # Counted from the run's start, as the job's trigger counts, less some slack: this process's own
    # next firing must find the source due, on a loaded machine too.
    start = run.started_at
    wait = wait_after(services, source, start, failures)
    slack = min(timedelta(minutes=1), interval_after(services, source, start) / 4)
    values = dict(failures=failures, next_poll_at=start + wait - slack, claimed_by=None, claim_until=None,
                  last_run_at=start)
    if not failed:
        values.update(etag=result.etag, last_modified=result.last_modified, last_ok_at=now)
    text = None
    if failed and failures in NOTIFY_AT:
        rule = (texts.NOTICE_SOURCE_BACKOFF.format(n=failures, wait=_span(wait)) if failures > 1
                else texts.NOTICE_SOURCE_RETRY)
        text = texts.NOTICE_SOURCE_FAILED.format(name=source.name, reason=run.error, rule=rule,
                                                 when=planning.show(start + wait, services.settings))
    elif not failed and before >= NOTIFY_AT[0]:
        text = texts.NOTICE_SOURCE_RECOVERED.format(name=source.name, n=before)
    async with services.db.begin() as s:
        s.add(run)
        await s.execute(update(SourceState).where(SourceState.name == source.name,
                                                  SourceState.claimed_by == worker).values(**values))
        if text:
            s.add_all(notify.source_notices(services, source.name, "source", text))


def _span(wait: timedelta) -> str:
    minutes = round(wait.total_seconds() / 60)
    if minutes < 1:
        return f"{round(wait.total_seconds())} 秒"
    return f"{minutes} 分钟" if minutes < 120 else f"{minutes / 60:.1f} 小时".replace(".0 ", " ")
