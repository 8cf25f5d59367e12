"""The shared-state interface: what several processes must agree on (the access token, dedupe claims,
locks, rate-limit counters) as strings under keys with a time to live. The backends (memory, SQL,
Redis) are in store/shared.py; the API client's token cache (wechat/token.py) and the webhook
(bot/) use this interface, so neither needs to know which backend a process runs on."""

from __future__ import annotations

import asyncio
import secrets
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import NamedTuple

from core.clock import Clock

# "This value was not read ahead": the caller must `get` it itself (distinct from None, "no such key").
NOT_READ: object = object()


class LockTimeout(Exception):
    pass


class Claim(NamedTuple):
    """What `SharedState.claim()` found."""

    added: bool  # this call set the claimed key
    read: object  # the value under the read key (None: no such key), or NOT_READ when none was asked
    replayed: bool = False  # the `once` key held another value: nothing else was done


class SharedState(ABC):
    """Strings under keys, each with an optional time to live in seconds."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()

    @abstractmethod
    async def get(self, key: str) -> str | None: ...

    @abstractmethod
    async def set(self, key: str, value: str, ttl: float | None = None) -> None: ...

    @abstractmethod
    async def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        """Set only if absent (or expired); True if this call set it."""

    @abstractmethod
    async def delete(self, key: str, expect: str | None = None) -> bool:
        """Delete the key; with `expect`, only if it still holds that value."""

    @abstractmethod
    async def incr(self, key: str, ttl: float) -> int:
        """Add one to a counter that starts at 0 and expires `ttl` seconds after its creation."""

    async def add_and_get(self, key: str, value: str, ttl: float | None, get_key: str) -> tuple[bool, str | None]:
        """`add(key, value, ttl)` and `get(get_key)` together: (added, value of get_key)."""
        claim = await self.claim(key, value, ttl, get_key)
        return claim.added, claim.read  # type: ignore[return-value]

    async def note_once(self, key: str, value: str, ttl: float) -> bool:
        """Set `key` to `value` unless it holds another value; False when it does (`key` was seen
        before with something else). Values under such a key never change, so no atomicity is needed."""
        if await self.add(key, value, ttl):
            return True
        return await self.get(key) in (None, value)

    async def claim(
        self, key: str, value: str, ttl: float | None, read: str | None = None,
        once: tuple[str, str, float] | None = None,
    ) -> Claim:
        """For a hot path that needs them together (the webhook: the signed query it answers, its
        dedupe claim and the sender's record version): `note_once(*once)`, and unless that finds a
        replay, `add(key, value, ttl)` and `get(read)`. Redis does it in one round trip; here, one
        call after the other (the in-memory and SQL backends)."""
        if once is not None and not await self.note_once(*once):
            return Claim(False, NOT_READ, replayed=True)
        added = await self.add(key, value, ttl)
        return Claim(added, NOT_READ if read is None else await self.get(read))

    async def set_many(self, items: Mapping[str, str], ttl: float | None = None) -> None:
        """`set` of each key to its value, all with the same ttl (Redis: one round trip)."""
        for key, value in items.items():
            await self.set(key, value, ttl)

    async def close(self) -> None:
        return None

    @asynccontextmanager
    async def lock(
        self, name: str, ttl: float = 30.0, timeout: float = 30.0, poll: float = 0.02
    ) -> AsyncIterator[None]:
        """A lock held by one holder across every process sharing this state."""
        token = secrets.token_hex(8)
        key = f"lock:{name}"
        deadline = self.clock.monotonic() + timeout
        while not await self.add(key, token, ttl):
            if self.clock.monotonic() >= deadline:
                raise LockTimeout(name)
            await asyncio.sleep(poll)
        try:
            yield
        finally:
            await self.delete(key, expect=token)
