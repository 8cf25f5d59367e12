"""The message log for editors: filtered by follower, time, type and direction, newest first, a page
at a time (keyset paging on time then id, so page 500 costs what page 1 does on a million rows, and a
day long ago is read through the time index, not by walking the log from its newest row); and one
follower's conversation, oldest first, with earlier pages on request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from store.db import SessionFactory
from store.models.webhook import MessageLog

PAGE = 50


@dataclass(frozen=True)
class LogFilter:
    openid: str = ""
    since: datetime | None = None  # UTC, inclusive
    until: datetime | None = None  # UTC, exclusive
    types: Sequence[str] = ()  # msg_type values; "event" means every event
    direction: str = ""  # "", "in" or "out"


@dataclass(frozen=True)
class LogPage:
    rows: list[MessageLog]
    before: int | None  # pass as `before` for the next (older) page; None: this is the last


def _where(f: LogFilter) -> list:
    where = []
    if f.openid:
        where.append(MessageLog.openid == f.openid.strip())
    if f.since is not None:
        where.append(MessageLog.at >= f.since)
    if f.until is not None:
        where.append(MessageLog.at < f.until)
    if f.direction in ("in", "out"):
        where.append(MessageLog.direction == f.direction)
    if f.types:
        exact = [t for t in f.types if t != "event"]
        either = [MessageLog.msg_type.in_(exact)] if exact else []
        if "event" in f.types:
            either.append(MessageLog.msg_type.like("event:%"))
        where.append(or_(*either))
    return where


async def log_page(db: SessionFactory, f: LogFilter, before: int | None = None, limit: int = PAGE) -> LogPage:
    """The newest `limit` entries matching `f` that come after the entry `before` (an id) in this order:
    by time, newest first, then by id. (Ordered by id alone, PostgreSQL walked the primary key from the
    newest row for a day months ago, throwing away most of a million rows.)"""
    query = (select(MessageLog).where(*_where(f))
             .order_by(MessageLog.at.desc(), MessageLog.id.desc()).limit(limit + 1))
    if before is not None:
        # The cursor's own time, read in the same statement; the first condition lets the index on `at`
        # bound the walk. (A cursor erased meanwhile ends the paging: nothing compares with NULL.)
        mark = select(MessageLog.at).where(MessageLog.id == before).scalar_subquery()
        query = query.where(MessageLog.at <= mark, or_(MessageLog.at < mark, MessageLog.id < before))
    async with db() as session:
        rows = list(await session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return LogPage(rows, rows[-1].id if more else None)


async def conversation(db: SessionFactory, openid: str, before: int | None = None, limit: int = PAGE) -> LogPage:
    """One follower's messages and the replies, the latest `limit` before `before`, oldest first (a
    chat reads down); `before` of the result pages to earlier ones."""
    page = await log_page(db, LogFilter(openid=openid), before, limit)
    return LogPage(page.rows[::-1], page.before)
