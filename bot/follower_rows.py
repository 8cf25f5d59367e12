"""The follower table's reads and writes for bot/followers.py: the rows of first contacts, read
together (one query for the followers whose first message came while the previous read ran), and
the batches' upserts."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, Table, TextClause, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
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
    columns = update or [c for c in COLUMNS if c not in ("openid", "first_seen")]
    if session.bind.dialect.name == "postgresql":
        # The table, not the mapped class: a Core executemany, without the ORM's per-row bulk work.
        stmt = pg_insert(Follower.__table__)
        stmt = stmt.on_conflict_do_update(index_elements=["openid"], set_={c: stmt.excluded[c] for c in columns})
        await session.execute(stmt, rows)
        return
    # SQLite: through a temporary table, so that the batch is a few statements rather than one
    # sqlite3_step per row (see store/db.py's insertmanyvalues: an upsert cannot use it, and at a
    # peak a second's thousand followers took over a second to write, behind the event loop).
    await session.execute(_CREATE_BATCH)
    await session.execute(insert(_BATCH), rows)  # one multi-row INSERT, the columns' defaults filled in
    await session.execute(_upsert_batch(columns))
    await session.execute(_EMPTY_BATCH)


# The batch table: the followers' columns and their defaults, nothing else (no key, no index).
_BATCH = Table(
    "follower_batch", MetaData(),
    *(Column(c.name, c.type, default=None if c.default is None else c.default.arg) for c in Follower.__table__.columns),
    prefixes=["TEMPORARY"],
)
_CREATE_BATCH = text("CREATE TEMP TABLE IF NOT EXISTS follower_batch AS SELECT * FROM followers WHERE 0")
_EMPTY_BATCH = text("DELETE FROM follower_batch")


def _upsert_batch(columns: list[str] | tuple[str, ...]) -> TextClause:
    names = ", ".join(COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns)
    # "WHERE true": without it SQLite reads ON CONFLICT as part of the SELECT's join.
    return text(
        f"INSERT INTO followers ({names}) SELECT {names} FROM follower_batch WHERE true "
        f"ON CONFLICT (openid) DO UPDATE SET {updates}"
    )
