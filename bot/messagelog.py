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
            await store.sync_pending()
            return len(rows)

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
    await store.forget(openid)  # before the delete, so no batch writes the record back meanwhile
    async with services.db.begin() as session:
        result = await session.execute(delete(MessageLog).where(MessageLog.openid == openid))
        await session.execute(delete(Follower).where(Follower.openid == openid))
    await store.forget(openid)  # and after it, so other processes read the row (now gone) again
    return result.rowcount or 0


async def tail(services: Services, n: int = 20, openid: str | None = None) -> list[MessageLog]:
    """The last `n` entries (optionally of one follower), oldest first."""
    query = select(MessageLog).order_by(MessageLog.id.desc()).limit(n)
    if openid:
        query = query.where(MessageLog.openid == openid)
    async with services.db() as session:
        rows = list((await session.execute(query)).scalars())
    return rows[::-1]
