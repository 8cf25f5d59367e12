"""Exactly once under WeChat's retries (被动回复用户消息: without an answer within 5 seconds WeChat drops
the connection and sends again, three times in all; dedupe by MsgId, or FromUserName + CreateTime).

The first delivery of a message claims its key and produces the answer; a retry never runs the
handler again. While the first attempt is still running, a retry waits for it; afterwards it gets
the same answer, kept for `[server] dedupe_ttl_seconds` (30 s by default, 20 at the least: WeChat's
three tries, five seconds apart; see core/config.py).

In-process attempts meet in a map of futures (the hot path never leaves memory). With several
processes the claim goes through the shared state (`add` = set-if-absent): the winner stores
"done:<answer>" when it has one, and a loser polls for it until the reply budget runs out (then
answers `success`, as the first attempt will have done or will do).

The claim can carry one more read (`read=`, e.g. the sender's record version) in the same round
trip; `produce` gets its value, or NOT_READ. Answers are stored behind the reply, those that
finish together in one batch (a retry on another process polls until its answer lands);
`drain()` waits for those writes at shutdown.

Replays: a signed query string (signature, timestamp, nonce) stays valid for the whole timestamp
window, and in plain mode nothing signs the body. WeChat's own retries repeat query and body
together, so each signed query is remembered with a digest of its body (`signed=`) for twice the
window (a timestamp may be that far from the time it is used), and a query that comes back with
another body is refused (`Replayed`, 403). One process: in memory. Several: in the shared state,
in the same round trip as the claim (and on its own when a retry is answered from memory).

Memory: both per-process maps are bounded by time and by size (MAX_ANSWERS, MAX_QUERIES), the
oldest evicted first and counted (`wxbot_evictions_total{map=…}`). An evicted answer still dedupes
through the shared state when several processes run (one process: a retry that late is handled
anew). An evicted signed query would let a replay through, so its timestamp becomes a floor: a
query signed at or before it that is not remembered is refused — under a burst the replay window
shrinks to what the map holds (MAX_QUERIES at ~5,000 messages/s: about 20 s, past WeChat's retries).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from core import metrics
from core.clock import Clock
from core.shared import NOT_READ, SharedState
from store.shared import MemoryState
from wechat import protocol
from wechat.protocol import Rejected
from wechat.render import SUCCESS

log = logging.getLogger(__name__)

PENDING = "pending"
DONE = "done:"
# A claim still pending lives until the claimant's reply budget ends and this much longer (its answer
# is stored behind the reply): a process killed mid-message leaves a claim that WeChat's next retry
# outlives, so that retry answers instead of waiting for an answer that will never come.
PENDING_MARGIN_SECONDS = 1.0
# Size bounds of the per-process maps (besides their times). A finished answer costs about 1 KB
# (its key, the reply XML, the entry), a signed query about 0.3 KB: at most ~100 MB and ~30 MB.
# At the bench's rate (~5,000 messages/s) 100,000 answers hold 20 s, WeChat's retries and a margin.
MAX_ANSWERS = 100_000
MAX_QUERIES = 100_000


def key_of(message: Any) -> str:
    """MsgId for messages; for events sender + CreateTime + Event + EventKey, plus publish_id or
    MsgID for job-finish events (they all come from one platform sender, several per second)."""
    data = protocol.fields(message)
    if message.type != "event":
        msg_id = data.get("MsgId")
        if msg_id:
            return f"m:{msg_id}"
        return f"m:{message.source}|{data.get('CreateTime')}|{message.type}"
    parts = [
        message.source,
        str(data.get("CreateTime", "")),
        str(data.get("Event", "")),
        str(data.get("EventKey") or ""),
        str(getattr(message, "dedupe_part", "")),
    ]
    return "e:" + "|".join(parts)


class _NotYet(Exception):
    """Another process holds the claim and had no answer by our deadline: `success` now, and nothing
    remembered, so that a later retry asks again (the claim of a process that died expires)."""


class Replayed(Rejected):
    def __init__(self) -> None:
        super().__init__(403, "signed query replayed with another body")


# A signed query as the webhook saw it: (signature, digest of the body).
Signed = tuple[str, str]


class Dedupe:
    def __init__(
        self, shared: SharedState, clock: Clock, ttl: float, poll: float = 0.05, query_ttl: float = 600.0,
        max_answers: int = MAX_ANSWERS, max_queries: int = MAX_QUERIES,
    ) -> None:
        self.clock = clock
        self.ttl = ttl
        self.poll = poll
        self.query_ttl = query_ttl
        self.max_answers = max_answers
        self.max_queries = max_queries
        # One process: signature → (body digest, expiry, signed at), oldest first (one ttl for all,
        # so the insertion order is the expiry order). Both maps are OrderedDicts because they are
        # emptied from the front: a plain dict finds its first item by stepping over every slot
        # deleted since its last resize (tens of µs a message at the bench's rate, and an expiry
        # of thousands at once after a pause took a second).
        self._queries: OrderedDict[str, tuple[str, float, int]] = OrderedDict()
        # The latest timestamp of a signed query evicted for size (see the module's docstring).
        self._query_floor = -1
        # One process only: the in-memory map is the whole story, no second copy in the shared state.
        self.shared = None if isinstance(shared, MemoryState) else shared
        # key → (the in-flight future, or the finished answer, expiry). A finished entry keeps only
        # the answer string: minutes of futures at thousands a second made every full garbage
        # collection walk them (the webhook's p99 stalls); a (str, float) tuple is not tracked.
        self._seen: OrderedDict[str, tuple[asyncio.Future | str, float]] = OrderedDict()
        # Answers produced but not yet in the shared state (skey → "done:…"), and the one task
        # writing them: whatever finishes while a batch is on its way goes in the next batch.
        self._unstored: dict[str, str] = {}
        self._writer: asyncio.Task | None = None

    async def once(
        self,
        key: str,
        produce: Callable[[object], Awaitable[str]],
        deadline: float,
        read: str | None = None,
        signed: Signed | None = None,
        signed_at: int | None = None,
    ) -> str:
        """The answer for `key`: produced by this call if it is the first, else the first one's.
        `deadline` (clock.monotonic()) bounds how long we wait for another process's answer.
        `produce` gets the shared value under `read` if it was read with the claim, else NOT_READ.
        `signed`: the request's signed query, refused (`Replayed`) if it came before with another body;
        `signed_at`: its timestamp (for the floor of evicted queries; None: the floor is not applied)."""
        now = self.clock.monotonic()
        self._expire(now)
        if signed is not None and self.shared is None:
            self._note_locally(signed, now, signed_at)
        seen = self._seen.get(key)
        if seen is not None:
            metrics.DEDUPE_HITS.labels("memory").inc()
            if signed is not None and self.shared is not None:
                await self._note_shared(signed)
            if isinstance(seen[0], str):
                return seen[0]
            try:
                return await asyncio.shield(seen[0])
            except Replayed:  # that attempt was a forgery with this key, not ours: try ourselves
                return await self.once(key, produce, deadline, read, signed, signed_at)
        future = asyncio.get_running_loop().create_future()
        self._seen[key] = (future, now + self.ttl)
        self._bound_answers()
        try:
            answer = await self._claim_and_produce(key, produce, deadline, read, signed)
        except _NotYet:
            self._seen.pop(key, None)
            future.set_result(SUCCESS)
            return SUCCESS
        except BaseException as e:
            # Nothing to replay: let a retry try again, and tell anyone waiting now.
            self._seen.pop(key, None)
            future.set_exception(e)
            future.exception()
            raise
        future.set_result(answer)
        self._seen[key] = (answer, now + self.ttl)
        return answer

    def _note_locally(self, signed: Signed, now: float, signed_at: int | None) -> None:
        signature, digest = signed
        known = self._queries.get(signature)
        if known is None:
            at = -1 if signed_at is None else signed_at
            if signed_at is not None and at <= self._query_floor:
                raise Replayed()  # perhaps one of the queries evicted for size: not taken on trust
            self._queries[signature] = (digest, now + self.query_ttl, at)
            while len(self._queries) > self.max_queries:
                _, (_, _, evicted_at) = _pop_first(self._queries)
                self._query_floor = max(self._query_floor, evicted_at)
                metrics.EVICTIONS.labels("signed_queries").inc()
        elif known[0] != digest:
            raise Replayed()

    def _bound_answers(self) -> None:
        """Evict the oldest finished answers beyond `max_answers`; one still in flight (at most a reply
        budget old) goes to the back instead, since its retries wait for it."""
        for _ in range(len(self._seen)):
            if len(self._seen) <= self.max_answers:
                return
            key, entry = _pop_first(self._seen)
            if isinstance(entry[0], str) or entry[0].done():
                metrics.EVICTIONS.labels("dedupe_answers").inc()
            else:
                self._seen[key] = entry

    def _once_args(self, signed: Signed) -> tuple[str, str, float]:
        return f"query:{signed[0]}", signed[1], self.query_ttl

    async def _note_shared(self, signed: Signed) -> None:
        try:
            fresh = await self.shared.note_once(*self._once_args(signed))
        except Exception as e:  # the shared store is down: this process's dedupe still holds
            log.warning("dedupe: shared state unavailable (%s); signed query not checked", e)
            return
        if not fresh:
            raise Replayed()

    async def replayed(self, signed: Signed) -> bool:
        """Whether this signed query came before with another body (checked, not noted: for a body
        that is refused anyway, so that a replay is told as one)."""
        signature, digest = signed
        if self.shared is None:
            known = self._queries.get(signature)
            return known is not None and known[0] != digest
        try:
            prior = await self.shared.get(f"query:{signature}")
        except Exception:
            return False
        return prior is not None and prior != digest

    async def _claim_and_produce(
        self, key: str, produce, deadline: float, read: str | None, signed: Signed | None
    ) -> str:
        if self.shared is None:
            return await produce(NOT_READ)
        skey = f"dedupe:{key}"
        once = self._once_args(signed) if signed is not None else None
        while True:
            pending_ttl = min(self.ttl, max(deadline - self.clock.monotonic(), 0.0) + PENDING_MARGIN_SECONDS)
            try:
                claim = await self.shared.claim(skey, PENDING, pending_ttl, read, once)
            except Exception as e:  # the shared store is down: answering beats deduping across processes
                log.warning("dedupe: shared state unavailable (%s), deduping in this process only", e)
                return await produce(NOT_READ)
            if claim.replayed:
                raise Replayed()
            once = None  # noted: a second turn of the loop need not note it again
            claimed, read_value = claim.added, claim.read
            if claimed:
                try:
                    answer = await produce(read_value)
                except BaseException:
                    await self.shared.delete(skey, expect=PENDING)  # a retry may try again
                    raise
                # Behind the reply: a retry here finds the answer in `_seen`, one on another
                # process polls until this write lands (milliseconds; the budget is seconds).
                self._unstored[skey] = DONE + answer
                if self._writer is None:
                    self._writer = asyncio.create_task(self._store())
                return answer
            value = await self._wait_other(skey, deadline)
            if value is not None:
                metrics.DEDUPE_HITS.labels("shared").inc()
                return value
            if self.clock.monotonic() >= deadline:
                raise _NotYet()
            # The claim vanished (its owner failed and released it): try to claim again.

    async def _store(self) -> None:
        try:
            while self._unstored:
                batch, self._unstored = self._unstored, {}
                try:
                    await self.shared.set_many(batch, self.ttl)
                except Exception:  # a retry elsewhere answers `success` at its deadline
                    log.exception("dedupe: could not store %d answers", len(batch))
        finally:
            self._writer = None

    async def drain(self) -> None:
        """Wait for the answers still being stored (shutdown), so retries elsewhere find them."""
        while self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)

    async def _wait_other(self, skey: str, deadline: float) -> str | None:
        while True:
            value = await self.shared.get(skey)
            if value is None:
                return None
            if value.startswith(DONE):
                return value[len(DONE):]
            if self.clock.monotonic() >= deadline:
                # The owner is past the budget too: it answers `success` and sends the reply later
                # (or it died, and its claim expires before WeChat's next retry).
                raise _NotYet()
            await self.clock.sleep(self.poll)

    def _expire(self, now: float) -> None:
        while self._queries:
            signature, (_, expires, _) = next(iter(self._queries.items()))
            if expires > now:
                break
            del self._queries[signature]
        while self._seen:
            key, (entry, expires) = next(iter(self._seen.items()))
            if expires > now or not (isinstance(entry, str) or entry.done()):
                return
            del self._seen[key]


def _pop_first(d: OrderedDict):
    """Remove and return the oldest (first inserted) item of a map."""
    return d.popitem(last=False)
