"""Binding followers to member units: one-time codes issued by editors (stored hashed, valid for
`[members] bind_code_ttl_minutes`), attempts limited per follower (`bind_attempts_per_hour`), every
bind, unbind, revoke and unsubscribe recorded in the binding log."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.db import SessionFactory
from store.members import credit_code as codes
from store.models.members import BindCode, Binding, BindingEvent, Member

if TYPE_CHECKING:
    from core.services import Services

# No 0/O, 1/I/L: the code is read off paper or a chat and typed on a phone.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8  # 31**8 ≈ 8.5e11 codes against a handful of attempts an hour
ATTEMPT_WINDOW_SECONDS = 3600


class MemberNotFound(LookupError):
    pass


@dataclass(frozen=True)
class BindOutcome:
    """status: bound, already (was bound before), wrong, expired, used, retired, limited."""

    status: str
    member_name: str = ""
    attempts_left: int = 0


def normalize_code(code: str) -> str:
    return codes.normalize(code)


def hash_code(code: str) -> str:
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


async def find_member(session: AsyncSession, credit_code: str) -> Member:
    member = await session.scalar(select(Member).where(Member.credit_code == codes.normalize(credit_code)))
    if member is None:
        raise MemberNotFound(credit_code)
    return member


async def issue_code(
    db: SessionFactory, credit_code: str, now: datetime, ttl_minutes: int
) -> tuple[str, Member, datetime]:
    """A new one-time code for the member; only its hash is kept, so it is shown once."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires = now + timedelta(minutes=ttl_minutes)
    async with db() as session, session.begin():
        member = await find_member(session, credit_code)
        session.add(
            BindCode(code_hash=hash_code(code), member_id=member.id, created_at=now, expires_at=expires)
        )
    return code, member, expires


async def bound_member_ids(session: AsyncSession, openid: str) -> set[int]:
    rows = await session.scalars(
        select(Binding.member_id).where(Binding.openid == openid, Binding.revoked_at.is_(None))
    )
    return set(rows)


async def bind(services: Services, openid: str, code: str) -> BindOutcome:
    """Use a code for this follower. Every attempt counts against the follower's hourly limit (a
    success clears it), so guessing codes gets nowhere."""
    limit = services.settings.members.bind_attempts_per_hour
    key = f"members:bind-attempts:{openid}"
    attempts = await services.shared.incr(key, ATTEMPT_WINDOW_SECONDS)
    if attempts > limit:
        return BindOutcome("limited")
    left = limit - attempts
    now = services.clock.now()
    async with services.db() as session, session.begin():
        row = await session.scalar(select(BindCode).where(BindCode.code_hash == hash_code(code)))
        if row is None:
            return BindOutcome("wrong", attempts_left=left)
        member = await session.get(Member, row.member_id)
        if row.used_at is not None:
            return BindOutcome("used", attempts_left=left)
        if row.expires_at <= now:
            return BindOutcome("expired", attempts_left=left)
        if member is None or member.retired:
            return BindOutcome("retired", attempts_left=left)
        # Claim the code in the same statement that checks it is unused: two followers racing
        # with one code cannot both win.
        claimed = await session.execute(
            update(BindCode)
            .where(BindCode.id == row.id, BindCode.used_at.is_(None))
            .values(used_at=now, used_by=openid)
        )
        if claimed.rowcount != 1:
            return BindOutcome("used", attempts_left=left)
        already = member.id in await bound_member_ids(session, openid)
        if not already:
            session.add(Binding(member_id=member.id, openid=openid, created_at=now))
            session.add(BindingEvent(member_id=member.id, openid=openid, kind="bind", at=now))
    await services.shared.delete(key)
    return BindOutcome("already" if already else "bound", member.name)


async def unbind(
    db: SessionFactory, openid: str, now: datetime, member_id: int | None = None, kind: str = "unbind"
) -> list[str]:
    """End the follower's bindings (to one member, or all); kind is how it is logged: unbind (the
    follower asked), revoke (an editor), unsubscribe. Returns the names of the units unbound."""
    async with db() as session, session.begin():
        query = (
            select(Binding, Member.name)
            .join(Member, Member.id == Binding.member_id)
            .where(Binding.openid == openid, Binding.revoked_at.is_(None))
        )
        if member_id is not None:
            query = query.where(Binding.member_id == member_id)
        names = []
        for binding, name in (await session.execute(query)).all():
            binding.revoked_at = now
            session.add(BindingEvent(member_id=binding.member_id, openid=openid, kind=kind, at=now))
            names.append(name)
    return names


async def bindings_of(
    db: SessionFactory, credit_code: str
) -> tuple[Member, list[Binding], list[BindingEvent]]:
    """The member, all its bindings (active and ended) and its binding log, oldest first."""
    async with db() as session:
        member = await find_member(session, credit_code)
        bindings = list(
            await session.scalars(select(Binding).where(Binding.member_id == member.id).order_by(Binding.id))
        )
        events = list(
            await session.scalars(
                select(BindingEvent).where(BindingEvent.member_id == member.id).order_by(BindingEvent.id)
            )
        )
    return member, bindings, events


async def on_unsubscribe(db: SessionFactory, openid: str, now: datetime) -> list[str]:
    """A follower who unfollows is unbound from every member (handlers/events.py calls this)."""
    return await unbind(db, openid, now, kind="unsubscribe")
