"""Which unit an editor means: a credit code, a full or short name, pinyin initials or a name with a
typo, read with the same index followers' lookups use (store/members/index.py), left units included.

Only a sure match (the code, the full name, a short name that fits one unit) is taken as it is; a
guess (initials, part of a name, one character off) or several units are candidates for the editor
to choose from, since the commands that take a unit change things (retire, bind codes, unbinding).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from store.db import SessionFactory
from store.members import credit_code
from store.members.index import Entry, MemberIndex, MemberLookup, load_entries
from store.models.members import Binding, Member

SURE = ("code", "name", "alias")
ENTRY_COLUMNS = (Member.id, Member.name, Member.credit_code, Member.kind, Member.role, Member.grade,
                 Member.grade_year, Member.region, Member.retired)  # an Entry's fields, in order


@dataclass(frozen=True)
class Found:
    """The unit (`member`), or `candidates` to choose from, or neither (then `suggestions`, and
    `bad_code` when the text was a credit code with a wrong check character)."""

    member: Member | None = None
    candidates: tuple[Entry, ...] = ()
    suggestions: tuple[Entry, ...] = ()
    bad_code: bool = False


async def find_unit(db: SessionFactory, query: str, roles: Sequence[str] = ()) -> Found:
    """The unit `query` names; `roles` (`[members] roles`) orders candidates as followers see them."""
    async with db() as session:
        member = await session.scalar(select(Member).where(Member.credit_code == credit_code.normalize(query)))
        if member is not None:
            return Found(member)
        named = list(await session.scalars(select(Member).where(Member.name == re.sub(r"\s+", "", query))))
        if len(named) == 1:
            return Found(named[0])
        entries = await load_entries(session)
    index = await asyncio.to_thread(MemberIndex.build, entries, roles)
    result = index.lookup(query)
    if result.how == "bad_code":
        return Found(bad_code=True)
    if len(result.entries) == 1 and result.how in SURE:
        return Found(await member_by_id(db, result.entries[0].id))
    return Found(candidates=result.entries, suggestions=result.suggestions)


async def member_by_id(db: SessionFactory, member_id: int) -> Member | None:
    async with db() as session:
        return await session.get(Member, member_id)


@dataclass(frozen=True)
class Search:
    """The units an editor's search finds (best first; by name when the query is empty), how they
    matched (the followers' lookup: code, name, alias, initials, partial, typo, follower, list, none),
    the closest names when nothing matched, and how many units the empty query lists in all."""

    how: str
    entries: tuple[Entry, ...] = ()
    suggestions: tuple[Entry, ...] = ()
    total: int = 0


async def search_units(
    db: SessionFactory, lookup: MemberLookup, query: str, *, offset: int = 0, limit: int = 50,
    include_retired: bool = True,
) -> Search:
    """Search the registry the way followers' 查会员 does (`lookup`, the process's index), or by a
    bound follower's openid; an empty query lists the units by name, `limit` at a time."""
    query = query.strip()
    if not query:
        async with db() as session:
            where = [] if include_retired else [Member.retired.is_(False)]
            total = await session.scalar(select(func.count()).select_from(Member).where(*where)) or 0
            rows = await session.execute(
                select(*ENTRY_COLUMNS).where(*where).order_by(Member.name, Member.id).offset(offset).limit(limit))
            return Search("list", tuple(Entry(*r) for r in rows), total=total)
    result = await lookup.lookup(query)
    entries = tuple(e for e in result.entries if include_retired or not e.retired)
    if entries or result.how == "bad_code":
        return Search(result.how, entries[offset:offset + limit], total=len(entries))
    async with db() as session:  # an openid: the units that follower is bound to
        rows = await session.execute(
            select(*ENTRY_COLUMNS).join(Binding, Binding.member_id == Member.id)
            .where(Binding.openid == query, Binding.revoked_at.is_(None)).order_by(Member.name))
        bound = tuple(Entry(*r) for r in rows)
    if bound:
        return Search("follower", bound, total=len(bound))
    return Search("none", suggestions=result.suggestions)
