"""When pushes go out: the weekly slots of `[scheduler] slots` in `[scheduler] timezone`, the next free
slot (one push per slot, pins respected, the broadcast quota of the account type), and the time zone
every time is given and shown in.

Broadcast quotas (群发接口和原创校验,
https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html):
a subscription account can broadcast once a day, a service account 4 times a calendar month. Days and months are counted in the scheduler's time zone, which for a Chinese
account is WeChat's own (Asia/Shanghai).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.config import Settings
from scheduler import texts
from store.models.pushes import Push

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Pushes in these states no longer occupy a slot or count against a quota.
FREED = ("cancelled", "failed", "withdrawn")
SERVICE_MONTHLY_BROADCASTS = 4
HORIZON_DAYS = 400


class PlanningError(ValueError):
    """A time that cannot be used; the message says why, for the editor."""


def zone(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.scheduler.timezone)


def zone_label(settings: Settings) -> str:
    """How the zone is named next to a time: 北京时间 for China's zone, else its IANA name."""
    name = settings.scheduler.timezone
    return texts.ZONE_NAMES.get(name, f"{name} 时间")


def show(dt: datetime | None, settings: Settings, *, label: bool = True) -> str:
    """A stored (UTC) time as editors read it: in the scheduler's zone, labelled with it (unless a
    heading labels a whole table)."""
    if dt is None:
        return "-"
    local = dt.astimezone(zone(settings)).strftime("%Y-%m-%d %H:%M")
    return f"{local}（{zone_label(settings)}）" if label else local


def parse_local(text: str, settings: Settings) -> datetime:
    """"2026-12-01 20:00" in the scheduler's zone → an aware datetime."""
    text = text.strip().replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=zone(settings))
        except ValueError:
            continue
    raise PlanningError(texts.ERR_TIME_FORMAT.format(text=text, zone=zone_label(settings)))


def _slot_clock_times(settings: Settings) -> dict[int, list[time]]:
    out: dict[int, list[time]] = {}
    for day, values in settings.scheduler.slots.items():
        key = day.strip().lower()[:3]
        if key not in WEEKDAYS:
            raise PlanningError(texts.ERR_SLOT_DAY.format(day=day))
        try:
            out[WEEKDAYS.index(key)] = sorted(time.fromisoformat(v) for v in values)
        except ValueError:
            raise PlanningError(texts.ERR_SLOT_TIME.format(day=day, values=values)) from None
    return out


def slots_after(settings: Settings, after: datetime, days: int = HORIZON_DAYS) -> Iterator[datetime]:
    """Every configured slot strictly after `after`, in order, as aware local datetimes."""
    tz = zone(settings)
    per_day = _slot_clock_times(settings)
    start = after.astimezone(tz).date()
    for n in range(days + 1):
        d = start + timedelta(days=n)
        for t in per_day.get(d.weekday(), []):
            at = datetime.combine(d, t, tzinfo=tz)
            if at > after:
                yield at


def local_day(dt: datetime, settings: Settings) -> date:
    return dt.astimezone(zone(settings)).date()


def next_day_start(dt: datetime, settings: Settings) -> datetime:
    d = local_day(dt, settings) + timedelta(days=1)
    return datetime.combine(d, time(0), tzinfo=zone(settings))


def next_month_start(dt: datetime, settings: Settings) -> datetime:
    d = local_day(dt, settings)
    first = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return datetime.combine(first, time(0), tzinfo=zone(settings))


def quota_reset(settings: Settings, kind: str, code: int | None, now: datetime) -> datetime:
    """When an API quota WeChat said is used up is available again: the daily API quota (45009) and
    a subscription account's broadcast (45028) at the next local midnight, a service account's
    monthly broadcasts at the start of the next month."""
    if code == 45028 and kind == "broadcast" and settings.wechat.account_type == "service":
        return next_month_start(now, settings)
    return next_day_start(now, settings)


async def _occupied(session: AsyncSession, since: datetime, exclude_id: int | None) -> list[Push]:
    q = select(Push).where(Push.state.not_in(FREED), Push.planned_at >= since)
    if exclude_id is not None:
        q = q.where(Push.id != exclude_id)
    return list((await session.scalars(q)).all())


def broadcast_allowed(settings: Settings, at: datetime, others: list[Push]) -> bool:
    """Whether one more broadcast at `at` stays within the account type's quota."""
    broadcasts = [p for p in others if p.kind == "broadcast"]
    if settings.wechat.account_type == "service":
        month = local_day(at, settings).replace(day=1)
        used = sum(1 for p in broadcasts if local_day(p.planned_at, settings).replace(day=1) == month)
        return used < SERVICE_MONTHLY_BROADCASTS
    day = local_day(at, settings)
    return not any(local_day(p.planned_at, settings) == day for p in broadcasts)


async def next_free_slot(
    session: AsyncSession,
    settings: Settings,
    *,
    kind: str,
    after: datetime,
    exclude_id: int | None = None,
) -> datetime:
    """The first configured slot after `after` that holds no other push and, for a broadcast, keeps
    the account within its broadcast quota. Raises PlanningError when there is none."""
    if not settings.scheduler.slots:
        raise PlanningError(texts.ERR_NO_SLOTS)
    # A month back covers the service account's calendar-month quota.
    others = await _occupied(session, after - timedelta(days=32), exclude_id)
    taken = {p.planned_at for p in others}
    for at in slots_after(settings, after):
        if at in taken:
            continue
        if kind == "broadcast" and not broadcast_allowed(settings, at, others):
            continue
        return at
    raise PlanningError(texts.ERR_NO_FREE_SLOT.format(days=HORIZON_DAYS))


async def next_broadcast_time(session: AsyncSession, settings: Settings, *, after: datetime,
                              exclude_id: int | None = None) -> datetime:
    """The earliest moment after `after` a broadcast stays within the quota: the next free slot
    that does, or without slots the start of the next day (month) the quota allows."""
    if settings.scheduler.slots:
        return await next_free_slot(session, settings, kind="broadcast", after=after, exclude_id=exclude_id)
    others = await _occupied(session, after - timedelta(days=32), exclude_id)
    at = after
    for _ in range(HORIZON_DAYS):
        at = next_month_start(at, settings) if settings.wechat.account_type == "service" else next_day_start(at, settings)
        if broadcast_allowed(settings, at, others):
            return at
    raise PlanningError(texts.ERR_NO_FREE_SLOT.format(days=HORIZON_DAYS))


async def check_broadcast_quota(session: AsyncSession, settings: Settings, *, at: datetime,
                                exclude_id: int | None = None) -> None:
    """Refuse a broadcast at `at` beyond the account's quota, saying which push holds it and when
    the next broadcast is possible."""
    others = await _occupied(session, at - timedelta(days=32), exclude_id)
    if broadcast_allowed(settings, at, others):
        return
    service = settings.wechat.account_type == "service"
    rule = texts.QUOTA_SERVICE if service else texts.QUOTA_SUBSCRIPTION
    period = (lambda p: local_day(p.planned_at, settings).replace(day=1)) if service else (
        lambda p: local_day(p.planned_at, settings))
    mine = local_day(at, settings).replace(day=1) if service else local_day(at, settings)
    holders = sorted(p.id for p in others if p.kind == "broadcast" and period(p) == mine)
    nxt = await next_broadcast_time(session, settings, after=at, exclude_id=exclude_id)
    raise PlanningError(texts.ERR_QUOTA.format(
        at=show(at, settings), rule=rule, holders="、".join(f"#{i}" for i in holders),
        next=show(nxt, settings)))


async def check_time(
    session: AsyncSession,
    settings: Settings,
    *,
    kind: str,
    at: datetime,
    now: datetime,
    exclude_id: int | None = None,
) -> None:
    """An editor's pinned time: not in the past and, for a broadcast, within the quota."""
    if at <= now:
        raise PlanningError(texts.ERR_PAST.format(at=show(at, settings), now=show(now, settings)))
    if kind == "broadcast":
        await check_broadcast_quota(session, settings, at=at, exclude_id=exclude_id)
