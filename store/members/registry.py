"""Reading the registry for editors: the units, one unit's change history, and the export table (the
import's own format, so an export imports back unchanged)."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.db import SessionFactory
from store.members.table import FIELDS, HEADERS
from store.models.members import Member, MemberHistory


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
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        for row in rows:
            wb.active.append(row)
        wb.save(path)
    else:
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            csv.writer(f).writerows(rows)
