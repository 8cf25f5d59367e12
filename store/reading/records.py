"""Keeping what 数据统计 answered: every write is an upsert on the figures' own keys (a day, a source, an
msgid), so a query answered twice stores its figures once, and several processes writing the same
day agree. Beside the figures, which (endpoint, day) queries are done (`Fetched`), and each article
linked to the push and the content-store article it came from."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import and_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.models.pushes import Push, PushArticle
from store.models.reading import ArticleDay, ArticleTotal, Fetched, ReadArticle

CHUNK = 500  # rows per statement (SQLite's bound parameters are limited)


def _insert(session: AsyncSession):
    return pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert


async def upsert(session: AsyncSession, model, rows: Sequence[dict], keep: Sequence[str] = ()) -> None:
    """Insert `rows`, or on a key already there set the columns the rows carry (but those in `keep`,
    which an existing row keeps). Rows with different columns go in separate statements."""
    keys = [c.name for c in model.__table__.primary_key.columns]
    by_shape: dict[tuple[str, ...], list[dict]] = {}
    for row in rows:
        by_shape.setdefault(tuple(sorted(row)), []).append(row)
    for shape, group in by_shape.items():
        sets = [c for c in shape if c not in keys and c not in keep]
        for i in range(0, len(group), CHUNK):
            stmt = _insert(session)(model).values(group[i : i + CHUNK])
            stmt = (stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in sets})
                    if sets else stmt.on_conflict_do_nothing(index_elements=keys))
            await session.execute(stmt)


async def done(session: AsyncSession, endpoint: str, first: date, last: date) -> dict[date, Fetched]:
    rows = await session.scalars(select(Fetched).where(
        Fetched.endpoint == endpoint, Fetched.ref_date >= first, Fetched.ref_date <= last))
    return {f.ref_date: f for f in rows}


async def mark(session: AsyncSession, endpoint: str, days: Iterable[date], through: date, rows: int,
               now: datetime, refused: bool = False) -> None:
    await upsert(session, Fetched, [{"endpoint": endpoint, "ref_date": d, "through": through, "rows": rows,
                                     "refused": refused, "fetched_at": now} for d in days])


async def favourites_from_totals(session: AsyncSession, msgids: Iterable[str]) -> None:
    """Each article's favourites of each day, from its running totals (the 发表内容 statistics give
    favourites only as totals): the total of a day less the day before's."""
    ids = sorted(set(msgids))
    if not ids:
        return
    rows = (await session.execute(select(ArticleTotal.msgid, ArticleTotal.stat_date, ArticleTotal.fav_user)
                                  .where(ArticleTotal.msgid.in_(ids))
                                  .order_by(ArticleTotal.msgid, ArticleTotal.stat_date))).all()
    days, previous = [], {}
    for msgid, day, fav in rows:
        before = previous.get(msgid)
        if before is None:  # the totals start on the sending day: its total is its own
            days.append({"msgid": msgid, "ref_date": day, "fav_user": fav})
        elif before[0] == day - timedelta(days=1):  # after a gap, that day's favourites are unknown
            days.append({"msgid": msgid, "ref_date": day, "fav_user": max(0, fav - before[1])})
        previous[msgid] = (day, fav)
    await upsert(session, ArticleDay, days)


async def link_pushes(session: AsyncSession) -> int:
    """Link the articles not yet linked to the push that sent them: a broadcast by its msg_data_id (the
    article's position in the push = its msgid index − 1), a publish by the article's URL."""
    loose = (await session.execute(select(ReadArticle.msgid, ReadArticle.msg_data_id, ReadArticle.idx,
                                          ReadArticle.content_url).where(ReadArticle.push_id.is_(None)))).all()
    if not loose:
        return 0
    data_ids = {r.msg_data_id for r in loose}
    urls = {r.content_url for r in loose if r.content_url}
    by_data_id = dict((await session.execute(
        select(Push.msg_data_id, Push.id).where(Push.msg_data_id.in_(data_ids)))).all())
    positions = {(p, pos): a for p, pos, a in (await session.execute(
        select(PushArticle.push_id, PushArticle.position, PushArticle.article_id)
        .where(PushArticle.push_id.in_(by_data_id.values())))).all()} if by_data_id else {}
    by_url = {u: (p, a) for u, p, a in (await session.execute(
        select(PushArticle.url, PushArticle.push_id, PushArticle.article_id)
        .where(PushArticle.url.in_(urls)))).all()} if urls else {}
    linked = 0
    for r in loose:
        push_id = by_data_id.get(r.msg_data_id)
        found = (push_id, positions.get((push_id, r.idx - 1))) if push_id else by_url.get(r.content_url)
        if found:
            await session.execute(update(ReadArticle).where(and_(ReadArticle.msgid == r.msgid))
                                  .values(push_id=found[0], article_id=found[1]))
            linked += 1
    return linked
