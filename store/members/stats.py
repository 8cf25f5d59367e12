"""The registry's figures on a given day: `registry_figures` is the one function the CLI (`main.py
members stats`), the follower reply (统计) and the console call.

On day D (the registry as it stood at the end of D, store/members/asof.py), over the member units then:
units by kind, role, region (city, then county) and grade; who is eligible for evaluation
(store/members/eligibility.py); how many eligible units hold a valid grade (a grade awarded in year Y
is valid through 31 December of Y+5: store/members/status.py, the rule 我的状态 shows); the share of
5A and 4A among them (the headline, in the federation's own sentence: stats_texts.headline); grades
expiring within N months of D (their last valid day falls between D and D + N months); and the
federation's ranking (store/members/ranking.py).

The figures change only when the registry does (its version, store/members/index.py) or the day
does, so with a `FiguresCache` (the services' one) they are computed once per (version, day,
options) for all processes (store/members/snapshots.py) and kept in memory after.
"""

from __future__ import annotations

import calendar
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select

from store.db import SessionFactory
from store.members import eligibility, ranking, regions, snapshots, stats_texts
from store.members.asof import units_as_of
from store.members.index import registry_version
from store.members.ranking import Ranked
from store.members.status import first_valid_grade_year, grade_expires_on
from store.members.table import GRADES, KINDS

DEFAULT_MONTHS = 12
PAGE_TOP = 20  # the ranking's places the console's page lists (its download holds them all)
DEFAULT_TOP = 10
NO_REGION = ""  # the label of units with no region on file (stats_texts names it)


@dataclass
class Tally:
    """The figures of one group of units (all of them, one kind, one role, one city or county)."""

    label: str
    units: int = 0
    eligible: int = 0
    graded: int = 0  # eligible and holding a valid grade
    grades: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GRADES, 0))  # valid grades
    expired: int = 0  # evaluated, but the grade is no longer valid
    ungraded: int = 0  # never evaluated
    expiring: int = 0  # a valid grade whose last day is within the months asked


@dataclass
class RegionTally(Tally):
    counties: list[Tally] = field(default_factory=list)  # "" = the city's (or province's) own level


@dataclass(frozen=True)
class Headline:
    """The numbers of the federation's sentence: of `eligible` units, `graded` hold a grade, of which
    `grade_5a` 5A and `grade_4a` 4A, `percent` of the graded (None when none is graded)."""

    eligible: int
    graded: int
    grade_5a: int
    grade_4a: int
    percent: int | None


@dataclass(frozen=True)
class Expiring:
    member_id: int
    name: str
    grade: str
    grade_year: int
    expires_on: date


@dataclass(frozen=True)
class RegistryFigures:
    on: date
    months: int
    total: Tally
    eligibility: dict[str, int]  # eligibility class (store/members/eligibility.py) → units
    by_kind: list[Tally]
    by_role: list[Tally]
    by_region: list[RegionTally]
    headline: Headline
    ranking: list[Ranked]
    expiring_units: list[Expiring] | None  # listed only when asked


def percent(part: int, whole: int) -> int | None:
    """A share as a whole percent, rounded half up (322 of 360 = 89.44… → 89; 1 of 8 = 12.5 → 13)."""
    return (200 * part + whole) // (2 * whole) if whole else None


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter: 31 Jan + 1 → 28/29 Feb)."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def day_asked(text: str | None, today: date) -> date:
    """The day a reader asks the figures of (YYYY-MM-DD; none: today), never after today (the history
    holds no future). ValueError with the reason in words (stats_texts)."""
    if text is None or not text.strip():
        return today
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(stats_texts.CLI_BAD_DAY.format(text=text)) from None
    if day > today:
        raise ValueError(stats_texts.CLI_FUTURE_DAY.format(day=day.isoformat()))
    return day


def expiring_years(day: date, months: int) -> list[int]:
    """The award years whose grade is valid on `day` and ends within `months` months of it."""
    until = add_months(day, months)
    return [y for y in range(first_valid_grade_year(day), day.year + 1) if grade_expires_on(y) <= until]


def _region(text: str) -> regions.Region:
    try:
        return regions.parse(text) or regions.Region(NO_REGION)
    except ValueError:  # stored before the importer checked regions: shown as written
        return regions.Region(text)


def _ordered(tallies: dict[str, Tally], order: Sequence[str]) -> list[Tally]:
    rank = {label: n for n, label in enumerate(order)}
    return sorted(tallies.values(), key=lambda t: (rank.get(t.label, len(rank)), t.label))


async def registry_figures(
    db: SessionFactory,
    on: date,
    *,
    timezone: str,
    roles: Sequence[str] = (),
    months: int = DEFAULT_MONTHS,
    top: int | None = DEFAULT_TOP,
    list_expiring: bool = False,
    cache: FiguresCache | None = None,
) -> RegistryFigures:
    """The registry's figures at the end of `on` (a day in `timezone`, the federation's); see the
    module docstring. `roles` orders the roles (`[members] roles`); `top` is how much of the
    ranking to list (None: all); `list_expiring` lists the units whose grade expires."""
    async with db() as session:
        key = (await registry_version(session), on, timezone, tuple(roles), months, top, list_expiring)
        if cache is not None and (hit := cache.get(key)) is not None:
            return hit
        if cache is not None and (stored := await snapshots.load(session, snapshots.key_of(key[0], key))):
            cache.put(key, stored)
            return stored
        units = await units_as_of(session, on, timezone)
        rows = await session.execute(_cube(units, on, months))
        figures = _tally(on, months, roles, rows.all())
        ranked = await ranking.top(session, units, on, top) if top != 0 else []
        listed = await _expiring_units(session, units, on, months) if list_expiring else None
    figures = RegistryFigures(**{**figures, "ranking": ranked, "expiring_units": listed})
    if cache is not None:
        async with db.begin() as session:
            await snapshots.save(session, snapshots.key_of(key[0], key), key[0], figures, datetime.now(UTC))
        cache.put(key, figures)
    return figures


async def figures_for_new_registry(
    db: SessionFactory, today: date, *, timezone: str, roles: Sequence[str], cache: FiguresCache
) -> None:
    """After an import (either face): today's figures as followers (统计) and the console's 会员统计
    page ask for them, computed once and stored for every process, so no reader pays for them."""
    await public_figures(db, today, timezone=timezone, roles=roles, cache=cache)
    await registry_figures(db, today, timezone=timezone, roles=roles, months=DEFAULT_MONTHS, top=PAGE_TOP,
                           list_expiring=True, cache=cache)


async def public_figures(
    db: SessionFactory, on: date, *, timezone: str, roles: Sequence[str], cache: FiguresCache
) -> RegistryFigures:
    """The figures followers see (统计): no ranking, which names units. `members import` computes them
    right after an import, so that no follower's request pays for computing them afresh."""
    return await registry_figures(db, on, timezone=timezone, roles=roles, top=0, cache=cache)


COUNTS = ("units", "eligible", "graded", *GRADES, "expired", "ungraded", "expiring")  # a Tally's numbers
_AT = {name: i for i, name in enumerate(COUNTS)}
HEADS = ("5A", "4A")  # the headline's grades, counted among the graded


def _cube(units, on: date, months: int):
    """The units grouped by (kind, role, region), each group with COUNTS, then the graded of HEADS, then
    the units of each eligibility class: one pass of SQL sums (a large registry has few such groups)."""
    u = units.c
    klass = eligibility.eligibility_class(units, on)
    eligible = klass.in_(sorted(eligibility.ELIGIBLE))
    valid = and_(u.grade.is_not(None), u.grade_year >= first_valid_grade_year(on))

    def count(*when) -> ColumnElement:
        return func.coalesce(func.sum(case((and_(*when), 1), else_=0)), 0)

    soon = expiring_years(on, months)
    sums = {
        "units": func.count(), "eligible": count(eligible), "graded": count(valid, eligible),
        **{g: count(valid, u.grade == g) for g in GRADES},
        "expired": func.coalesce(func.sum(case((valid, 0), (u.grade_year.is_not(None), 1), else_=0)), 0),
        "ungraded": func.coalesce(func.sum(case((valid, 0), (u.grade_year.is_(None), 1), else_=0)), 0),
        "expiring": count(valid, u.grade_year.in_(soon)) if soon else literal(0),
    }  # fmt: skip
    region = func.coalesce(u.region, "")
    return select(
        u.kind, u.role, region, *(sums[c] for c in COUNTS),
        *(count(valid, eligible, u.grade == g) for g in HEADS),
        *(count(klass == c) for c in eligibility.CLASSES),
    ).group_by(u.kind, u.role, region)


def _as_tally(label: str, numbers: list[int], cls: type[Tally] = Tally) -> Tally:
    grades = dict(zip(GRADES, numbers[_AT[GRADES[0]] : _AT[GRADES[-1]] + 1], strict=True))
    return cls(label, **{c: numbers[_AT[c]] for c in COUNTS if c not in grades}, grades=grades)


def _add(into: list[int], numbers) -> None:
    for i, x in enumerate(numbers):
        into[i] += x


def _tally(on: date, months: int, roles: Sequence[str], cube: list) -> dict[str, Any]:
    """Add up the grouped rows (kind, role, region, COUNTS…, HEADS…, classes…: _cube)."""
    width = len(COUNTS)
    classes = dict.fromkeys(eligibility.CLASSES, 0)
    by: tuple[dict[str, list[int]], ...] = ({}, {}, {})  # kind, role, region (as written)
    heads = dict.fromkeys(HEADS, 0)
    for kind, role, region, *numbers in cube:
        counts = numbers[:width]
        for h, n in zip(HEADS, numbers[width : width + len(HEADS)], strict=True):
            heads[h] += n
        for c, n in zip(eligibility.CLASSES, numbers[width + len(HEADS) :], strict=True):
            classes[c] += n
        for groups, key in zip(by, (kind, role, region or ""), strict=True):
            _add(groups.get(key) or groups.setdefault(key, [0] * width), counts)
    total = [sum(v[i] for v in by[0].values()) for i in range(width)]
    cities: dict[str, list[int]] = {}
    counties: dict[tuple[str, str], list[int]] = {}
    for region, numbers in by[2].items():
        place = _region(region)
        _add(cities.setdefault(place.city, [0] * width), numbers)
        _add(counties.setdefault((place.city, place.county), [0] * width), numbers)
    by_region = {city: _as_tally(city, numbers, RegionTally) for city, numbers in cities.items()}
    for (city, county), numbers in sorted(counties.items(), key=lambda kv: (-kv[1][0], kv[0])):
        by_region[city].counties.append(_as_tally(county, numbers))
    graded = total[_AT["graded"]]
    return {
        "on": on,
        "months": months,
        "total": _as_tally("", total),
        "eligibility": classes,
        "by_kind": _ordered({k: _as_tally(k, v) for k, v in by[0].items()}, KINDS),
        "by_role": _ordered({r: _as_tally(r, v) for r, v in by[1].items()}, roles),
        "by_region": sorted(by_region.values(), key=lambda t: (t.label == NO_REGION, -t.units, t.label)),
        "headline": Headline(
            total[_AT["eligible"]],
            graded,
            heads["5A"],
            heads["4A"],
            percent(heads["5A"] + heads["4A"], graded),
        ),
    }


async def _expiring_units(session, units, on: date, months: int) -> list[Expiring]:
    u = units.c
    years = expiring_years(on, months)
    rows = await session.execute(
        select(u.id, u.name, u.grade, u.grade_year)
        .where(u.grade.is_not(None), u.grade_year.in_(years))
        .order_by(u.grade_year, u.name, u.id)
    )
    return [Expiring(i, name, grade, year, grade_expires_on(year)) for i, name, grade, year in rows]


async def place_in_ranking(
    db: SessionFactory, member_id: int, on: date, timezone: str
) -> tuple[int, int] | None:
    """(the unit's place in the ranking at the end of `on`, units ranked); None when it was not a
    member unit then."""
    async with db() as session:
        units = await units_as_of(session, on, timezone)
        place = await ranking.place_of(session, units, on, member_id)
        if place is None:
            return None
        return place, await session.scalar(select(func.count()).select_from(units)) or 0


class FiguresCache:
    """The last figures computed, by registry version, day and options (one per process)."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._items: OrderedDict[tuple, RegistryFigures] = OrderedDict()

    def get(self, key: tuple) -> RegistryFigures | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: tuple, figures: RegistryFigures) -> None:
        self._items[key] = figures
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)
