"""工作台: what needs an editor now. Pushes due today and the next one; pushes waiting for approval;
the failure inbox (failed, missed or stuck pushes, WeChat's code in plain words with the next step,
retry and acknowledge); the broadcasts left today / this month for the account type; and what the
product records about its health (the scheduler's last run, the access token's age)."""

from __future__ import annotations

import json
from datetime import timedelta

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from console import pushinfo
from console.web import page, render, services
from scheduler import notify, planning, report, texts
from scheduler.states import CANCELLABLE, Review, S
from store.models.pushes import Push

# Stuck: still handed to WeChat with no outcome after this long.
STUCK_AFTER = timedelta(hours=1)


def _next_step(push: Push) -> tuple[str, str]:
    """(what happened, what to do) in words, from WeChat's errcode when there is one."""
    if push.state == S.OVERDUE:
        return "错过了发送时间，没有发送", "可以“立即发送”，或修改时间"
    if push.error_code in texts.ERRCODES:
        return texts.ERRCODES[push.error_code]
    if push.state in (S.SUBMITTING, S.SUBMITTED, S.CONFIRMING):
        return "已交给微信很久了，还没有结果", "系统仍在核对；请到公众平台“发表记录”或“群发”里看一下"
    return push.error_reason or "没有发出去", "看看时间线里的原因，改正后重试"


async def _health(request: web.Request) -> list[tuple[str, str, str]]:
    svc = services(request)
    now = svc.clock.time()
    out = []
    beat = await svc.shared.get(report.HEARTBEAT_KEY)
    if not svc.settings.scheduler.enabled:
        out.append(("bad", "推送调度", "本进程没有开启调度（[scheduler] enabled = false）"))
    elif beat is None:
        out.append(("warn", "推送调度", "还没有运行记录"))
    else:
        ago = now - float(beat)
        level = "ok" if ago < max(60, svc.settings.scheduler.tick_seconds * 6) else "bad"
        out.append((level, "推送调度", f"上次运行在 {int(ago)} 秒前"))
    # Only the expiry is read from the cached token; the token itself is never shown or logged.
    raw = await svc.shared.get(f"wechat:token:{svc.settings.wechat.account_key}")
    if raw is None:
        out.append(("warn", "接口凭证", "目前没有缓存的凭证（下次调用接口时获取）"))
    else:
        left = float(json.loads(raw).get("expires_at", now)) - now
        out.append(("ok" if left > 300 else "warn", "接口凭证", f"还有 {int(left // 60)} 分钟到期（系统会提前自动更换）"))
    return out


@page("/", role="editor", name="dashboard")
async def dashboard(request: web.Request) -> web.Response:
    svc = services(request)
    settings = svc.settings
    now = svc.clock.now()
    start = planning.next_day_start(now, settings) - timedelta(days=1)
    end = start + timedelta(days=1)
    async with svc.db() as s:
        opts = selectinload(Push.articles)
        today = (await s.scalars(select(Push).where(Push.planned_at >= start, Push.planned_at < end,
                                                    Push.state.not_in((S.CANCELLED,))).options(opts)
                                 .order_by(Push.planned_at))).all()
        upcoming = await s.scalar(select(Push).where(Push.planned_at >= end, Push.state.in_(CANCELLABLE))
                                  .options(opts).order_by(Push.planned_at).limit(1))
        waiting = (await s.scalars(select(Push).where(Push.review == Review.SUBMITTED, Push.state.in_(CANCELLABLE),
                                                      Push.approved_by.is_(None)).options(opts)
                                   .order_by(Push.planned_at).limit(20))).all()
        stuck = (await s.scalars(select(Push).where(Push.state.in_((S.SUBMITTING, S.SUBMITTED, S.CONFIRMING)),
                                                    Push.updated_at < now - STUCK_AFTER).options(opts))).all()
    attention, _ = await notify.open_items(svc)
    inbox = [(p, _next_step(p)) for p, _notes in attention] + [(p, _next_step(p)) for p in stuck]
    ids = [p.id for p in [*today, *waiting, *(p for p, _ in inbox)] + ([upcoming] if upcoming else [])]
    titles = {}
    async with svc.db() as s:
        pushes = (await s.scalars(select(Push).where(Push.id.in_(ids)).options(selectinload(Push.articles)))).all()
    titles = await pushinfo.titles(svc, list(pushes))
    return await render(
        request, "dashboard.html", today=today, upcoming=upcoming, waiting=waiting, inbox=inbox, titles=titles,
        kind=texts.KIND, status_of=lambda p: report.status(p, settings), quota=await pushinfo.broadcast_quota(svc, now),
        health=await _health(request), counts=await pushinfo.counts(svc),
    )
