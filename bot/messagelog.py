"""The message log: every inbound message and every reply, with timing.

`record()` only appends to a list; a background writer inserts the list in one transaction at
least every `[log] flush_seconds` (together with the dirty follower records, bot/followers.py),
so no reply waits for a database write. A clean shutdown flushes everything; a hard crash loses
at most the batch not yet written. `purge_old()` applies `[log] retention_days` (a daily job),
`forget()` erases one follower on request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from sqlalchemy import delete, insert, select

from bot import followers
from bot.context import Services
from store.models.webhook import Follower, MessageLog

log = logging.getLogger(__name__)

CHUNK = 500  # rows per statement of a batch (see flush)
MAX_PENDING = 500_000  # if the database is down for long, keep the newest rows, not all of memory


class LogWriter:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.pending: list[dict] = []
        self._task: asyncio.Task | None = None
        self._stopping = asyncio.Event()
        self._lock = asyncio.Lock()
        self._written: set[str] = set()  # followers with rows written since the last erasure check

    def record(
        self,
        openid: str,
        direction: str,
        channel: str,
        msg_type: str,
        content: str = "",
        msg_key: str | None = None,
        elapsed_ms: float | None = None,
    ) -> None:
        self.pending.append({
            "at": self.services.clock.now(), "openid": openid, "direction": direction,
            "channel": channel, "msg_type": msg_type, "content": content, "msg_key": msg_key,
            "elapsed_ms": elapsed_ms,
        })
        if len(self.pending) > MAX_PENDING:
            del self.pending[: len(self.pending) - MAX_PENDING]

    async def flush(self) -> int:
        """Write what is pending (log rows and dirty followers); returns the rows written."""
        async with self._lock:
            rows, self.pending = self.pending, []
            store = followers.of(self.services)
            try:
                async with self.services.db.begin() as session:
                    # Core, not the ORM's bulk insert (no per-row mapper work), and in chunks: the
                    # bind parameters are prepared on the event loop, and a whole second's rows at
                    # once stalled it for tens of milliseconds (the webhook's p99).
                    for i in range(0, len(rows), CHUNK):
                        await session.execute(insert(MessageLog.__table__), rows[i:i + CHUNK])
                    await store.flush(session)
            except BaseException:
                self.pending[:0] = rows  # keep them for the next attempt
                raise
            self._written.update(r["openid"] for r in rows)
            await self._erase_again(store)
            await store.sync_pending()
            return len(rows)

    async def _erase_again(self, store: followers.FollowerStore) -> None:
        """Another process erased a follower (`forget()`) whose rows or record this one had not
        written yet: erase what it wrote since, and what it still holds, from before the erasure.
        Looked at after the commit: a batch committed before the erasure's delete is gone with it,
        and one committed after is found here, since the marker is set before the delete.
        (Times compare the processes' clocks: rows within their skew of the erasure may go either way.)"""
        openids = self._written | store.written | store.unwritten() | {r["openid"] for r in self.pending}
        epoch, erased = await store.erased(openids)
        if erased:
            async with self.services.db.begin() as session:
                for openid, at in erased.items():
                    await session.execute(delete(MessageLog).where(MessageLog.openid == openid, MessageLog.at <= at))
                    await session.execute(
                        delete(Follower).where(Follower.openid == openid, Follower.first_seen <= at)
                    )
            self.pending = [r for r in self.pending if not (r["openid"] in erased and r["at"] <= erased[r["openid"]])]
        store.erased_seen(epoch, openids, erased)
        self._written -= openids

    async def _run(self) -> None:
        # The cadence is wall time on purpose: it is batching, not a deadline a test would move.
        interval = self.services.settings.log.flush_seconds
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), interval)
            try:
                await self.flush()
            except Exception:
                log.exception("message log: batch not written, retrying with the next one")

    def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name="message-log-writer")

    async def stop(self) -> None:
        """Stop the writer and flush whatever is left."""
        if self._task is not None:
            self._stopping.set()
            await self._task
            self._task = None
        await self.flush()


def of(services: Services) -> LogWriter:
    writer = services.extra.get("webhook.messagelog")
    if writer is None:
        writer = services.extra["webhook.messagelog"] = LogWriter(services)
    return writer


async def purge_old(services: Services) -> int:
    """Delete log rows older than `[log] retention_days`; returns how many went."""
    cutoff = services.clock.now() - timedelta(days=services.settings.log.retention_days)
    async with services.db.begin() as session:
        result = await session.execute(delete(MessageLog).where(MessageLog.at < cutoff))
    return result.rowcount or 0


async def forget(services: Services, openid: str) -> int:
    """Erase a follower's messages, replies, record and conversation state; returns log rows erased."""
    writer = of(services)
    writer.pending = [r for r in writer.pending if r["openid"] != openid]
    store = followers.of(services)
    erased_at = services.clock.now()
    # Before the delete, so no batch writes the record back meanwhile, and other processes' batches
    # committed after the delete find the marker (LogWriter._erase_again)...
    await store.forget(openid, erased_at)
    async with services.db.begin() as session:
        result = await session.execute(delete(MessageLog).where(MessageLog.openid == openid))
        await session.execute(delete(Follower).where(Follower.openid == openid))
    await store.forget(openid, erased_at)  # ...and after it, so they read the row (now gone) again
    return result.rowcount or 0


async def tail(services: Services, n: int = 20, openid: str | None = None) -> list[MessageLog]:
    """The last `n` entries (optionally of one follower), oldest first."""
    query = select(MessageLog).order_by(MessageLog.id.desc()).limit(n)
    if openid:
        query = query.where(MessageLog.openid == openid)
    async with services.db() as session:
        rows = list((await session.execute(query)).scalars())
    return rows[::-1]
