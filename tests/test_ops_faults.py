"""The fault bench's short form (bench/faults.py has the long one): three `serve` processes on a
PostgreSQL and a Redis server of the bench's own, under WeChat-like load with retries; kill -9 one,
restart PostgreSQL, restart Redis; then one process on SQLite whose disk fills. No message goes
unanswered, none is handled twice, every push due at a fault is done once, and a follower gets at
least the fallback text while the database is down. Beside it, the dedupe claim a killed process
leaves behind, which a later retry outlives."""

from __future__ import annotations

import asyncio
import shutil
import time

import pytest

from bot.dedupe import PENDING_MARGIN_SECONDS, Dedupe
from core.clock import Clock
from store.db import make_engine, make_session_factory
from store.migrate import upgrade
from store.shared import SqlState


async def test_a_retry_outlives_the_claim_of_a_process_that_died(sqlite_url):
    await upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    shared = SqlState(make_session_factory(engine))
    dead, alive = Dedupe(shared, Clock(), ttl=600), Dedupe(shared, Clock(), ttl=600)
    budget = 0.4
    never = asyncio.Event()

    async def hangs(_version) -> str:  # the process that claimed the message dies in the handler
        await never.wait()
        return "never"

    async def answers(_version) -> str:
        return "<xml>reply</xml>"

    claimant = asyncio.create_task(dead.once("m:1", hangs, time.monotonic() + budget))
    await asyncio.sleep(0.1)
    # WeChat's retry while the claim is young waits for it until its own budget runs out…
    assert await alive.once("m:1", answers, time.monotonic() + budget) == "success"
    await asyncio.sleep(budget + PENDING_MARGIN_SECONDS)
    # …and the next one finds the claim gone and answers.
    assert await alive.once("m:1", answers, time.monotonic() + budget) == "<xml>reply</xml>"
    claimant.cancel()
    await engine.dispose()


def _can_run() -> str | None:
    import os

    if os.geteuid() != 0:
        return "needs root (runuser postgres, mount)"
    for tool in ("initdb", "pg_ctl", "redis-server", "runuser"):
        if shutil.which(tool) is None:
            return f"{tool} not found"
    return None


async def test_faults_short_form():
    from bench.faults import Options, run, table

    reason = _can_run()
    if reason:
        pytest.skip(reason)
    figures = await run(Options(seconds=4.0, before=1.5, rate=6.0, pushes=1, downtime=1.5, base_port=19580,
                                settle=40.0))
    print(table(figures))
    by = {f.scenario: f for f in figures}
    assert set(by) == {"kill", "postgres", "redis", "disk"}
    for f in figures:
        if f.note.startswith("not run"):
            continue
        assert f.messages >= 20, f
        assert (f.unanswered, f.handled_twice, f.pushes_lost, f.pushes_twice) == (0, 0, 0, 0), f
    # The database down: answered all the same, some with the fallback text; after it, replies again.
    assert by["postgres"].fallback >= 1 and by["postgres"].extra["kinds"]["none"] == 0
    assert by["kill"].extra["processes_alive_after"] == 3
