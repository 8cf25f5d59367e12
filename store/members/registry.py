"""Reading the registry for editors: the units, one unit's page (its facts, change history, bound
followers and binding log), and the export table (the import's own format, so an export imports
back unchanged)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.db import SessionFactory
from store.members.table import FIELDS, HEADERS
from store.models.members import Binding, BindingEvent, Member, MemberHistory

GRADE_FIELDS = ("grade", "grade_year")


@dataclass(frozen=True)
class MemberPage:
    """One unit as an editor sees it: every field, every change (oldest first), the followers bound
    now and the binding log (bind, unbind, revoke, unsubscribe; oldest first)."""

    member: Member
    history: list[MemberHistory]
    bound: list[Binding]
    events: list[BindingEvent]

    @property
    def grade_history(self) -> list[MemberHistory]:
        return [h for h in self.history if h.field in GRADE_FIELDS]

    def facts(self) -> list[tuple[str, object]]:
        """(field, value) in the import's column order."""
        return [(f, getattr(self.member, f)) for f in FIELDS]


async def list_units(db: SessionFactory, include_retired: bool = True) -> list[Member]:
    """Every unit by name (those that left only with `include_retired`)."""
    async with db() as session:
        query = select(Member).order_by(Member.name)
        if not include_retired:
            query = query.where(Member.retired.is_(False))
        return list(await session.scalars(query))


async def recent_history(session: AsyncSession, member_id: int, n: int) -> list[MemberHistory]:
    """The unit's last `n` changed fields, newest first (what a bound follower is shown)."""
    query = (select(MemberHistory).where(MemberHistory.member_id == member_id)
             .order_by(MemberHistory.changed_at.desc(), MemberHistory.id.desc()).limit(n))
    return list(await session.scalars(query))


async def history_of(db: SessionFactory, member_id: int) -> list[MemberHistory]:
    """The unit's changed fields, oldest first."""
    async with db() as session:
        query = select(MemberHistory).where(MemberHistory.member_id == member_id).order_by(MemberHistory.id)
        return list(await session.scalars(query))


async def member_page(db: SessionFactory, member_id: int) -> MemberPage | None:
    async with db() as session:
        member = await session.get(Member, member_id)
        if member is None:
            return None
        history = await session.scalars(
            select(MemberHistory).where(MemberHistory.member_id == member_id).order_by(MemberHistory.id))
        bound = await session.scalars(
            select(Binding).where(Binding.member_id == member_id, Binding.revoked_at.is_(None)).order_by(Binding.id))
        events = await session.scalars(
            select(BindingEvent).where(BindingEvent.member_id == member_id).order_by(BindingEvent.id))
        return MemberPage(member, list(history), list(bound), list(events))


def export_table(members: list[Member]) -> list[list[str]]:
    """The header and one row per unit, as `members import` reads them."""
    rows = [[HEADERS[f][0] for f in FIELDS]]
    for m in members:
        rows.append([cell_text(getattr(m, f)) for f in FIELDS])
    return rows


def cell_text(value: object) -> str:
    """A value as the export (and `members show`) writes it."""
    if isinstance(value, bool):
        return "是" if value else "否"  # 参评资格, as the import reads it
    return "" if value is None else str(value)


def write_table(path: Path, rows: list[list]) -> None:
    """.xlsx by its suffix, else CSV in UTF-8 with a BOM (so Excel opens it as UTF-8). Blocking."""
    path.write_bytes(table_bytes(rows, xlsx=path.suffix.lower() == ".xlsx"))


def table_bytes(rows: list[list], xlsx: bool = True) -> bytes:
    """The table as an .xlsx file, or as CSV in UTF-8 with a BOM (a download). Blocking."""
    out = io.BytesIO()
    if xlsx:
        from openpyxl import Workbook

        wb = Workbook()
        for row in rows:
            wb.active.append(row)
        wb.save(out)
        return out.getvalue()
    text = io.StringIO(newline="")
    csv.writer(text).writerows(rows)
    return text.getvalue().encode("utf-8-sig")
