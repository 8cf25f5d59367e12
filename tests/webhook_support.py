"""Services for the webhook tests: a migrated database, shared state and an API client pointed
at the local platform (or at nothing, when a test sends no customer-service message), built by
app.open_services as every process builds them."""

from __future__ import annotations

from contextlib import asynccontextmanager

from app import open_services
from core.clock import Clock
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
