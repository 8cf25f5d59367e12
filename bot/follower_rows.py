"""The follower table's reads and writes for bot/followers.py: the rows of first contacts, read
together (one query for the followers whose first message came while the previous read ran), and
the batches' upserts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.db import SessionFactory
from store.models.webhook import Follower

CHUNK = 500  # openids per query, rows per upsert statement
COLUMNS = [c.key for c in Follower.__table__.columns]


async def read_rows(db: SessionFactory, openids: list[str]) -> list[Follower | None]:
    """Each follower's row (None: no row yet), in the order asked."""
    found: dict[str, Follower] = {}
    async with db() as session:
        for i in range(0, len(openids), CHUNK):
            chunk = openids[i:i + CHUNK]
            found.update((r.openid, r) for r in await session.scalars(select(Follower).where(Follower.openid.in_(chunk))))
    return [found.get(o) for o in openids]


async def upsert(session: AsyncSession, rows: list[dict], update: tuple[str, ...] | None = None) -> None:
    """Insert or update rows; on conflict only the `update` columns (default: all but the key
    and first_seen) change."""
    if not rows:
        return
    if session.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    # The table, not the mapped class: a Core executemany, without the ORM's per-row bulk work.
    stmt = insert(Follower.__table__)
    columns = update or [c for c in COLUMNS if c not in ("openid", "first_seen")]
    stmt = stmt.on_conflict_do_update(index_elements=["openid"], set_={c: stmt.excluded[c] for c in columns})
    await session.execute(stmt, rows)

