"""The async engine, one session per unit of work, and the declarative base all models share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, MetaData, TypeDecorator, event, exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both databases (SQLite would otherwise hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


SessionFactory = async_sessionmaker[AsyncSession]


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def is_postgresql(url: str) -> bool:
    return url.startswith("postgresql")


def make_engine(url: str, echo: bool = False) -> AsyncEngine:
    if is_sqlite(url):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            # WAL lets the CLI read and write while `serve` runs; busy_timeout waits instead of failing.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        # A batch insert as one multi-row INSERT per page, not an executemany: the sqlite3 module
        # lets go of the GIL around every sqlite3_step, and under load each of the 500 steps of a
        # chunk waited for the event loop to hand it back (up to sys.getswitchinterval(), 5 ms):
        # a second's message log took seconds to write and fell further behind at every batch.
        # SQLAlchemy's "insertmanyvalues" renders the pages (only for INSERTs without ON CONFLICT).
        engine.sync_engine.dialect.use_insertmanyvalues_wo_returning = True
        return engine
    # No pre-ping: it costs a round trip on every checkout, on the webhook's hot path. A connection
    # the server dropped fails its statement instead (the unit of work is retried by its caller or
    # the next batch), and pool_recycle retires connections before idle timeouts of proxies and
    # servers. One pool big enough for the webhook's concurrency: overflow connections would be
    # opened and closed again on every burst.
    return create_async_engine(url, echo=echo, pool_size=20, max_overflow=10, pool_recycle=1800)


def make_session_factory(engine: AsyncEngine) -> SessionFactory:
    # expire_on_commit=False: objects stay readable after commit, so nothing lazy-loads on await.
    return async_sessionmaker(engine, expire_on_commit=False)


def utcnow() -> datetime:
    return datetime.now(UTC)


def unavailable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be used right now (down, restarting, locked,
    unreachable, out of connections) rather than that it refuses what was sent: what failed may
    work as it is once the database is back."""
    if isinstance(error, OSError | TimeoutError | exc.TimeoutError | exc.OperationalError | exc.InterfaceError):
        return True
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    cause = error.__cause__ or getattr(error, "orig", None)
    if cause is not None and cause is not error:
        name = type(cause).__name__
        # asyncpg's connection errors (raised as they are at connect time) and the driver's own
        if "Connection" in name or name in ("CannotConnectNowError", "InterfaceError", "OperationalError"):
            return True
    return False


def refused(error: BaseException) -> bool:
    """Whether `error` says the database refuses the rows as given (a constraint, a type, a length):
    sending them again can never work."""
    if isinstance(error, exc.IntegrityError | exc.DataError):
        return True
    if isinstance(error, exc.StatementError) and not isinstance(error, exc.DBAPIError):
        return True  # a bind parameter that could not be converted
    sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None) or ""
    return sqlstate[:2] in ("22", "23")  # PostgreSQL: data exception, integrity constraint violation


async def write_apart(
    db: SessionFactory, rows: list, write: Callable[[AsyncSession, list], Awaitable[object]],
    chunk: int = 500,
) -> tuple[list[tuple[object, BaseException]], list]:
    """Write `rows` (`write(session, part)`, one transaction per part of at most `chunk`) after one
    transaction with all of them failed: halve the parts that fail until the rows the database
    refuses stand alone. Returns (refused rows with their error, rows left unwritten because the
    database became unavailable midway). The rest is written, in order."""
    todo = [rows[i:i + chunk] for i in range(0, len(rows), chunk)]
    bad: list[tuple[object, BaseException]] = []
    while todo:
        part = todo.pop(0)
        try:
            async with db.begin() as session:
                await write(session, part)
        except Exception as e:
            if unavailable(e):
                return bad, [r for p in (part, *todo) for r in p]
            if len(part) == 1:
                bad.append((part[0], e))
            else:
                todo[:0] = [part[: len(part) // 2], part[len(part) // 2:]]
    return bad, []
