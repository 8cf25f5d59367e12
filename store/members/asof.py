"""The registry as it stood at the end of a given day, rebuilt from the change history.

Every change an import or `retire` makes is kept in `member_history` (field, old value, new value,
when). A unit's value of a field on day D is therefore its value now, unless that field changed
after D: then it is the old value of the first change after D. Units added after D did not exist
yet. The result is one SQL selectable with the members' own column names (`units_as_of`), so the
figures (store/members/stats.py) and the ranking (store/members/ranking.py) read the past exactly
as they read the present. "The end of D" is local midnight in the federation's time zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    Date,
    Integer,
    Subquery,
    case,
    cast,
    exists,
    false,
    func,
    null,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncSession

from store.models.members import Member, MemberHistory

# The columns the figures read; history keeps them as text (store/members/importer.py `_shown`).
TEXT = ("name", "kind", "role", "region", "grade")
INTEGER = ("grade_year", "evaluations")
DATES = ("registered_on",)
FLAGS = ("eligible", "retired")
COLUMNS = TEXT + INTEGER + DATES + FLAGS


def end_of(day: date, timezone: str) -> datetime:
    """The instant day `day` ends where the federation is (local midnight after it), in UTC."""
    return datetime.combine(day + timedelta(days=1), time(), ZoneInfo(timezone)).astimezone(UTC)


def _typed(text, column: str, dialect: str):
    """A history value (text) as the column's type."""
    if column in INTEGER:
        return cast(text, Integer)
    if column in DATES:
        # SQLite keeps dates as ISO text already, which CAST would turn into a number.
        return type_coerce(text, Date) if dialect == "sqlite" else cast(text, Date)
    if column in FLAGS:
        return type_coerce(case((text == "True", true()), (text == "False", false()), else_=null()), Boolean)
    return text


async def changed_since(session: AsyncSession, end: datetime) -> bool:
    """Whether anything in the registry changed at or after `end` (else the present is the past)."""
    later = or_(
        exists().where(MemberHistory.changed_at >= end),
        exists().where(Member.created_at >= end),
    )
    return bool(await session.scalar(select(later)))


async def units_as_of(session: AsyncSession, day: date, timezone: str) -> Subquery:
    """The member units (not retired) at the end of `day`, with their values then: a subquery with
    `id` and COLUMNS."""
    end = end_of(day, timezone)
    if not await changed_since(session, end):
        present = [Member.id, *(getattr(Member, c) for c in COLUMNS)]
        return select(*present).where(Member.retired.is_(False)).subquery("units")
    dialect = session.bind.dialect.name
    h = MemberHistory
    # The first change of each (unit, field) after the day ends: its old value is the value then.
    # History rows are written in time order, so the smallest id is the first change.
    firsts = (
        select(func.min(h.id).label("id"))
        .where(h.changed_at >= end, h.field.in_(COLUMNS))
        .group_by(h.member_id, h.field)
        .subquery("firsts")
    )
    old = select(h.member_id, h.field, h.old_value).join(firsts, firsts.c.id == h.id).subquery("old")
    pivot = (
        select(
            old.c.member_id,
            *(func.max(case((old.c.field == c, 1))).label(f"has_{c}") for c in COLUMNS),
            *(func.max(case((old.c.field == c, old.c.old_value))).label(f"old_{c}") for c in COLUMNS),
        )
        .group_by(old.c.member_id)
        .subquery("pivot")
    )
    values = [
        case(
            (pivot.c[f"has_{c}"] == 1, _typed(pivot.c[f"old_{c}"], c, dialect)), else_=getattr(Member, c)
        ).label(c)
        for c in COLUMNS
    ]
    then = (
        select(Member.id, *values)
        .outerjoin(pivot, pivot.c.member_id == Member.id)
        .where(Member.created_at < end)
        .subquery("then")
    )
    return select(then).where(then.c.retired.is_(False)).subquery("units")
