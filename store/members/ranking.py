"""The federation's ranking of its member units (its 动态激励排序法), on any day:

1. the evaluation grade, if still valid that day (5A highest; an expired grade counts as none);
2. then the number of evaluations taken: the registry's 参评次数 where the file gives it, else one for
   a unit with an evaluation year on file and none for a unit never evaluated;
3. then the year of the latest evaluation, the more recent first;
4. ties by name, in character (code point) order on SQLite and PostgreSQL alike.

Every unit has its own place (1, 2, 3 …): no two units share one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Subquery, and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.members.status import first_valid_grade_year
from store.members.table import GRADES


@dataclass(frozen=True)
class Ranked:
    place: int
    member_id: int
    name: str
    grade: str | None  # the grade valid on the day; None when there is none or it expired
    evaluations: int
    latest_year: int | None


def _keys(units: Subquery, day: date, dialect: str) -> tuple[ColumnElement, ...]:
    """(grade rank, evaluations, latest year, name): the ranking's keys, compared in that order."""
    u = units.c
    valid = and_(u.grade.is_not(None), u.grade_year >= first_valid_grade_year(day))
    rank = case(
        *((and_(valid, u.grade == g), literal(len(GRADES) - n)) for n, g in enumerate(GRADES)), else_=0
    )
    evaluations = func.coalesce(u.evaluations, case((u.grade_year.is_not(None), 1), else_=0))
    latest = func.coalesce(u.grade_year, 0)
    name = u.name.collate("C") if dialect == "postgresql" else u.name
    return rank, evaluations, latest, name


def _ahead(
    keys: Sequence[ColumnElement], mine: Sequence[Any], descending: Sequence[bool]
) -> ColumnElement[bool]:
    """Rows that sort before `mine`, lexicographically over `keys`."""
    key, value, down = keys[0], mine[0], descending[0]
    before = key > value if down else key < value
    if len(keys) == 1:
        return before
    return or_(before, and_(key == value, _ahead(keys[1:], mine[1:], descending[1:])))


def _grade(rank: int) -> str | None:
    return GRADES[len(GRADES) - rank] if rank else None


async def top(session: AsyncSession, units: Subquery, day: date, limit: int | None) -> list[Ranked]:
    """The first `limit` units of the ranking on `day` (all of them with None)."""
    rank, evaluations, latest, name = _keys(units, day, session.bind.dialect.name)
    query = (
        select(units.c.id, units.c.name, rank, evaluations, units.c.grade_year)
        .order_by(rank.desc(), evaluations.desc(), latest.desc(), name, units.c.id)
        .limit(limit)
    )
    rows = await session.execute(query)
    return [Ranked(n, i, nm, _grade(r), e, y) for n, (i, nm, r, e, y) in enumerate(rows, start=1)]


async def place_of(session: AsyncSession, units: Subquery, day: date, member_id: int) -> int | None:
    """The unit's place in the ranking on `day`; None when it was not a member unit then."""
    keys = (*_keys(units, day, session.bind.dialect.name), units.c.id)
    mine = (await session.execute(select(*keys).where(units.c.id == member_id))).first()
    if mine is None:
        return None
    ahead = _ahead(keys, tuple(mine), (True, True, True, False, False))
    return (await session.scalar(select(func.count()).select_from(units).where(ahead)) or 0) + 1
