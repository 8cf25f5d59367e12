"""What a member's status means, and who may see which of it.

- An evaluation grade awarded in year Y is valid through 31 December of Y+5 (awarded 2019 → valid
  through 2024-12-31, expired from 1 January 2025); re-evaluation is applied for in its last year,
  so the next window is Y+5 (or this year, if late).
- Dues paid through year Y are overdue from Y+1.
- THE privacy rule (`visible_facts`): contact person and phone, dues, join date and history are shown
  only to a follower bound to that very member; everyone else gets the public facts.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

GRADE_VALID_YEARS = 5


def grade_valid_through(grade_year: int) -> int:
    return grade_year + GRADE_VALID_YEARS


def grade_expires_on(grade_year: int) -> date:
    """The last day the grade is valid."""
    return date(grade_valid_through(grade_year), 12, 31)


def first_valid_grade_year(today: date) -> int:
    """The oldest award year whose grade is still valid on `today` (for queries over many units)."""
    return today.year - GRADE_VALID_YEARS


def grade_is_valid(grade_year: int | None, today: date) -> bool:
    return grade_year is not None and grade_year >= first_valid_grade_year(today)


def next_evaluation_year(grade_year: int | None, today: date) -> int:
    """The year to apply for (re-)evaluation: the grade's last valid year, or now if that has passed."""
    if grade_year is None:
        return today.year
    return max(grade_valid_through(grade_year), today.year)


def dues_overdue(paid_through: int | None, today: date) -> bool:
    return paid_through is None or today.year > paid_through


@dataclass(frozen=True)
class HistoryItem:
    field: str
    old: str | None
    new: str | None
    when: date


@dataclass(frozen=True)
class PrivateFacts:
    joined_on: date | None
    dues_paid_through: int | None
    dues_overdue: bool
    next_evaluation_year: int
    contact_person: str
    contact_phone: str
    history: tuple[HistoryItem, ...]


@dataclass(frozen=True)
class MemberFacts:
    """What one follower may be told about one member unit."""

    id: int
    name: str
    credit_code: str
    kind: str
    role: str
    region: str
    is_member: bool
    grade: str | None
    grade_year: int | None
    grade_valid_through: int | None
    grade_valid: bool
    private: PrivateFacts | None  # None unless the follower is bound to this member


def may_see_private(member_id: int, bound_member_ids: Collection[int]) -> bool:
    return member_id in bound_member_ids


def visible_facts(
    member: Any,
    bound_member_ids: Collection[int],
    today: date,
    history: Sequence[HistoryItem] = (),
) -> MemberFacts:
    """The facts of `member` (a Member row or an index Entry) that a follower bound to
    `bound_member_ids` may see. Private fields are read only when the rule allows it."""
    private = None
    if may_see_private(member.id, bound_member_ids):
        private = PrivateFacts(
            joined_on=member.joined_on,
            dues_paid_through=member.dues_paid_through,
            dues_overdue=dues_overdue(member.dues_paid_through, today),
            next_evaluation_year=next_evaluation_year(member.grade_year, today),
            contact_person=member.contact_person,
            contact_phone=member.contact_phone,
            history=tuple(history),
        )
    graded = member.grade is not None and member.grade_year is not None
    return MemberFacts(
        id=member.id,
        name=member.name,
        credit_code=member.credit_code,
        kind=member.kind,
        role=member.role,
        region=member.region,
        is_member=not member.retired,
        grade=member.grade if graded else None,
        grade_year=member.grade_year if graded else None,
        grade_valid_through=grade_valid_through(member.grade_year) if graded else None,
        grade_valid=graded and grade_is_valid(member.grade_year, today),
        private=private,
    )


def local_today(now: datetime, timezone: str) -> date:
    """The calendar date where the federation is (years of dues and grades turn over there)."""
    return now.astimezone(ZoneInfo(timezone)).date()
