"""统计 / 会员统计: the registry's public figures for anyone (counts only, never a unit's own facts),
from the one function that computes them (store/members/stats.py), kept per process until the
registry or the day changes. And for 我的状态 (handlers/members.py): a bound unit's place in the
federation's ranking and the day its grade expires."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.context import Context
from bot.router import Router
from store.members import stats_texts
from store.members.index import Entry
from store.members.stats import place_in_ranking, public_figures
from store.members.status import grade_expires_on, local_today
from wechat.replies import Reply, Text

router = Router("member_stats")


@router.exact("统计", "会员统计", help=stats_texts.HELP_STATS)
async def registry_stats(message: Any, ctx: Context) -> Reply:
    zone = ctx.settings.scheduler.timezone
    figures = await public_figures(
        ctx.db, local_today(ctx.clock.now(), zone), timezone=zone, roles=ctx.settings.members.roles,
        cache=ctx.services.figures,
    )
    return Text(stats_texts.follower_reply(figures))


async def standing(ctx: Context, entries: Iterable[Entry]) -> dict[int, list[str]]:
    """Unit id → the lines 我的状态 adds for it: its place in the ranking, its grade's expiry."""
    zone = ctx.settings.scheduler.timezone
    today = local_today(ctx.clock.now(), zone)
    out = {}
    for e in entries:
        place = await place_in_ranking(ctx.db, e.id, today, zone)
        expires = grade_expires_on(e.grade_year) if e.grade and e.grade_year else None
        out[e.id] = stats_texts.standing(place, expires, today)
    return out
