"""Services for the webhook tests: a migrated database, shared state and an API client pointed
at the local platform (or at nothing, when a test sends no customer-service message)."""

from __future__ import annotations

from contextlib import asynccontextmanager

import aiohttp

from bot import messagelog
from bot.context import Services
from core.clock import Clock
from store.db import make_engine, make_session_factory
from store.shared import MemoryState, open_shared_state
from wechat.api import WeChatAPI


@asynccontextmanager
async def make_services(make_settings, db_url: str, clock: Clock | None = None, shared=None,
                        shared_from_settings: bool = False, **sections):
    """Services on `db_url` (already migrated). Shared state: `shared`, else what the settings pick."""
    clock = clock or Clock()
    settings = make_settings(database={"url": db_url}, **sections)
    engine = make_engine(db_url)
    db = make_session_factory(engine)
    if shared is None and (shared_from_settings or sections.get("redis")):
        shared = await open_shared_state(settings, db, clock)
    state = shared or MemoryState(clock)
    async with aiohttp.ClientSession() as http:
        api = WeChatAPI(settings.wechat, http, state, clock)
        services = Services(settings=settings, db=db, api=api, shared=state, clock=clock)
        try:
            async with messagelog.running(services):  # as bot.app.open_services runs it
                yield services
        finally:
            await state.close()
            await engine.dispose()
