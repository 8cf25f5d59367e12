"""Erasure markers: a follower erased on request (`messagelog.forget`, in any process) stays erased
in every process, including the copies of their record or log rows one had not written yet.

The erasure leaves a marker with its time and moves one epoch key. Each batch of the message log
reads that key, and only when it moved looks up the markers of the followers it wrote since
(`since()`), so such a copy is erased again instead of outliving the erasure. On the embedded
default the markers live in the database's shared_kv table (`main.py followers forget` is another
process on the same SQLite file; one read a batch, never on a reply's path); with several
processes, in their shared state.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime

from core.shared import SharedState

EPOCH_KEY = "followers:erased"  # moves with every erasure
TTL = 7200.0  # a marker outlives any copy a process may still write (bot/followers.py VERSION_TTL)


def marker_key(openid: str) -> str:
    return f"follower-erased:{openid}"


class Erasures:
    def __init__(self, state: SharedState) -> None:
        self.state = state
        self.epoch: str | None = None  # the epoch the last look at the markers saw
        self.written: set[str] = set()  # followers whose record this process wrote since then

    async def mark(self, openid: str, at: datetime) -> None:
        await self.state.set(marker_key(openid), at.isoformat(), TTL)
        await self.state.set(EPOCH_KEY, secrets.token_hex(8))

    async def since(self, openids: Iterable[str]) -> tuple[str | None, dict[str, datetime]]:
        """(epoch, {openid: erased at}) for those of `openids` erased since the epoch last passed
        to `seen()`: one read unless something was erased meanwhile."""
        epoch = await self.state.get(EPOCH_KEY)
        if epoch == self.epoch:
            return epoch, {}
        found = {}
        for openid in openids:
            value = await self.state.get(marker_key(openid))
            if value:
                found[openid] = datetime.fromisoformat(value)
        return epoch, found

    def seen(self, epoch: str | None, openids: set[str]) -> None:
        self.epoch = epoch
        self.written -= openids
