"""The scheduler of a `serve` process: APScheduler is the clock, the pushes table is the truth.

APScheduler (AsyncIOScheduler with its in-memory job store, which is never shared between processes
and never pickles, so the jobs are the runner's bound methods) runs three recurring jobs, each with
an explicit id: a tick every `tick_seconds` that claims due pushes and advances them, auto-drafting
on `compose_cron`, and the daily message-log purge. Nothing about a push lives in APScheduler: on
start-up the first tick finds whatever is due or was missed in the table.

Claims make several processes safe on one PostgreSQL database: the tick selects due rows with
`FOR UPDATE SKIP LOCKED` and stamps them with a lease (claimed_by, claim_until) by a conditional
UPDATE — which is also the whole mechanism on SQLite — and every transition checks the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import or_, select, update

from bot import messagelog
from core.services import Services
from scheduler import compose, editing, notify, planning, report
from scheduler.pipeline import Pipeline
from store.db import is_postgresql
from store.models.pushes import Push

log = logging.getLogger("scheduler")


def worker_name() -> str:
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{secrets.token_hex(3)}"


class Runner:
    """What the jobs do, for one process's services."""

    def __init__(self, services: Services, worker: str | None = None) -> None:
        self.services = services
        self.worker = worker or worker_name()
        self.pipeline = Pipeline(services, self.worker)
        self.is_pg = is_postgresql(services.settings.database_url)
        self._busy = 0
        self.notices_sent = 0  # by the last tick
        self.idle = asyncio.Event()
        self.idle.set()

    @contextlib.asynccontextmanager
    async def working(self) -> AsyncIterator[None]:
        """Marks a running job, so that stopping waits for it."""
        self._busy += 1
        self.idle.clear()
        try:
            yield
        finally:
            self._busy -= 1
            if not self._busy:
                self.idle.set()

    async def claim(self, limit: int) -> list[int]:
        """Due pushes nobody holds, now leased to this process."""
        now = self.services.clock.now()
        lease = now + timedelta(seconds=self.services.settings.scheduler.claim_seconds)
        free = or_(Push.claim_until.is_(None), Push.claim_until < now)
        q = (select(Push.id).where(Push.next_run_at <= now, free)
             .order_by(Push.next_run_at, Push.id).limit(limit))
        if self.is_pg:
            q = q.with_for_update(skip_locked=True)
        claimed = []
        async with self.services.db.begin() as s:
            for pid in (await s.scalars(q)).all():
                got = await s.execute(update(Push).where(Push.id == pid, free)
                                      .values(claimed_by=self.worker, claim_until=lease))
                if got.rowcount == 1:
                    claimed.append(pid)
        return claimed

    async def release(self, push_id: int) -> None:
        async with self.services.db.begin() as s:
            await s.execute(update(Push).where(Push.id == push_id, Push.claimed_by == self.worker)
                            .values(claimed_by=None, claim_until=None))

    async def run_one(self, push_id: int) -> None:
        try:
            await self.pipeline.advance(push_id)
        except Exception:  # one push's bug must not stop the others; it is retried after its lease
            log.exception("push %s: step failed", push_id)
        finally:
            await self.release(push_id)

    async def tick(self) -> int:
        """Claim what is due, advance it (a few at a time), then deliver editor notices."""
        sched = self.services.settings.scheduler
        total = 0
        sem = asyncio.Semaphore(sched.concurrency)

        async def one(pid: int) -> None:
            async with sem:
                await self.run_one(pid)

        while ids := await self.claim(sched.concurrency * 4):
            total += len(ids)
            await asyncio.gather(*(one(pid) for pid in ids))
        self.notices_sent = await notify.flush(self.services)
        # The heartbeat the console's dashboard shows (the last run of any scheduler process).
        await self.services.shared.set(report.HEARTBEAT_KEY, str(self.services.clock.time()), ttl=7 * 86400)
        return total

    async def compose(self) -> None:
        try:
            push = await compose.compose(self.services, key=compose.cron_key(self.services))
        except (planning.PlanningError, editing.EditError) as e:
            log.warning("auto-drafting: %s", e)
            return
        if push is not None:
            log.info("auto-drafting: push %s with %s articles", push.id, len(push.articles))

    async def purge(self) -> None:
        removed = await messagelog.purge_old(self.services)
        log.info("message log: %s rows past retention removed", removed)

    # --- the jobs: each marked running, so that stopping waits for it -------------------------------

    async def tick_job(self) -> None:
        async with self.working():
            await self.tick()

    async def compose_job(self) -> None:
        async with self.working():
            await self.compose()


class SchedulerHandle:
    def __init__(self, scheduler: AsyncIOScheduler, runner: Runner) -> None:
        self.scheduler = scheduler
        self.runner = runner

    async def stop(self, timeout: float = 30.0) -> None:
        """Stop triggering, let running jobs finish (a step is never cut off mid-call), shut down."""
        self.scheduler.pause()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.runner.idle.wait(), timeout)
        self.scheduler.shutdown(wait=False)


async def start_scheduler(services: Services) -> SchedulerHandle:
    """Start the clock of this process's scheduler (app.create_app runs it with the application)."""
    settings = services.settings.scheduler
    runner = Runner(services)
    scheduler = AsyncIOScheduler(timezone=planning.zone(services.settings))
    # Jobs run one at a time each; a tick that overran does not queue copies of itself.
    defaults = dict(replace_existing=True, max_instances=1, coalesce=True)
    scheduler.add_job(runner.tick_job, "interval", seconds=settings.tick_seconds, id="tick",
                      next_run_time=datetime.now().astimezone(), misfire_grace_time=None, **defaults)
    scheduler.add_job(runner.compose_job, CronTrigger.from_crontab(settings.compose_cron, timezone=planning.zone(
        services.settings)), id="compose", misfire_grace_time=3600, **defaults)
    scheduler.add_job(runner.purge, CronTrigger(hour=4, minute=17, timezone=planning.zone(services.settings)),
                      id="purge", misfire_grace_time=6 * 3600, **defaults)
    scheduler.start()
    log.info("scheduler %s started (tick %ss, compose %r)", runner.worker, settings.tick_seconds,
             settings.compose_cron)
    return SchedulerHandle(scheduler, runner)

