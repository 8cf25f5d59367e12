"""日历: pushes by month, week or as a list, in the configured time zone (named on the page), with
the weekly send slots of `[scheduler] slots` and the broadcast quota per day (subscription) or
month (service). Weeks start on Monday, times are 24-hour. On a phone the month shows as a list."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from console import pushinfo
from console.web import page, render, services
from scheduler import planning, texts
from scheduler.states import S
from store.models.pushes import Push

VIEWS = {"month": "月", "week": "周", "list": "列表"}
WEEKDAY_NAMES = ["一", "二", "三", "四", "五", "六", "日"]
LIST_DAYS = 31


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return date(d.year + m // 12, m % 12 + 1, 1)


@page("/calendar", role="editor", name="calendar")
async def calendar(request: web.Request) -> web.Response:
    svc = services(request)
    settings = svc.settings
    zone = planning.zone(settings)
    view = request.query.get("view", "month")
    if view not in VIEWS:
        view = "month"
    today = planning.local_day(svc.clock.now(), settings)
    try:
        focus = date.fromisoformat(request.query["date"]) if request.query.get("date") else today
    except ValueError:
        focus = today
    if view == "month":
        first = _month_start(focus)
        start = first - timedelta(days=first.weekday())
        end_month = _add_months(first, 1)
        end = end_month + timedelta(days=(7 - end_month.weekday()) % 7)
        prev, nxt = _add_months(first, -1), end_month
    elif view == "week":
        start = focus - timedelta(days=focus.weekday())
        end = start + timedelta(days=7)
        prev, nxt = start - timedelta(days=7), end
    else:
        start, end = focus, focus + timedelta(days=LIST_DAYS)
        prev, nxt = focus - timedelta(days=LIST_DAYS), end
    lo = datetime.combine(start, time(0), tzinfo=zone)
    hi = datetime.combine(end, time(0), tzinfo=zone)
    async with svc.db() as s:
        pushes = list((await s.scalars(select(Push).where(Push.planned_at >= lo, Push.planned_at < hi,
                                                          Push.state != S.CANCELLED)
                                       .options(selectinload(Push.articles)).order_by(Push.planned_at))).all())
    titles = await pushinfo.titles(svc, pushes)
    by_day: dict[date, list[Push]] = {}
    for p in pushes:
        by_day.setdefault(planning.local_day(p.planned_at, settings), []).append(p)
    slots = planning._slot_clock_times(settings)
    service = settings.wechat.account_type == "service"
    days = []
    d = start
    while d < end:
        mine = by_day.get(d, [])
        taken = {p.planned_at.astimezone(zone).time().replace(second=0, microsecond=0) for p in mine}
        broadcasts = sum(1 for p in mine if p.kind == "broadcast" and p.state not in planning.FREED)
        days.append({
            "date": d, "weekday": WEEKDAY_NAMES[d.weekday()], "pushes": mine, "in_month": view != "month" or d.month == focus.month,
            "free_slots": [t.strftime("%H:%M") for t in slots.get(d.weekday(), []) if t not in taken],
            "quota": None if service else (1 - broadcasts), "today": d == today,
        })
        d += timedelta(days=1)
    month_quota = await pushinfo.broadcast_quota(svc, datetime.combine(focus, time(12), tzinfo=zone)) if service else None
    weeks = [days[i:i + 7] for i in range(0, len(days), 7)]
    return await render(
        request, "calendar.html", view=view, views=VIEWS, focus=focus, prev=prev, nxt=nxt, weeks=weeks, days=days,
        weekday_names=WEEKDAY_NAMES, titles=titles, kind=texts.KIND, tab_of=pushinfo.tab_of,
        tab_names=pushinfo.TAB_NAMES, month_quota=month_quota, zone_label=planning.zone_label(settings),
        local_time=lambda dt: dt.astimezone(zone).strftime("%H:%M"), list_days=LIST_DAYS,
    )
