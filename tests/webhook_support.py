"""Services for the webhook tests: a migrated database, shared state and an API client pointed
at the local platform (or at nothing, when a test sends no customer-service message), built by
app.open_services as every process builds them."""

from __future__ import annotations

from contextlib import asynccontextmanager

from app import open_services
from core.clock import Clock
from core.shared import SharedState
from store.shared import MemoryState


@asynccontextmanager
async def make_services(make_settings, db_url: str, clock: Clock | None = None, shared=None,
                        shared_from_settings: bool = False, **sections):
    """Services on `db_url` (already migrated). Shared state: `shared`, else what the settings pick
    when `shared_from_settings` (or a [redis] section is given), else memory."""
    clock = clock or Clock()
    settings = make_settings(database={"url": db_url}, **sections)
    if shared is None and not (shared_from_settings or sections.get("redis")):
        shared = MemoryState(clock)
    try:
        async with open_services(settings, clock, shared=shared) as services:
            yield services
    finally:
        if shared is not None:
            await shared.close()


class SharedMemory(SharedState):
    """One in-memory store that two app instances in one test share, as two processes share Redis or
    PostgreSQL: unlike a MemoryState (which means "one process", so bot/dedupe.py keeps its claims in
    its own map), every instance's claims, answers and records go through it. For tests that must
    guard cross-instance behaviour without a server (a plain `make test`)."""

    def __init__(self, clock: Clock | None = None) -> None:
        super().__init__(clock)
        self.store = MemoryState(self.clock)

    async def get(self, key: str) -> str | None:
        return await self.store.get(key)

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        await self.store.set(key, value, ttl)

    async def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        return await self.store.add(key, value, ttl)

    async def delete(self, key: str, expect: str | None = None) -> bool:
        return await self.store.delete(key, expect)

    async def incr(self, key: str, ttl: float) -> int:
        return await self.store.incr(key, ttl)
