"""The message log: every inbound message and every reply, with timing.

`record()` only appends to a list; a background writer inserts the list in one transaction at
least every `[log] flush_seconds` (together with the dirty follower records, bot/followers.py),
so no reply waits for a database write. The writer runs as long as the process's services
(`running()`, entered by app.py's `open_services`), so every process that sends — `serve`,
`push run`, any command — writes what it recorded before it exits.

Nothing one row does can stop the others: values are cut to their columns when recorded, and a
batch the database refuses is written again in halves until the refused rows stand alone; those
are dropped with a logged reason. While the database is unavailable (down, locked) the rows wait
in memory (the newest `MAX_PENDING`) and go with the first batch after it is back; the log says
when it went and when it came back, not every second. `in_trouble()` tells the dispatcher that
the database is not answering. `purge_old()` applies `[log] retention_days` (a daily job),
`forget()` erases one follower on request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import String, delete, insert, select

from bot.followers import FollowerStore
from core import metrics
from store.db import SessionFactory, refused, unavailable, write_apart
from store.models.webhook import Follower, MessageLog

if TYPE_CHECKING:
    from core.clock import Clock
    from core.config import LogSettings
    from core.services import Services

log = logging.getLogger(__name__)

CHUNK = 500  # rows per statement of a batch (see flush)
# Memory: rows wait at most one `[log] flush_seconds` while the database answers; while it does not,
# the newest MAX_PENDING (~0.5 KB each, ~250 MB at the most), the older ones dropped and counted
# (wxbot_evictions_total{map="message_log"}).
MAX_PENDING = 500_000
# A batch waiting this long for the database means it is not answering (a normal one takes ms).
STALL_SECONDS = 1.0
# At shutdown, how long the last batch may wait for the database.
STOP_SECONDS = 5.0
# Column widths: a value longer than its column is cut, not refused with the whole batch.
WIDTHS = {
    c.name: c.type.length for c in MessageLog.__table__.columns
    if isinstance(c.type, String) and c.type.length
}


def _write_rows(session, rows: list[dict]):
    return session.execute(insert(MessageLog.__table__), rows)


class LogWriter:
    def __init__(self, db: SessionFactory, clock: Clock, settings: LogSettings,
                 followers: FollowerStore) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.followers = followers
        self.pending: list[dict] = []
        self._task: asyncio.Task | None = None
        self._stopping = asyncio.Event()
        self._lock = asyncio.Lock()
        self._written: set[str] = set()  # followers with rows written since the last erasure check
        self._flush_started: float | None = None  # time.monotonic() of the batch under way
        self._down_since: float | None = None  # the database failed the last batch (and when it began)
        self._dropped = 0  # rows dropped for want of memory during this outage

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
        row = {
            "at": self.clock.now(), "openid": openid, "direction": direction,
            "channel": channel, "msg_type": msg_type, "content": content, "msg_key": msg_key,
            "elapsed_ms": elapsed_ms,
        }
        for name, width in WIDTHS.items():
            value = row[name]
            if value is not None and len(value) > width:
                row[name] = value[:width]
        if "\x00" in content:  # PostgreSQL text cannot hold NUL
            row["content"] = content.replace("\x00", "")
        self.pending.append(row)
        if len(self.pending) > MAX_PENDING:
            excess = len(self.pending) - MAX_PENDING
            del self.pending[:excess]
            if not self._dropped:
                log.error("message log: more than %d rows wait for the database; dropping the oldest",
                          MAX_PENDING)
            self._dropped += excess
            metrics.EVICTIONS.labels("message_log").inc(excess)

    def in_trouble(self) -> bool:
        """Whether the database is not answering now: the last batch failed for want of it, or the
        batch under way has waited longer than STALL_SECONDS."""
        if self._down_since is not None:
            return True
        started = self._flush_started
        return started is not None and time.monotonic() - started > STALL_SECONDS

    async def flush(self) -> int:
        """Write what is pending (log rows and dirty followers); returns the rows written. Raises
        only when the database is unavailable (the rows then stay pending for the next attempt)."""
        async with self._lock:
            self._flush_started = time.monotonic()
            try:
                written = await self._flush()
            except Exception as e:
                metrics.MESSAGELOG_FAILURES.inc()
                if self._down_since is None:
                    self._down_since = time.monotonic()
                    log.error("message log: database unavailable (%s); keeping %d rows until it is back",
                              e, len(self.pending), exc_info=not unavailable(e))
                raise
            finally:
                self._flush_started = None
            if self._down_since is not None:
                log.warning("message log: database back after %.0f s; wrote %d rows kept meanwhile%s",
                            time.monotonic() - self._down_since, written,
                            f" ({self._dropped} older ones dropped)" if self._dropped else "")
                self._down_since, self._dropped = None, 0
            return written

    async def _flush(self) -> int:
        rows, self.pending = self.pending, []
        store = self.followers
        try:
            async with self.db.begin() as session:
                # Core, not the ORM's bulk insert (no per-row mapper work), and in chunks: the
                # bind parameters are prepared on the event loop, and a whole second's rows at
                # once stalled it for tens of milliseconds (the webhook's p99).
                for i in range(0, len(rows), CHUNK):
                    await _write_rows(session, rows[i:i + CHUNK])
                await store.flush(session)
        except BaseException as e:
            if not isinstance(e, Exception) or unavailable(e):
                self.pending[:0] = rows  # keep them for the next attempt
                raise
            return await self._write_apart(rows, store, e)
        self._written.update(r["openid"] for r in rows)
        await self._after_commit(store)
        return len(rows)

    async def _after_commit(self, store: FollowerStore) -> None:
        try:
            await self._erase_again(store)
            await store.sync_pending()
        except Exception as e:  # written already; the erasure check runs again with the next batch
            log.warning("message log: erasure check not done (%s); retrying with the next batch", e)

    async def _write_apart(self, rows: list[dict], store: FollowerStore,
                           error: BaseException) -> int:
        """The batch was refused as a whole: write log rows and follower records apart, so that
        only the rows the database refuses are left out (and said so). Returns the rows written."""
        log.warning("message log: batch of %d rows refused (%s); writing it apart", len(rows), error)
        bad, unwritten = await write_apart(self.db, rows, _write_rows)
        if unwritten:  # the database went away meanwhile: the rest waits
            self.pending[:0] = unwritten
        if bad and len(bad) == len(rows) and not all(refused(e) for _, e in bad):
            # Every row failed alike, for no reason that is about the rows: the database is the
            # problem (a missing table, say), not them. Keep them.
            self.pending[:0] = rows
            raise bad[0][1]
        for row, e in bad:
            log.error("message log: dropped a row the database refuses (%s %s %s from %s at %s): %s",
                      row["direction"], row["channel"], row["msg_type"], row["openid"], row["at"], e)
        lost = {id(r) for r, _ in bad} | {id(r) for r in unwritten}
        written = [r for r in rows if id(r) not in lost]
        self._written.update(r["openid"] for r in written)
        await store.flush_apart(self.db)  # raises if the database went away meanwhile
        await self._after_commit(store)
        return len(written)

    async def _erase_again(self, store: FollowerStore) -> None:
        """Another process erased a follower (`forget()`) whose rows or record this one had not
        written yet: erase what it wrote since, and what it still holds, from before the erasure.
        Looked at after the commit: a batch committed before the erasure's delete is gone with it,
        and one committed after is found here, since the marker is set before the delete.
        (Times compare the processes' clocks: rows within their skew of the erasure may go either way.)"""
        openids = self._written | store.erasures.written | store.unwritten() | {r["openid"] for r in self.pending}
        if not openids:
            return
        epoch, erased = await store.erasures.since(openids)
        if erased:
            async with self.db.begin() as session:
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
        interval = self.settings.flush_seconds
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), interval)
            try:
                await self.flush()
            except Exception:  # said once when it began (flush); the next turn tries again
                pass

    def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name="message-log-writer")

    async def stop(self) -> None:
        """Stop the writer and write whatever is left (waiting at most STOP_SECONDS)."""
        if self._task is not None:
            self._stopping.set()
            await self._task
            self._task = None
        await self.flush_quietly()

    async def flush_quietly(self, timeout: float = STOP_SECONDS) -> None:
        """`flush()` that waits at most `timeout` and never raises: what cannot be written is
        said in the log (at shutdown it is then lost)."""
        flushing = asyncio.ensure_future(self.flush())
        try:
            await asyncio.wait_for(asyncio.shield(flushing), timeout)
            return
        except TimeoutError:
            flushing.add_done_callback(lambda t: t.cancelled() or t.exception())
            reason = f"the database did not answer within {timeout:.0f} s"
        except Exception as e:
            reason = str(e)
        log.error("message log: %d rows and %d follower records not written (%s)",
                  len(self.pending), len(self.followers.unwritten()), reason)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[LogWriter]:
        """The writer running while the block runs, and flushed when it ends (app.open_services)."""
        self.start()
        try:
            yield self
        finally:
            await self.stop()


async def purge_old(services: Services) -> int:
    """Delete log rows older than `[log] retention_days`; returns how many went."""
    cutoff = services.clock.now() - timedelta(days=services.settings.log.retention_days)
    async with services.db.begin() as session:
        result = await session.execute(delete(MessageLog).where(MessageLog.at < cutoff))
    return result.rowcount or 0


async def forget(services: Services, openid: str) -> int:
    """Erase a follower's messages, replies, record and conversation state; returns log rows erased."""
    writer = services.messagelog
    writer.pending = [r for r in writer.pending if r["openid"] != openid]
    store = services.followers
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
