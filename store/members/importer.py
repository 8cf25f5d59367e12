"""Importing the member registry: a checked table (store/members/table.py, read off the event loop)
written in one transaction. Every valid row is upserted by credit code, changed fields are kept as
history, and a row with any problem is reported with its line number and reason and writes nothing;
so is a row whose name an existing unit holds under another code (a mistyped code would otherwise
add a second unit of that name). Leaving is said explicitly (`retire`), never by a missing row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import metrics
from store.db import SessionFactory
from store.members import credit_code, texts
from store.members.index import bump_version, normalize
from store.members.table import MemberRow, Rejected, parse_file
from store.models.members import Member, MemberHistory


@dataclass
class Change:
    credit_code: str
    name: str
    fields: dict[str, tuple[object, object]]  # field → (old, new); empty for a new member


@dataclass
class ImportReport:
    path: str
    rows: int = 0
    added: list[Change] = field(default_factory=list)
    updated: list[Change] = field(default_factory=list)
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.rejected

    @property
    def likely_typos(self) -> list[Rejected]:
        """Rejected rows whose name an existing unit holds under another code."""
        return [r for r in self.rejected if r.other_code]

    def summary(self) -> str:
        return texts.import_summary(self)


# --- writing ---------------------------------------------------------------------------------------


def _shown(value: object) -> str | None:
    return None if value is None else value.isoformat() if isinstance(value, date) else str(value)


async def import_file(
    db: SessionFactory,
    path: str | Path,
    now: datetime,
    today: date,
    roles: Sequence[str],
    dry_run: bool = False,
) -> ImportReport:
    """Import `path` into the registry (all valid rows in one transaction); see the module docstring.
    `roles`: the federation's roles (`[members] roles`)."""
    metrics.IMPORT_RUNS.labels("members").inc()
    path = Path(path)
    rows_read, good, rejected = await asyncio.to_thread(parse_file, path, today, roles)
    report = ImportReport(path=str(path), rows=rows_read, rejected=rejected, dry_run=dry_run)
    await upsert(db, good, now, f"import {path.name}"[:300], report)
    return report


async def upsert(
    db: SessionFactory, rows: list[MemberRow], now: datetime, source: str, report: ImportReport
) -> None:
    """Add or update members by credit code in one transaction, keeping each changed field as history
    (`source` says what changed it); with `report.dry_run` nothing is written. A row that would give
    its name to a second unit is rejected (`_name_taken`)."""
    async with db() as session:
        taken = await _name_taken(session, rows)
        report.rejected = sorted(
            [*report.rejected, *(Rejected(r.line, *taken[r.line]) for r in rows if r.line in taken)],
            key=lambda r: r.line,
        )
        rows = [r for r in rows if r.line not in taken]
        codes = [row.credit_code for row in rows]
        existing: dict[str, Member] = {}
        for chunk in range(0, len(codes), 500):  # stay under the databases' bound-parameter limits
            found = await session.scalars(
                select(Member).where(Member.credit_code.in_(codes[chunk : chunk + 500]))
            )
            existing.update({m.credit_code: m for m in found})
        for row in rows:
            member = existing.get(row.credit_code)
            if member is None:
                report.added.append(Change(row.credit_code, row.name, {}))
                session.add(Member(**row.values(), created_at=now, updated_at=now))
                continue
            changes = {f: (getattr(member, f), v) for f, v in row.values().items() if getattr(member, f) != v}
            if member.retired:
                changes["retired"] = (True, False)  # back in a member list: a member again
                member.retired_at = None
            if not changes:
                report.unchanged += 1
                continue
            report.updated.append(Change(row.credit_code, row.name, changes))
            for f, (old, new) in changes.items():
                setattr(member, f, new)
                session.add(
                    MemberHistory(
                        member_id=member.id,
                        field=f,
                        old_value=_shown(old),
                        new_value=_shown(new),
                        changed_at=now,
                        source=source,
                    )
                )
            member.updated_at = now
        if report.dry_run or not (report.added or report.updated):
            await session.rollback()
        else:
            await bump_version(session, now)
            await session.commit()


async def _name_taken(session: AsyncSession, rows: list[MemberRow]) -> dict[int, tuple[str, str]]:
    """Line → (reason, the other code) for rows whose name is an active unit's under another code (not itself in the
    file, where it may be renamed): the code is likely mistyped, and adding the row would show
    followers two units of one name."""
    in_file = {row.credit_code for row in rows}
    owner: dict[str, str] = {}
    for name, code in await session.execute(select(Member.name, Member.credit_code).where(Member.retired.is_(False))):
        if code not in in_file:
            owner[normalize(name)] = code
    taken = {}
    for row in rows:
        other = owner.get(normalize(row.name))
        if other is not None and other != row.credit_code:
            taken[row.line] = (texts.name_taken(row.name, other), other)
    return taken


async def retire(db: SessionFactory, code: str, now: datetime) -> Member | None:
    """Mark a unit that left (units missing from an import are kept; leaving is said explicitly).
    Returns the member, or None when no unit has that code."""
    async with db() as session, session.begin():
        member = await session.scalar(select(Member).where(Member.credit_code == credit_code.normalize(code)))
        if member is None or member.retired:
            return member
        member.retired, member.retired_at, member.updated_at = True, now, now
        session.add(
            MemberHistory(
                member_id=member.id,
                field="retired",
                old_value="False",
                new_value="True",
                changed_at=now,
                source="retire",
            )
        )
        await bump_version(session, now)
    return member
