"""Follower records: loaded once into memory, changed there, written behind in batches.

The hot path never waits for a database write: `get()` reads the row on a follower's first
message in this process (the first messages that come together in one query, bot/follower_rows.py;
the dispatcher waits for it only so long: `get_within()`), later changes
only mark it dirty, and the message-log writer (bot/messagelog.py) upserts dirty rows with its
next batch. Held replies are written at once (`save_now()`), so a crash cannot lose them.

With several processes, what every message changes (last seen, the windows of bot/windows.py) is
written behind, last writer wins (the platform's 45015/45047 corrects a quota two processes spent);
what others must see before the follower's next message — the conversation step, held replies,
unsubscribing — is written when the request answers (`sync()`) and announced by a new version
under `follower:<openid>`, which `get()` compares with the one its copy was read at. Erasures
(`messagelog.forget`) leave markers that each batch looks up when their epoch moved (`erased()`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import windows
from bot.erasures import Erasures
from bot.follower_rows import COLUMNS, read_rows, upsert
from bot.locks import KeyedLocks
from core import logs, metrics
from core.batch import Batcher
from core.clock import Clock
from core.shared import NOT_READ, SharedState
from store.db import SessionFactory, write_apart
from store.models.webhook import Follower
from store.shared import MemoryState, SqlState

log = logging.getLogger(__name__)

CACHE_SIZE = 200_000  # records (~1 KB each) and the maps beside them: per follower, not per message
MAX_UNWRITTEN = 100_000  # records kept beyond CACHE_SIZE while the database cannot take them
FLUSH_CHUNK = 500  # rows per upsert statement of a batch
# Several processes: a cached record is re-read at the latest after this long, and the version
# keys live twice as long, so an expired key can never vouch for a record read before a change.
SHARED_MAX_AGE = 3600.0
VERSION_TTL = 2 * SHARED_MAX_AGE

# Events that do not come from a follower at all (the platform's job reports).
SYSTEM_EVENTS = {"publishjobfinish", "masssendjobfinish", "templatesendjobfinish"}
# What other processes must see before the follower's next message (written by `sync()`).
SHARED_COLUMNS = ("subscribed", "state", "held")
# What every message changes (written behind; with several processes the last writer wins).
TOUCH_COLUMNS = tuple(c for c in COLUMNS if c not in ("openid", "first_seen", *SHARED_COLUMNS))


def from_follower(message: Any) -> bool:
    return not (message.type == "event" and (message.event or "").lower() in SYSTEM_EVENTS)


def version_key(openid: str) -> str:
    return f"follower:{openid}"


def _shared_values(follower: Follower) -> tuple:
    return tuple(getattr(follower, c) for c in SHARED_COLUMNS)


class FollowerStore:
    def __init__(self, db: SessionFactory, shared: SharedState, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._cache: OrderedDict[str, Follower] = OrderedDict()
        self._dirty: set[str] = set()
        self._loading: dict[str, asyncio.Future] = {}
        # Several processes only: the version each cached record was read at, when it was read,
        # and its shared columns as last read or written (a change to them needs `sync()`).
        self.shared = None if isinstance(shared, MemoryState) else shared
        self.erasures = Erasures(self.shared or SqlState(db, clock))
        self._version: dict[str, str | None] = {}
        self._loaded_at: dict[str, float] = {}
        self._synced: dict[str, tuple] = {}
        self._unsynced: set[str] = set()
        self._sync_locks = KeyedLocks()
        self._send_locks = KeyedLocks()
        # Stand-ins for rows not read in time (database down or slow): read again on the next
        # message, they write only what every message changes (never a blank state or held list).
        self._provisional: set[str] = set()
        self._reads = Batcher(partial(read_rows, db))  # first messages' row reads, together

    def version_key_of(self, message: Any) -> str | None:
        """The shared key `get()` reads for this sender (None: none), read with the dedupe claim."""
        if self.shared is None or not from_follower(message):
            return None
        return version_key(message.source)

    def cached(self, openid: str, version: object = NOT_READ) -> Follower | None:
        """The record if `get()` would answer from memory, else None (no await: the hot path)."""
        follower = self._cache.get(openid)
        if follower is None or openid in self._provisional:
            return None
        if self.shared is not None and (
            version is NOT_READ
            or self._version.get(openid, "") != version
            or self.clock.monotonic() - self._loaded_at.get(openid, 0) >= SHARED_MAX_AGE
        ):
            return None
        self._cache.move_to_end(openid)
        return follower

    async def get_within(self, openid: str, version: object, timeout: float) -> Follower:
        """`get()`, waiting at most `timeout` seconds: when the row cannot be read in time (or at
        all), a provisional record answers this message and the read goes on in the background."""
        loading = asyncio.ensure_future(self.get(openid, version))
        try:
            return await asyncio.wait_for(asyncio.shield(loading), max(timeout, 0.0))
        except Exception as e:
            loading.add_done_callback(lambda t: t.cancelled() or t.exception())
            log.warning("followers: the record of %s was not read in time (%s); answering without it",
                        openid, type(e).__name__ if isinstance(e, TimeoutError) else e)
            return self.provisional(openid)

    def provisional(self, openid: str) -> Follower:
        """A stand-in record (see `_provisional`); the one already standing in, if any."""
        follower = self._cache.get(openid)
        if follower is not None and (openid in self._provisional or self.shared is None):
            return follower  # one process: what is cached is what the row says
        follower = self._cache[openid] = self._blank(openid)
        self._provisional.add(openid)
        return follower

    def _blank(self, openid: str) -> Follower:
        now = self.clock.now()
        return Follower(openid=openid, subscribed=True, first_seen=now, last_seen=now,
                        message_window_used=0, event_window_used=0, state=None, held=None)

    async def get(self, openid: str, version: object = NOT_READ) -> Follower:
        """The follower's record (a new, unsaved one for a stranger). `version`: the shared
        version, if the caller read it already (see `version_key_of`)."""
        if self.shared is not None and version is NOT_READ:
            version = await self._current_version(openid)
        follower = self.cached(openid, version)
        if follower is not None:
            return follower
        # One read per follower even when several of their messages arrive together.
        if (loading := self._loading.get(openid)) is not None:
            return await asyncio.shield(loading)
        loading = self._loading[openid] = asyncio.get_running_loop().create_future()
        try:
            follower = await self._load(openid, None if self.shared is None else version)
            loading.set_result(follower)
        except BaseException as e:
            loading.set_exception(e)
            loading.exception()  # retrieved: waiters get it, nobody else must
            raise
        finally:
            del self._loading[openid]
        return follower

    async def _current_version(self, openid: str) -> str | None:
        try:
            return await self.shared.get(version_key(openid))
        except Exception as e:  # the shared store is down: re-read the row, which is always right
            log.warning("followers: shared state unavailable (%s), reading %s again", e, logs.hashed(openid))
            return secrets.token_hex(8)

    async def _load(self, openid: str, version: str | None) -> Follower:
        row = await self._reads.submit(openid)
        cached = self._cache.get(openid)
        new = row is None
        if new:
            row = self._blank(openid)
            self._dirty.add(openid)
            if openid in self._provisional:  # it stood in since the follower's first message
                row.first_seen = cached.first_seen
        if cached is not None and openid in self._dirty and (openid in self._provisional or not new):
            # Re-read (for the shared columns, or in place of a stand-in): keep what this process
            # noted since its last batch.
            for c in TOUCH_COLUMNS:
                setattr(row, c, getattr(cached, c))
        self._provisional.discard(openid)
        self._cache[openid] = row
        self._cache.move_to_end(openid)
        if self.shared is not None:
            self._version[openid] = version
            self._loaded_at[openid] = self.clock.monotonic()
            self._synced[openid] = _shared_values(row)
            self._unsynced.discard(openid)
        self._evict()
        return row

    def _evict(self) -> None:
        while len(self._cache) > CACHE_SIZE:
            old, record = self._cache.popitem(last=False)
            if (old in self._dirty or old in self._unsynced) and len(self._cache) < CACHE_SIZE + MAX_UNWRITTEN:
                self._cache[old] = record  # not written yet: keep it until then
                self._cache.move_to_end(old, last=False)
                break
            metrics.EVICTIONS.labels("followers").inc()
            if old in self._dirty or old in self._unsynced:
                log.error("followers: %s dropped unwritten (over %d records wait to be written)", old, MAX_UNWRITTEN)
            self._drop(old)

    def lock(self, openid: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Held while replies go out to this follower (bot/outbox.py): their counters and order."""
        return self._send_locks.hold(openid)

    def is_provisional(self, openid: str) -> bool:  # (see `_provisional`)
        return openid in self._provisional

    def changed(self, follower: Follower) -> None:
        openid = follower.openid
        self._dirty.add(openid)
        if (self.shared is not None and openid not in self._provisional
                and _shared_values(follower) != self._synced.get(openid)):
            self._unsynced.add(openid)

    def needs_sync(self, follower: Follower) -> bool:
        """Whether `sync()` has something to write for this follower."""
        return follower.openid in self._unsynced

    def touch(self, follower: Follower, message: Any) -> None:
        """Record an inbound message or event: last seen, and the window it opens."""
        now = self.clock.now()
        follower.last_seen = now
        if message.type != "event":
            follower.subscribed = True  # only a follower can message us, whatever our record said
            follower.last_message_at = now
        elif (message.event or "").lower() in ("subscribe", "subscribe_scan"):
            follower.subscribed = True
        windows.open_for(follower, message, now)
        self.changed(follower)

    async def unsubscribe(self, openid: str) -> None:
        follower = await self.get(openid)
        follower.subscribed = False
        follower.state = None
        windows.close(follower)
        self.changed(follower)

    # --- customer-service windows (bot/windows.py) on the record --------------------------------

    def capacity(self, follower: Follower) -> int:
        return windows.capacity(follower, self.clock.now())

    def consume(self, follower: Follower) -> bool:
        spent = windows.spend(follower, self.clock.now())
        if spent:
            self.changed(follower)
        return spent

    def close_windows(self, follower: Follower) -> None:
        """The platform said no (45015/45047): nothing more until the follower acts again."""
        windows.close(follower)
        self.changed(follower)

    # --- writing -----------------------------------------------------------------------------

    def _values(self, follower: Follower, columns=COLUMNS) -> dict:
        return {c: getattr(follower, c) for c in columns}

    async def flush(self, session: AsyncSession) -> int:
        """Upsert the dirty followers in `session` (the caller commits; see `_rows` for which columns)."""
        if not self._dirty:
            return 0
        dirty, self._dirty = self._dirty, set()
        self.erasures.written.update(dirty)
        groups = self._rows(dirty)
        try:
            for rows, update in groups:
                # In chunks, like the message log: each chunk's parameters are prepared on the loop.
                for i in range(0, len(rows), FLUSH_CHUNK):
                    await upsert(session, rows[i:i + FLUSH_CHUNK], update)
        except BaseException:
            self._dirty |= dirty  # try again with the next batch
            raise
        return sum(len(rows) for rows, _ in groups)

    def _rows(self, openids: Iterable[str]) -> list[tuple[list[dict], tuple[str, ...] | None]]:
        """The rows to upsert, grouped by the columns they may change: all, or (several processes,
        a stand-in record) only what every message changes (a new row gets the others' defaults)."""
        full, touch = [], []
        touch_columns = ("openid", "first_seen", *TOUCH_COLUMNS)
        for o in openids:
            if (follower := self._cache.get(o)) is None:
                continue
            if self.shared is None and o not in self._provisional:
                full.append(self._values(follower))
            else:
                touch.append(self._values(follower, touch_columns))
        return [(rows, update) for rows, update in ((full, None), (touch, TOUCH_COLUMNS)) if rows]

    async def flush_apart(self, db) -> None:
        """Write the dirty records one part at a time after a batch was refused, dropping (and
        saying so) those the database refuses. Raises if the database is unavailable (they wait)."""
        dirty, self._dirty = self._dirty, set()
        for rows, update in self._rows(dirty):
            bad, unwritten = await write_apart(db, rows, lambda session, part, u=update: upsert(session, part, u))
            for row, e in bad:
                log.error("followers: the database refuses the record of %s; dropped: %s", logs.hashed(row["openid"]), e)
            if unwritten:
                self._dirty |= dirty - {r["openid"] for r, _ in bad}
                raise ConnectionError("the database became unavailable while writing follower records")

    async def sync(self, follower: Follower) -> None:
        """Several processes: write the shared columns now if they changed, and announce it.
        (One process: nothing to announce; the next batch writes them.)"""
        openid = follower.openid
        if self.shared is None or openid not in self._unsynced:
            return
        async with self._sync_locks.hold(openid):
            if openid not in self._unsynced:
                return
            self._unsynced.discard(openid)
            values = _shared_values(follower)
            try:
                self.erasures.written.add(openid)
                async with self.db.begin() as session:
                    await upsert(session, [self._values(follower)], SHARED_COLUMNS)
                await self._announce(openid)
            except BaseException:
                self._unsynced.add(openid)
                raise
            self._synced[openid] = values

    async def sync_pending(self) -> None:
        """Retry the `sync()`s that failed (the message-log writer calls this with each batch)."""
        for openid in list(self._unsynced):
            follower = self._cache.get(openid)
            if follower is None:
                self._unsynced.discard(openid)
                continue
            try:
                await self.sync(follower)
            except Exception:
                log.exception("followers: could not write the shared columns of %s; retrying", logs.hashed(openid))
                return

    async def _announce(self, openid: str) -> None:
        version = secrets.token_hex(8)
        await self.shared.set(version_key(openid), version, VERSION_TTL)
        self._version[openid] = version  # our own record is current

    async def save_now(self, follower: Follower) -> None:
        self.erasures.written.add(follower.openid)
        async with self.db.begin() as session:
            await upsert(session, [self._values(follower)])
        self._dirty.discard(follower.openid)
        if self.shared is not None:
            self._synced[follower.openid] = _shared_values(follower)
            self._unsynced.discard(follower.openid)
            await self._announce(follower.openid)

    async def forget(self, openid: str, erased_at: datetime) -> None:
        """The follower's row is being erased (`messagelog.forget`, at `erased_at`): drop the record
        here, leave the erasure's marker, and make the other processes read the row again."""
        self._drop(openid)
        await self.erasures.mark(openid, erased_at)
        if self.shared is not None:
            await self.shared.set(version_key(openid), secrets.token_hex(8), VERSION_TTL)

    def erased_seen(self, epoch: str | None, openids: set[str], erased: dict[str, datetime]) -> None:
        """The erasures up to `epoch` are dealt with for `openids`: drop the copies made before."""
        self.erasures.seen(epoch, openids)
        for openid, at in erased.items():
            follower = self._cache.get(openid)
            if follower is not None and follower.first_seen <= at:
                self._drop(openid)

    def unwritten(self) -> set[str]:
        """Followers whose record this process may still write (dirty or not yet synced)."""
        return self._dirty | self._unsynced

    def _drop(self, openid: str) -> None:
        self._cache.pop(openid, None)
        self._provisional.discard(openid)
        self._dirty.discard(openid)
        self._unsynced.discard(openid)
        self._version.pop(openid, None)
        self._loaded_at.pop(openid, None)
        self._synced.pop(openid, None)
