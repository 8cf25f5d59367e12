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

from sqlalchemy import select

from store.db import SessionFactory
from store.members import credit_code
from store.members.index import Entry, MemberIndex, load_entries
from store.models.members import Member

SURE = ("code", "name", "alias")


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
