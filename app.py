"""Wiring: build the process's services from the settings, and run `serve` (webhook + scheduler)."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import aiohttp
from aiohttp import web

from bot import messagelog
from bot.context import Services
from core.clock import Clock
from core.config import Settings
from store.db import make_engine, make_session_factory
from store.shared import open_shared_state
from wechat.api import WeChatAPI

log = logging.getLogger(__name__)


@asynccontextmanager
async def open_services(
    settings: Settings,
    clock: Clock | None = None,
    http: aiohttp.ClientSession | None = None,
) -> AsyncIterator[Services]:
    """Engine, shared state, HTTP session, API client and the message-log writer for one process;
    closed on exit in reverse order (the writer's last batch first, then shared state and engine),
    so every command that sends or answers writes what it recorded."""
    clock = clock or Clock()
    async with AsyncExitStack() as stack:
        engine = make_engine(settings.database_url, echo=settings.database.echo)
        stack.push_async_callback(engine.dispose)
        db = make_session_factory(engine)
        shared = await open_shared_state(settings, db, clock)
        stack.push_async_callback(shared.close)
        if http is None:
            http = aiohttp.ClientSession()
            stack.push_async_callback(http.close)
        api = WeChatAPI(settings.wechat, http, shared, clock)
        services = Services(settings=settings, db=db, api=api, shared=shared, clock=clock)
        await stack.enter_async_context(messagelog.running(services))
        yield services


async def serve(settings: Settings) -> None:
    """Run the webhook (and the scheduler, when enabled) until SIGINT/SIGTERM."""
    from bot.server import make_app

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    async with open_services(settings) as services:
        app = make_app(services)
        # Requests in flight at shutdown answer within the reply budget (bodies still arriving are
        # cut off at once), so waiting longer for them only delays the exit.
        shutdown = settings.server.reply_budget_seconds + 0.5
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=shutdown)
        await runner.setup()
        site = web.TCPSite(runner, settings.server.host, settings.server.port, reuse_port=True)
        await site.start()
        scheduler = None
        if settings.scheduler.enabled:
            from scheduler.service import start_scheduler

            scheduler = await start_scheduler(services)
        log.info(
            "bot listening on http://%s:%s%s (scheduler %s)",
            settings.server.host,
            settings.server.port,
            settings.server.webhook_path,
            "on" if scheduler else "off",
        )
        try:
            await stop.wait()
        finally:
            if scheduler is not None:
                await scheduler.stop()
            await runner.cleanup()
