"""Follower records: loaded once into memory, changed there, written behind in batches.

The hot path never waits for a database write: `get()` reads the row on a follower's first
message in this process, later changes only mark it dirty, and the message-log writer
(bot/messagelog.py) upserts dirty rows with its next batch (at least every second). Replies held
for a follower are the exception: `save_now()` writes them at once, so a crash cannot lose them.

With several processes (shared state other than memory) a record is re-read when it is older than
`SHARED_MAX_AGE` seconds and not dirty, so what another process changed shows up soon; two
processes changing one follower within that time may overwrite each other's window counters
(the platform's own 45015/45047 answer then makes the outbox hold instead of send).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Services
from bot.shared import MemoryState
from store.models.webhook import Follower

SHARED_MAX_AGE = 2.0
CACHE_SIZE = 200_000

# Customer-service windows (wechat-api.md §3): what a follower's action lets us send.
MESSAGE_WINDOW = (timedelta(hours=48), 5)
EVENT_WINDOW = (timedelta(minutes=1), 3)
# Events that open the short window: menu clicks of the kinds that deliver an event, subscribe, scan.
WINDOW_EVENTS = {"click", "scancode_push", "scancode_waitmsg", "subscribe", "subscribe_scan", "scan"}
# Events that do not come from a follower at all (the platform's job reports).
SYSTEM_EVENTS = {"publishjobfinish", "masssendjobfinish", "templatesendjobfinish"}

COLUMNS = [c.key for c in Follower.__table__.columns]


def from_follower(message: Any) -> bool:
    return not (message.type == "event" and (message.event or "").lower() in SYSTEM_EVENTS)


class FollowerStore:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.clock = services.clock
        self._cache: OrderedDict[str, Follower] = OrderedDict()
        self._loaded_at: dict[str, float] = {}
        self._dirty: set[str] = set()
        self._loading: dict[str, asyncio.Future] = {}
        self.max_age = None if isinstance(services.shared, MemoryState) else SHARED_MAX_AGE

    async def get(self, openid: str) -> Follower:
        """The follower's record (a new, unsaved one for a stranger)."""
        follower = self._cache.get(openid)
        if follower is not None and (
            self.max_age is None
            or openid in self._dirty
            or self.clock.monotonic() - self._loaded_at.get(openid, 0) < self.max_age
        ):
            self._cache.move_to_end(openid)
            return follower
        # One read per follower even when several of their messages arrive together.
        loading = self._loading.get(openid)
        if loading is not None:
            return await asyncio.shield(loading)
        loading = self._loading[openid] = asyncio.get_running_loop().create_future()
        try:
            follower = await self._load(openid)
            loading.set_result(follower)
        except BaseException as e:
            loading.set_exception(e)
            loading.exception()  # retrieved: waiters get it, nobody else must
            raise
        finally:
            del self._loading[openid]
        return follower

    async def _load(self, openid: str) -> Follower:
        async with self.services.db() as session:
            row = await session.get(Follower, openid)
        if row is None:
            now = self.clock.now()
            row = Follower(
                openid=openid, subscribed=True, first_seen=now, last_seen=now,
                message_window_used=0, event_window_used=0, state=None, held=None,
            )
            self._dirty.add(openid)
        self._cache[openid] = row
        self._loaded_at[openid] = self.clock.monotonic()
        while len(self._cache) > CACHE_SIZE:
            old, _ = self._cache.popitem(last=False)
            if old in self._dirty:  # not written yet: keep it until the next batch
                self._cache[old] = _
                break
            self._loaded_at.pop(old, None)
        return row

    def changed(self, follower: Follower) -> None:
        self._dirty.add(follower.openid)

    def touch(self, follower: Follower, message: Any) -> None:
        """Record an inbound message or event: last seen, and the window it opens."""
        now = self.clock.now()
        follower.last_seen = now
        if message.type == "event":
            event = (message.event or "").lower()
            if event in ("subscribe", "subscribe_scan"):
                follower.subscribed = True
            if event in WINDOW_EVENTS:
                # A new action resets the quota rather than adding to it (§3, unconfirmed).
                follower.event_window_at, follower.event_window_used = now, 0
        else:
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

    def _values(self, follower: Follower) -> dict:
        return {c: getattr(follower, c) for c in COLUMNS}

    async def flush(self, session: AsyncSession) -> int:
        """Upsert the dirty followers in `session` (the caller commits)."""
        if not self._dirty:
            return 0
        dirty, self._dirty = self._dirty, set()
        rows = [self._values(self._cache[o]) for o in dirty if o in self._cache]
        try:
            await upsert(session, rows)
        except BaseException:
            self._dirty |= dirty  # try again with the next batch
            raise
        now = self.clock.monotonic()
        for o in dirty:
            self._loaded_at[o] = now
        return len(rows)

    async def save_now(self, follower: Follower) -> None:
        async with self.services.db.begin() as session:
            await upsert(session, [self._values(follower)])
        self._dirty.discard(follower.openid)

    def forget(self, openid: str) -> None:
        self._cache.pop(openid, None)
        self._loaded_at.pop(openid, None)
        self._dirty.discard(openid)


async def upsert(session: AsyncSession, rows: list[dict]) -> None:
    if not rows:
        return
    if session.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(Follower)
    stmt = stmt.on_conflict_do_update(
        index_elements=["openid"],
        set_={c: stmt.excluded[c] for c in COLUMNS if c not in ("openid", "first_seen")},
    )
    await session.execute(stmt, rows)


def of(services: Services) -> FollowerStore:
    """The process's follower store (one per Services)."""
    store = services.extra.get("webhook.followers")
    if store is None:
        store = services.extra["webhook.followers"] = FollowerStore(services)
    return store


