"""The webhook's health as data, for the console's dashboard tiles and anyone else who wants it
without Prometheus: `webhook_summary(services)`.

Over the last `hours` (24 by default), from the message log, so every process's traffic counts and
a restart forgets nothing: the messages that came in, and how many got their passive answer within
the reply budget. Since the counting processes started (the counters of core/metrics.py, every
process's in multiprocess mode): the deadline fallbacks and the dedupe hits."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from core import metrics
from core.services import Services
from store.models.webhook import MessageLog


@dataclass(frozen=True)
class WebhookSummary:
    hours: int
    messages: int  # inbound messages and events over `hours`
    answered: int  # passive answers over `hours` (one per message that got one; `success` is none)
    within_budget: int  # of those, within `[server] reply_budget_seconds`
    budget_seconds: float
    deadline_fallbacks: int  # since the processes started: handlers past the budget
    dedupe_hits: int  # since the processes started: WeChat retries answered without a second run

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def webhook_summary(services: Services, hours: int = 24) -> WebhookSummary:
    budget = services.settings.server.reply_budget_seconds
    since = services.clock.now() - timedelta(hours=hours)
    recent = MessageLog.at >= since
    inbound = (MessageLog.direction == "in") & (MessageLog.channel == "webhook")
    passive = (MessageLog.direction == "out") & (MessageLog.channel == "passive")
    async with services.db() as s:  # one pass over the hours asked (a dashboard view pays for it)
        messages, answered, within = (await s.execute(select(
            func.count().filter(inbound), func.count().filter(passive),
            func.count().filter(passive & (MessageLog.elapsed_ms <= budget * 1000)),
        ).where(recent))).one()
    return WebhookSummary(
        hours=hours, messages=messages or 0, answered=answered or 0, within_budget=within or 0,
        budget_seconds=budget,
        deadline_fallbacks=int(metrics.sample("wxbot_deadline_fallbacks_total")),
        dedupe_hits=int(metrics.sample("wxbot_dedupe_hits_total")),
    )
