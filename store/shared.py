"""Shared state: the three backends of the interface in core/shared.py.

- Memory: the embedded default (one process on SQLite).
- SQL: the `shared_kv` table, when the database is PostgreSQL and no Redis is configured.
- Redis: when `[redis] url` is set.

`open_shared_state()` picks the backend from the settings.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Integer, Text, and_, case, cast, delete, or_, select

from core.batch import Batcher
from core.clock import Clock
from core.shared import NOT_READ, Claim, SharedState
from store.db import SessionFactory, is_sqlite
from store.models.shared import SharedEntry

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from core.config import Settings

_KV = SharedEntry.__table__

# How long one call to a backend may take before it counts as failed (callers carry on alone).
CALL_TIMEOUT = 2.0


class MemoryState(SharedState):
    def __init__(self, clock: Clock | None = None) -> None:
        super().__init__(clock)
        self._data: dict[str, tuple[str, float | None]] = {}

    def _live(self, key: str) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= self.clock.monotonic():
            del self._data[key]
            return None
        return value

    def _expiry(self, ttl: float | None) -> float | None:
        return None if ttl is None else self.clock.monotonic() + ttl

    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        self._data[key] = (value, self._expiry(ttl))

    async def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        if self._live(key) is not None:
            return False
        self._data[key] = (value, self._expiry(ttl))
        return True

    async def delete(self, key: str, expect: str | None = None) -> bool:
        current = self._live(key)
        if current is None or (expect is not None and current != expect):
            return False
        del self._data[key]
        return True

    async def incr(self, key: str, ttl: float) -> int:
        current = self._live(key)
        if current is None:
            self._data[key] = ("1", self._expiry(ttl))
            return 1
        value = int(current) + 1
        self._data[key] = (str(value), self._data[key][1])
        return value


class SqlState(SharedState):
    """The `shared_kv` table (PostgreSQL for several processes; SQLite works too, for tests and one process).

    Expiry is wall-clock time from the injected clock, because several processes compare it. Every
    read ignores expired rows; writes replace them in the same statement (INSERT … ON CONFLICT), and
    expired rows are deleted at most once a minute so the table does not grow with old claims.
    """

    PURGE_INTERVAL = 60.0

    def __init__(self, db: SessionFactory, clock: Clock | None = None) -> None:
        super().__init__(clock)
        self.db = db
        bind = db.kw.get("bind")
        self._dialect = bind.dialect.name if bind is not None else "postgresql"
        self._next_purge = 0.0

    def _insert(self):
        if self._dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(_KV)

    def _expiry(self, now: datetime, ttl: float | None) -> datetime | None:
        return None if ttl is None else now + timedelta(seconds=ttl)

    @staticmethod
    def _live(now: datetime):
        return or_(_KV.c.expires_at.is_(None), _KV.c.expires_at > now)

    @staticmethod
    def _expired(now: datetime):
        return and_(_KV.c.expires_at.is_not(None), _KV.c.expires_at <= now)

    async def _write(self, stmt, now: datetime) -> list:
        """Run one write in its own transaction; returns the RETURNING rows, or [rowcount]."""
        return await _bounded(self._write_now(stmt, now))

    async def _write_now(self, stmt, now: datetime) -> list:
        async with self.db() as session:
            result = await session.execute(stmt)
            rows = result.all() if result.returns_rows else [result.rowcount]
            if self.clock.monotonic() >= self._next_purge:
                self._next_purge = self.clock.monotonic() + self.PURGE_INTERVAL
                await session.execute(delete(_KV).where(self._expired(now)))
            await session.commit()
            return rows

    async def get(self, key: str) -> str | None:
        return await _bounded(self._get(key, self.clock.now()))

    async def _get(self, key: str, now: datetime) -> str | None:
        async with self.db() as session:
            return await session.scalar(select(_KV.c.value).where(_KV.c.key == key, self._live(now)))

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        now = self.clock.now()
        stmt = self._insert().values(key=key, value=value, expires_at=self._expiry(now, ttl))
        stmt = stmt.on_conflict_do_update(
            index_elements=[_KV.c.key],
            set_={"value": stmt.excluded.value, "expires_at": stmt.excluded.expires_at},
        )
        await self._write(stmt, now)

    async def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        now = self.clock.now()
        stmt = self._insert().values(key=key, value=value, expires_at=self._expiry(now, ttl))
        # Only an expired row may be taken over; a live one makes the upsert a no-op (no row returned).
        stmt = stmt.on_conflict_do_update(
            index_elements=[_KV.c.key],
            set_={"value": stmt.excluded.value, "expires_at": stmt.excluded.expires_at},
            where=self._expired(now),
        ).returning(_KV.c.key)
        return bool(await self._write(stmt, now))  # one row back = inserted or took over

    async def delete(self, key: str, expect: str | None = None) -> bool:
        now = self.clock.now()
        stmt = delete(_KV).where(_KV.c.key == key, self._live(now))
        if expect is not None:
            stmt = stmt.where(_KV.c.value == expect)
        return (await self._write(stmt, now))[0] > 0

    async def incr(self, key: str, ttl: float) -> int:
        now = self.clock.now()
        stmt = self._insert().values(key=key, value="1", expires_at=self._expiry(now, ttl))
        expired = self._expired(now)
        stmt = stmt.on_conflict_do_update(
            index_elements=[_KV.c.key],
            set_={
                "value": case((expired, "1"), else_=cast(cast(_KV.c.value, Integer) + 1, Text)),
                "expires_at": case((expired, stmt.excluded.expires_at), else_=_KV.c.expires_at),
            },
        ).returning(_KV.c.value)
        rows = await self._write(stmt, now)
        return int(rows[0][0])


# Compare-and-delete must be one step, or a holder whose lock expired could delete its successor's.
_DELETE_IF_EQUAL = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# INCR and PEXPIRE in one step, so a crash between them cannot leave a counter that never expires.
_INCR_WITH_TTL = """
local v = redis.call('INCR', KEYS[1])
if v == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return v
"""
# The webhook's claim in one step (a script is one command for redis-py to send and parse, cheaper
# than MULTI/EXEC): the signed query (KEYS[1], unless ''; ARGV[1] its body digest, ARGV[2] px) is
# noted, and unless it was seen with another body, SET NX of the claim (KEYS[2], ARGV[3], px ARGV[4]
# or '' for none) and a GET of KEYS[3] (unless '').
_CLAIM = """
if KEYS[1] ~= '' and not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local prior = redis.call('GET', KEYS[1])
  if prior and prior ~= ARGV[1] then return {-1, false} end
end
local added
if ARGV[4] == '' then added = redis.call('SET', KEYS[2], ARGV[3], 'NX')
else added = redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[4]) end
local current = false
if KEYS[3] ~= '' then current = redis.call('GET', KEYS[3]) end
return {added and 1 or 0, current}
"""


class RedisState(SharedState):
    """Redis (`[redis] url`). Expiry is Redis's own (PX), so it follows real time, not the injected clock;
    the clock only bounds how long `lock()` waits."""

    def __init__(self, client: Redis, clock: Clock | None = None, prefix: str = "wxbot:") -> None:
        super().__init__(clock)
        self.client = client
        self.prefix = prefix
        self._delete_if_equal = client.register_script(_DELETE_IF_EQUAL)
        self._incr_with_ttl = client.register_script(_INCR_WITH_TTL)
        self._claim = client.register_script(_CLAIM)
        self._commands = Batcher(self._pipeline)

    @classmethod
    def from_url(cls, url: str, clock: Clock | None = None, prefix: str = "wxbot:") -> RedisState:
        from redis.asyncio import Redis

        # Bounded calls: a Redis that stops answering fails them, and callers carry on alone.
        client = Redis.from_url(
            url, decode_responses=True, socket_timeout=CALL_TIMEOUT, socket_connect_timeout=CALL_TIMEOUT
        )
        return cls(client, clock, prefix)

    @staticmethod
    def _ms(ttl: float) -> int:
        return max(1, math.ceil(ttl * 1000))

    async def get(self, key: str) -> str | None:
        return await self.client.get(self.prefix + key)

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        await self.client.set(self.prefix + key, value, px=None if ttl is None else self._ms(ttl))

    async def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        px = None if ttl is None else self._ms(ttl)
        return bool(await self.client.set(self.prefix + key, value, nx=True, px=px))

    async def claim(
        self, key: str, value: str, ttl: float | None, read: str | None = None,
        once: tuple[str, str, float] | None = None,
    ) -> Claim:
        once_key, digest, once_ttl = once if once is not None else ("", "", 1.0)
        keys = [
            self.prefix + once_key if once_key else "",
            self.prefix + key,
            self.prefix + read if read is not None else "",
        ]
        args = [digest, str(self._ms(once_ttl)), value, "" if ttl is None else str(self._ms(ttl))]
        added, current = await self._commands.submit(("EVALSHA", self._claim.sha, len(keys), *keys, *args))
        if added == -1:
            return Claim(False, NOT_READ, replayed=True)
        return Claim(bool(added), NOT_READ if read is None else current)

    async def set_many(self, items: Mapping[str, str], ttl: float | None = None) -> None:
        px = () if ttl is None else ("PX", self._ms(ttl))
        await asyncio.gather(*(self._commands.submit(("SET", self.prefix + k, v, *px)) for k, v in items.items()))

    async def _pipeline(self, commands: list[tuple], loaded: bool = False) -> list:
        """The webhook's commands (claims, answers stored) that came while the previous pipeline was
        on its way, in one: one round trip and one connection for all (they were one each)."""
        from redis.exceptions import NoScriptError

        async with self.client.pipeline(transaction=False) as pipe:
            for command in commands:
                pipe.execute_command(*command)
            results = await pipe.execute(raise_on_error=False)
        again = [i for i, r in enumerate(results) if isinstance(r, NoScriptError)]  # a restarted Redis
        if again and not loaded:
            await self.client.script_load(_CLAIM)
            for i, result in zip(again, await self._pipeline([commands[i] for i in again], loaded=True), strict=True):
                results[i] = result
        return results

    async def delete(self, key: str, expect: str | None = None) -> bool:
        if expect is None:
            return bool(await self.client.delete(self.prefix + key))
        return bool(await self._delete_if_equal(keys=[self.prefix + key], args=[expect]))

    async def incr(self, key: str, ttl: float) -> int:
        return int(await self._incr_with_ttl(keys=[self.prefix + key], args=[self._ms(ttl)]))

    async def close(self) -> None:
        await self.client.aclose()


async def _bounded(call):
    """A database call given up after CALL_TIMEOUT (it finishes in the background: cancelled mid-way
    it would hold its connection just as long)."""
    task = asyncio.ensure_future(call)
    try:
        return await asyncio.wait_for(asyncio.shield(task), CALL_TIMEOUT)
    except TimeoutError:
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved: no warning
        raise


async def open_shared_state(settings: Settings, db: SessionFactory, clock: Clock) -> SharedState:
    """Redis when `[redis] url` is set; else the database when it is PostgreSQL (several processes may
    share it); else memory (SQLite means one process, so nothing needs sharing)."""
    if settings.redis.url:
        state = RedisState.from_url(settings.redis.url, clock)
        try:
            await state.client.ping()
        except Exception as e:
            await state.close()
            raise ConnectionError(f"[redis] url: cannot reach {settings.redis.url}: {e}") from e
        return state
    if not is_sqlite(settings.database_url):
        return SqlState(db, clock)
    return MemoryState(clock)
