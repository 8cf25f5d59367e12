"""Shared state: what several processes must agree on (the access token, dedupe claims, locks,
rate-limit counters), behind one small interface with three backends.

- Memory: the embedded default (one process on SQLite).
- SQL: the `shared_kv` table, when the database is PostgreSQL and no Redis is configured.
- Redis: when `[redis] url` is set.

`open_shared_state()` picks the backend from the settings.
"""

from __future__ import annotations

import asyncio
import secrets
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.clock import Clock


class LockTimeout(Exception):
    pass


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
