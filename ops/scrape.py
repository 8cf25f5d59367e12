"""What /metrics reads when it is scraped, beside the counters: the pushes by state, the outbox's
depth (followers with replies held for their next message, editor notices not yet delivered) and
the age of the scheduler's last tick. Read from the database and the shared state each scrape,
so every process answers the same; bounded, so a database that does not answer leaves these out
(and says so in `wxbot_scrape_ok`) without holding the scrape."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import String, cast, func, select

from core import metrics
from core.services import Services
from ops.health import heartbeat_age
from store.models.pushes import Notification, Push
from store.models.webhook import Follower

SCRAPE_SECONDS = 1.0
UNDELIVERED = ("pending", "sending", "waiting")


async def _figures(services: Services) -> dict:
    async with services.db() as s:
        states = dict((await s.execute(select(Push.state, func.count()).group_by(Push.state))).all())
        held = await s.scalar(select(func.count()).select_from(Follower).where(
            Follower.held.is_not(None), cast(Follower.held, String).not_in(("null", "[]"))))
        notices = await s.scalar(select(func.count()).select_from(Notification).where(
            Notification.status.in_(UNDELIVERED)))
    return {"states": states, "held": held or 0, "notices": notices or 0}


class _Figures(Collector):
    def __init__(self, figures: dict | None, age: float | None) -> None:
        self.figures, self.age = figures, age

    def collect(self):
        ok = GaugeMetricFamily("wxbot_scrape_ok", "Whether the database answered this scrape")
        ok.add_metric([], 1.0 if self.figures is not None else 0.0)
        yield ok
        if self.figures is not None:
            pushes = GaugeMetricFamily("wxbot_pushes", "Pushes by state", labels=["state"])
            for state, n in sorted(self.figures["states"].items()):
                pushes.add_metric([state], n)
            yield pushes
            depth = GaugeMetricFamily("wxbot_outbox_depth", "Replies waiting to go out, by queue",
                                      labels=["queue"])
            depth.add_metric(["held_replies"], self.figures["held"])
            depth.add_metric(["editor_notices"], self.figures["notices"])
            yield depth
        if self.age is not None:
            beat = GaugeMetricFamily("wxbot_scheduler_heartbeat_age_seconds",
                                     "Seconds since a scheduler last ticked")
            beat.add_metric([], self.age)
            yield beat


async def _bounded(coro):
    try:
        return await asyncio.wait_for(coro, SCRAPE_SECONDS)
    except Exception:
        return None


async def exposition(services: Services) -> bytes:
    """The whole /metrics body: the counters, then what is read at scrape time."""
    figures, age = await asyncio.gather(_bounded(_figures(services)), _bounded(heartbeat_age(services)))
    registry = CollectorRegistry()
    registry.register(_Figures(figures, age))
    return metrics.exposition() + generate_latest(registry)
