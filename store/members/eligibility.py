"""Who is eligible for evaluation (符合参评条件) on a given day, for the registry's figures. In order:

1. the registry file's 参评资格 column, where it has one for the unit: 是 or 否, as stated;
2. else two full years since registration (the registry's 登记日期): registered on or before the same
   date two years earlier (registered 2022-03-14 → eligible from 2024-03-14; registered on 29 February
   → from 1 March two years on);
3. else, with no registration date on file, a unit that has been evaluated (it has an evaluation year)
   met the conditions then;
4. otherwise the registry cannot say: not counted as eligible, and counted as unknown.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, Subquery, case, literal

FULL_YEARS = 2
STATED_YES, STATED_NO = "stated_yes", "stated_no"
REGISTERED, TOO_RECENT = "registered", "too_recent"
EVALUATED, UNKNOWN = "evaluated", "unknown"
CLASSES = (STATED_YES, STATED_NO, REGISTERED, TOO_RECENT, EVALUATED, UNKNOWN)
ELIGIBLE = frozenset((STATED_YES, REGISTERED, EVALUATED))


def registered_by(day: date) -> date:
    """The latest registration date that makes a unit eligible on `day` (two full years before)."""
    try:
        return day.replace(year=day.year - FULL_YEARS)
    except ValueError:  # `day` is 29 February: two years before it, 28 February is the same date
        return day.replace(year=day.year - FULL_YEARS, day=28)


def eligibility_class(units: Subquery, day: date) -> ColumnElement[str]:
    """Which rule decides a unit's eligibility on `day`, and how (one of CLASSES), over the columns
    of `units` (store/members/asof.py)."""
    u = units.c
    return case(
        (u.eligible.is_(True), literal(STATED_YES)),
        (u.eligible.is_(False), literal(STATED_NO)),
        (u.registered_on <= registered_by(day), literal(REGISTERED)),
        (u.registered_on.is_not(None), literal(TOO_RECENT)),
        (u.grade_year.is_not(None), literal(EVALUATED)),
        else_=literal(UNKNOWN),
    )
