"""/healthz and /readyz as data. /healthz: the process answers. /readyz: the database answers, Redis
answers (when `[redis] url` is set), a scheduler has ticked lately (when `[scheduler] enabled`) and an
access token is at hand. Each check gets CHECK_SECONDS, all run at once, so the answer comes within
that however much is down; what failed is said in words, without any secret."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text

from core import logs, metrics
from core.config import Settings
from core.services import Services

CHECK_SECONDS = 0.5


class NotReady(Exception):
    """A check's finding, in words."""


def heartbeat_stale_after(settings: Settings) -> float:
    """How old the scheduler's last tick may be: ticks run one at a time and one that advances
    pushes waits for WeChat (several calls of `[wechat] timeout_seconds`)."""
    return max(60.0, 6 * settings.scheduler.tick_seconds, 4 * settings.wechat.timeout_seconds)


def scrub(message: str, settings: Settings) -> str:
    return logs.scrub(message, logs.secrets_of(settings))


async def _database(services: Services) -> None:
    async with services.db() as session:
        await session.execute(text("SELECT 1"))


async def _redis(services: Services) -> None:
    await services.shared.get("ops:ping")


async def heartbeat_age(services: Services) -> float | None:
    """Seconds since a scheduler last ticked (any process sharing this state), None if never."""
    raw = await services.shared.get(metrics.HEARTBEAT_KEY)
    return None if raw is None else max(0.0, services.clock.time() - float(raw))


async def _scheduler(services: Services) -> None:
    age = await heartbeat_age(services)
    if age is None:
        raise NotReady("no scheduler has ticked yet")
    limit = heartbeat_stale_after(services.settings)
    if age > limit:
        raise NotReady(f"the scheduler last ticked {age:.0f} s ago (more than {limit:.0f} s)")


# One token fetch at a time per process; a probe that gives up leaves it running (a cancelled fetch
# would only be started again by the next probe).
_fetching: dict[int, asyncio.Task] = {}


async def _token(services: Services) -> None:
    key = id(services.api)
    task = _fetching.get(key)
    if task is None or task.done():
        task = _fetching[key] = asyncio.ensure_future(services.api.access_token())
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
    await asyncio.shield(task)


def checks_for(settings: Settings) -> dict[str, Callable[[Services], Awaitable[None]]]:
    checks: dict[str, Callable[[Services], Awaitable[None]]] = {"database": _database}
    if settings.redis.url:
        checks["redis"] = _redis
    if settings.scheduler.enabled:
        checks["scheduler"] = _scheduler
    checks["token"] = _token
    return checks


async def _run(name: str, check: Callable[[Services], Awaitable[None]], services: Services) -> dict[str, Any]:
    started = time.perf_counter()
    error = None
    try:
        await asyncio.wait_for(check(services), CHECK_SECONDS)
    except TimeoutError:
        error = f"no answer within {CHECK_SECONDS * 1000:.0f} ms"
    except Exception as e:
        error = scrub(f"{type(e).__name__}: {e}" if not isinstance(e, NotReady) else str(e),
                      services.settings)
    result: dict[str, Any] = {"ok": error is None, "ms": round((time.perf_counter() - started) * 1000, 1)}
    if error:
        result["error"] = error[:300]
    return result


async def readiness(services: Services) -> dict[str, Any]:
    """{"ready": bool, "checks": {name: {"ok", "ms", "error"?}}}."""
    checks = checks_for(services.settings)
    results = await asyncio.gather(*(_run(n, c, services) for n, c in checks.items()))
    found = dict(zip(checks, results, strict=True))
    return {"ready": all(r["ok"] for r in found.values()), "checks": found}


def liveness() -> dict[str, Any]:
    return {"alive": True}
