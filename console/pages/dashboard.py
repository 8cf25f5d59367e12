"""工作台: what needs an editor now. Pushes due today and the next one; pushes waiting for approval;
the failure inbox (failed, missed or stuck pushes, WeChat's code in plain words with the next step,
retry and acknowledge); the broadcasts left today / this month for the account type; what the
product records about its health (the scheduler's last run, the access token's age); and the
webhook's tiles over the last 24 hours (ops.summary.webhook_summary)."""

from __future__ import annotations

import json
from datetime import timedelta

from aiohttp import web
from sqlalchemy import select

from console import pushinfo
from console import texts as ctexts
from console.web import page, render, services
from ops.summary import webhook_summary
from scheduler import notify, planning, report, texts
from scheduler.states import CANCELLABLE, Review, S
from store.models.pushes import Push

SENDING = (S.SUBMITTING, S.SUBMITTED, S.CONFIRMING)

# Stuck: still handed to WeChat with no outcome after this long.
STUCK_AFTER = timedelta(hours=1)


def _next_step(push: Push) -> tuple[str, str]:
    """(what happened, what to do) in words, from WeChat's errcode when there is one."""
    if push.state == S.OVERDUE:
        return ctexts.STEP_OVERDUE
    if push.error_code in texts.ERRCODES:
        return texts.ERRCODES[push.error_code]
    if push.state in (S.SUBMITTING, S.SUBMITTED, S.CONFIRMING):
        return ctexts.STEP_STUCK
    return push.error_reason or ctexts.STEP_FAILED[0], ctexts.STEP_FAILED[1]


async def _health(request: web.Request) -> list[tuple[str, str, str]]:
    svc = services(request)
    now = svc.clock.time()
    out = []
    beat = await svc.shared.get(report.HEARTBEAT_KEY)
    if not svc.settings.scheduler.enabled:
        out.append(("bad", ctexts.HEALTH_SCHEDULER, ctexts.HEALTH_SCHEDULER_OFF))
    elif beat is None:
        out.append(("warn", ctexts.HEALTH_SCHEDULER, ctexts.HEALTH_SCHEDULER_NEVER))
    else:
        ago = now - float(beat)
        level = "ok" if ago < max(60, svc.settings.scheduler.tick_seconds * 6) else "bad"
        out.append((level, ctexts.HEALTH_SCHEDULER, ctexts.HEALTH_SCHEDULER_AGO.format(s=int(ago))))
    # Only the expiry is read from the cached token; the token itself is never shown or logged.
    raw = await svc.shared.get(f"wechat:token:{svc.settings.wechat.account_key}")
    if raw is None:
        out.append(("warn", ctexts.HEALTH_TOKEN, ctexts.HEALTH_TOKEN_NONE))
    else:
        left = float(json.loads(raw).get("expires_at", now)) - now
        out.append(("ok" if left > 300 else "warn", ctexts.HEALTH_TOKEN, ctexts.HEALTH_TOKEN_LEFT.format(m=int(left // 60))))
    return out


@page("/", role="editor", name="dashboard")
async def dashboard(request: web.Request) -> web.Response:
    svc = services(request)
    settings = svc.settings
    now = svc.clock.now()
    start = planning.next_day_start(now, settings) - timedelta(days=1)
    end = start + timedelta(days=1)
    # Small reads, each bounded (a window, a limit, or a state few pushes are in); no article rows.
    async with svc.db() as s:
        today = list((await s.scalars(select(Push).where(Push.planned_at >= start, Push.planned_at < end,
                                                         Push.state != S.CANCELLED).order_by(Push.planned_at))).all())
        upcoming = await s.scalar(select(Push).where(Push.planned_at >= end, Push.state.in_(CANCELLABLE))
                                  .order_by(Push.planned_at).limit(1))
        waiting = list((await s.scalars(select(Push).where(
            Push.review == Review.SUBMITTED, Push.approved_by.is_(None), Push.state.in_(CANCELLABLE))
            .order_by(Push.planned_at).limit(20))).all())
        stuck = list((await s.scalars(select(Push).where(Push.state.in_(SENDING),
                                                         Push.updated_at < now - STUCK_AFTER).limit(50))).all())
    attention, _ = await notify.open_items(svc)
    inbox = [(p, _next_step(p)) for p, _notes in attention] + [(p, _next_step(p)) for p in stuck]
    shown = [*today, *waiting, *(p for p, _ in inbox), *([upcoming] if upcoming else [])]
    sizes, titles = await pushinfo.card_of(svc, [p.id for p in shown])
    return await render(
        request, "dashboard.html", today=today, upcoming=upcoming, waiting=waiting, inbox=inbox, titles=titles,
        sizes=sizes,
        kind=texts.KIND, status_of=lambda p: report.status(p, settings), quota=await pushinfo.broadcast_quota(svc, now),
        health=await _health(request), counts=await pushinfo.counts(svc), webhook=await webhook_summary(svc),
    )
