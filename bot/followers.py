"""Follower records: loaded once into memory, changed there, written behind in batches.

The hot path never waits for a database write: `get()` reads the row on a follower's first
message in this process, later changes only mark it dirty, and the message-log writer
(bot/messagelog.py) upserts dirty rows with its next batch (at least every second). Replies held
for a follower are the exception: `save_now()` writes them at once, so a crash cannot lose them.

With several processes (shared state other than memory) the columns split in two:
- what every message changes (last seen, the customer-service windows) stays written behind, and
  the batch updates only those columns, last writer wins: a window one process has not heard of
  makes it hold a reply it could have sent, and a quota two processes both spend is corrected
  by the platform's own 45015/45047, which makes the outbox hold instead of send;
- what other processes must see before the follower's next message — the conversation step,
  held replies, unsubscribing — is written when the request that changed it answers (`sync()`,
  awaited by the dispatcher; only such requests pay for it) and then announced by a new version
  under `follower:<openid>` in the shared state. `get()` compares that version (one shared-state
  read) with the one its cached record was read at, and re-reads the row only when it moved.
Erasing a follower (`messagelog.forget`, any process) also leaves a marker with the time of the
erasure and moves one epoch key; each batch reads that key, and only when it moved looks up the
markers of the followers it wrote, so a copy another process had not written yet is erased again
(`erased()`, used by bot/messagelog.py) instead of outliving the erasure.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Services
from bot.shared import NOT_READ, MemoryState, SqlState
from store.models.webhook import Follower

log = logging.getLogger(__name__)

CACHE_SIZE = 200_000
FLUSH_CHUNK = 500  # rows per upsert statement of a batch
# Several processes: a cached record is re-read at the latest after this long, and the version
# keys live twice as long, so an expired key can never vouch for a record read before a change.
SHARED_MAX_AGE = 3600.0
VERSION_TTL = 2 * SHARED_MAX_AGE

# Customer-service windows (wechat-api.md §3): what a follower's action lets us send.
MESSAGE_WINDOW = (timedelta(hours=48), 5)
EVENT_WINDOW = (timedelta(minutes=1), 3)
# Events that open the short window: menu clicks of the kinds that deliver an event, subscribe, scan.
WINDOW_EVENTS = {"click", "scancode_push", "scancode_waitmsg", "subscribe", "subscribe_scan", "scan"}
# Events that do not come from a follower at all (the platform's job reports).
SYSTEM_EVENTS = {"publishjobfinish", "masssendjobfinish", "templatesendjobfinish"}

COLUMNS = [c.key for c in Follower.__table__.columns]
# What other processes must see before the follower's next message (written by `sync()`).
SHARED_COLUMNS = ("subscribed", "state", "held")
# What every message changes (written behind; with several processes the last writer wins).
TOUCH_COLUMNS = tuple(c for c in COLUMNS if c not in ("openid", "first_seen", *SHARED_COLUMNS))


def from_follower(message: Any) -> bool:
    return not (message.type == "event" and (message.event or "").lower() in SYSTEM_EVENTS)


def version_key(openid: str) -> str:
    return f"follower:{openid}"


# Erasures: when each follower was erased, and an epoch that moves with every erasure.
ERASED_EPOCH_KEY = "followers:erased"


def erased_key(openid: str) -> str:
    return f"follower-erased:{openid}"


def _shared_values(follower: Follower) -> tuple:
    return tuple(getattr(follower, c) for c in SHARED_COLUMNS)


class FollowerStore:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.clock = services.clock
        self._cache: OrderedDict[str, Follower] = OrderedDict()
        self._dirty: set[str] = set()
        self._loading: dict[str, asyncio.Future] = {}
        # Several processes only: the version each cached record was read at, when it was read,
        # and its shared columns as last read or written (a change to them needs `sync()`).
        self.shared = None if isinstance(services.shared, MemoryState) else services.shared
        # Erasure markers must reach this process even on the embedded default, where
        # `main.py followers forget` is another process on the same SQLite file: they live in the
        # database's shared_kv table there (one read a batch, never on a reply's path).
        self.erasures = self.shared or SqlState(services.db, services.clock)
        self._version: dict[str, str | None] = {}
        self._loaded_at: dict[str, float] = {}
        self._synced: dict[str, tuple] = {}
        self._unsynced: set[str] = set()
        self._sync_locks: dict[str, asyncio.Lock] = {}
        # Records this process wrote since the last look at the erasures, and the epoch seen then.
        self.written: set[str] = set()
        self._erased_epoch: str | None = None

    def version_key_of(self, message: Any) -> str | None:
        """The shared key `get()` will read for this message's sender (None: it reads nothing), so
        the webhook can read it together with its dedupe claim."""
        if self.shared is None or not from_follower(message):
            return None
        return version_key(message.source)

    async def get(self, openid: str, version: object = NOT_READ) -> Follower:
        """The follower's record (a new, unsaved one for a stranger). `version`: the shared
        version, if the caller read it already (see `version_key_of`)."""
        follower = self._cache.get(openid)
        if self.shared is None:
            version = None
        else:
            if version is NOT_READ:
                version = await self._current_version(openid)
            if follower is not None and (
                self._version.get(openid, "") != version
                or self.clock.monotonic() - self._loaded_at.get(openid, 0) >= SHARED_MAX_AGE
            ):
                follower = None  # another process changed what we must see: read it again
        if follower is not None:
            self._cache.move_to_end(openid)
            return follower
        # One read per follower even when several of their messages arrive together.
        loading = self._loading.get(openid)
        if loading is not None:
            return await asyncio.shield(loading)
        loading = self._loading[openid] = asyncio.get_running_loop().create_future()
        try:
            follower = await self._load(openid, version)
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
        except Exception:  # the shared store is down: re-read the row, which is always right
            log.exception("followers: shared state unavailable, reading %s from the database", openid)
            return secrets.token_hex(8)

    async def _load(self, openid: str, version: str | None) -> Follower:
        async with self.services.db() as session:
            row = await session.get(Follower, openid)
        cached = self._cache.get(openid)
        if row is None:
            now = self.clock.now()
            row = Follower(
                openid=openid, subscribed=True, first_seen=now, last_seen=now,
                message_window_used=0, event_window_used=0, state=None, held=None,
            )
            self._dirty.add(openid)
        elif cached is not None and openid in self._dirty:
            # Re-read for the shared columns: keep what this process noted since its last batch.
            for c in TOUCH_COLUMNS:
                setattr(row, c, getattr(cached, c))
        self._cache[openid] = row
        self._cache.move_to_end(openid)
        if self.shared is not None:
            self._version[openid] = version
            self._loaded_at[openid] = self.clock.monotonic()
            self._synced[openid] = _shared_values(row)
            self._unsynced.discard(openid)
        while len(self._cache) > CACHE_SIZE:
            old, record = self._cache.popitem(last=False)
            if old in self._dirty or old in self._unsynced:  # not written yet: keep it until then
                self._cache[old] = record
                break
            self._drop(old)
        return row

    def changed(self, follower: Follower) -> None:
        openid = follower.openid
        self._dirty.add(openid)
        if self.shared is not None and _shared_values(follower) != self._synced.get(openid):
            self._unsynced.add(openid)

    def touch(self, follower: Follower, message: Any) -> None:
        """Record an inbound message or event: last seen, and the window it opens."""
        now = self.clock.now()
        follower.last_seen = now
        if message.type == "event":
            event = (message.event or "").lower()
            if event in ("subscribe", "subscribe_scan") and not follower.subscribed:
                follower.subscribed = True
            if event in WINDOW_EVENTS:
                # A new action resets the quota rather than adding to it (§3, unconfirmed).
                follower.event_window_at, follower.event_window_used = now, 0
        else:
            if not follower.subscribed:
                follower.subscribed = True  # only a follower can message us, whatever our record said
            follower.last_message_at = now
            follower.message_window_at, follower.message_window_used = now, 0
        self.changed(follower)

    async def unsubscribe(self, openid: str) -> None:
        follower = await self.get(openid)
        follower.subscribed = False
        follower.state = None
        follower.message_window_at = follower.event_window_at = None
        self.changed(follower)

    # --- customer-service windows --------------------------------------------------------------

    def _windows(self, follower: Follower) -> list[tuple[str, int]]:
        """Open windows with what is left in each, the short one first (it expires sooner)."""
        now = self.clock.now()
        found = []
        for prefix, (span, quota) in (("event", EVENT_WINDOW), ("message", MESSAGE_WINDOW)):
            opened: datetime | None = getattr(follower, f"{prefix}_window_at")
            used: int = getattr(follower, f"{prefix}_window_used") or 0
            if opened is not None and now - opened < span and used < quota:
                found.append((prefix, quota - used))
        return found

    def capacity(self, follower: Follower) -> int:
        """How many customer-service messages the platform would still take for this follower.
        Both windows count (a message then a click: unconfirmed whether they add up; we assume so
        and let 45047 from the platform correct us)."""
        if not follower.subscribed:
            return 0
        return sum(left for _, left in self._windows(follower))

    def consume(self, follower: Follower) -> bool:
        if not follower.subscribed:
            return False
        for prefix, _ in self._windows(follower):
            attr = f"{prefix}_window_used"
            setattr(follower, attr, (getattr(follower, attr) or 0) + 1)
            self.changed(follower)
            return True
        return False

    def close_windows(self, follower: Follower) -> None:
        """The platform said no (45015/45047): nothing more until the follower acts again."""
        follower.message_window_at = follower.event_window_at = None
        self.changed(follower)

    # --- writing -----------------------------------------------------------------------------

    def _values(self, follower: Follower, columns=COLUMNS) -> dict:
        return {c: getattr(follower, c) for c in columns}

    async def flush(self, session: AsyncSession) -> int:
        """Upsert the dirty followers in `session` (the caller commits). With several processes
        only the columns every message changes are written (a new row gets the others' defaults
        until `sync()` writes them)."""
        if not self._dirty:
            return 0
        dirty, self._dirty = self._dirty, set()
        columns, update = COLUMNS, None
        if self.shared is not None:
            columns, update = ("openid", "first_seen", *TOUCH_COLUMNS), TOUCH_COLUMNS
        rows = [self._values(self._cache[o], columns) for o in dirty if o in self._cache]
        self.written.update(dirty)
        try:
            # In chunks, like the message log: each chunk's parameters are prepared on the loop.
            for i in range(0, len(rows), FLUSH_CHUNK):
                await upsert(session, rows[i:i + FLUSH_CHUNK], update)
        except BaseException:
            self._dirty |= dirty  # try again with the next batch
            raise
        return len(rows)

    async def sync(self, follower: Follower) -> None:
        """Several processes: write the shared columns now if they changed, and announce it.
        (One process: nothing to announce; the next batch writes them.)"""
        openid = follower.openid
        if self.shared is None or openid not in self._unsynced:
            return
        lock = self._sync_locks.setdefault(openid, asyncio.Lock())
        async with lock:
            if openid not in self._unsynced:
                return
            self._unsynced.discard(openid)
            values = _shared_values(follower)
            try:
                self.written.add(openid)
                async with self.services.db.begin() as session:
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
                log.exception("followers: could not write the shared columns of %s; retrying", openid)
                return

    async def _announce(self, openid: str) -> None:
        version = secrets.token_hex(8)
        await self.shared.set(version_key(openid), version, VERSION_TTL)
        self._version[openid] = version  # our own record is current

    async def save_now(self, follower: Follower) -> None:
        self.written.add(follower.openid)
        async with self.services.db.begin() as session:
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
        await self.erasures.set(erased_key(openid), erased_at.isoformat(), VERSION_TTL)
        await self.erasures.set(ERASED_EPOCH_KEY, secrets.token_hex(8))
        if self.shared is not None:
            await self.shared.set(version_key(openid), secrets.token_hex(8), VERSION_TTL)

    async def erased(self, openids: Iterable[str]) -> tuple[str | None, dict[str, datetime]]:
        """(epoch, {openid: erased at}) for those of `openids` erased since the epoch last passed
        to `erased_seen()`: one shared-state read unless something was erased meanwhile."""
        epoch = await self.erasures.get(ERASED_EPOCH_KEY)
        if epoch == self._erased_epoch:
            return epoch, {}
        found = {}
        for openid in openids:
            value = await self.erasures.get(erased_key(openid))
            if value:
                found[openid] = datetime.fromisoformat(value)
        return epoch, found

    def erased_seen(self, epoch: str | None, openids: set[str], erased: dict[str, datetime]) -> None:
        """The erasures up to `epoch` are dealt with for `openids`: drop the copies made before."""
        self._erased_epoch = epoch
        self.written -= openids
        for openid, at in erased.items():
            follower = self._cache.get(openid)
            if follower is not None and follower.first_seen <= at:
                self._drop(openid)

    def unwritten(self) -> set[str]:
        """Followers whose record this process may still write (dirty or not yet synced)."""
        return self._dirty | self._unsynced

    def _drop(self, openid: str) -> None:
        self._cache.pop(openid, None)
        self._dirty.discard(openid)
        self._unsynced.discard(openid)
        self._version.pop(openid, None)
        self._loaded_at.pop(openid, None)
        self._synced.pop(openid, None)
        self._sync_locks.pop(openid, None)


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


def of(services: Services) -> FollowerStore:
    """The process's follower store (one per Services)."""
    store = services.extra.get("webhook.followers")
    if store is None:
        store = services.extra["webhook.followers"] = FollowerStore(services)
    return store
