"""The composition root: the one ordered list of routers, the services of a process, and the
application `serve` runs. Every process builds its services here: `serve` and every `main.py`
command alike (cli/), so whatever a process records is written by it before it exits.

    ROUTERS         the order in which routers are consulted (first match wins)
    open_services   engine, shared state, HTTP session, API client, follower records, message log
                    (with its writer running), member index, keyword table; closed in reverse order
    create_app      the root aiohttp application: the webhook as a sub-application on
                    `[server] webhook_path` (its own middleware and body limit), the editors' console
                    beside it on `[console] path` (unless it has a port of its own), and the scheduler
                    as a cleanup context when `[scheduler] enabled`.
    serve           run that application until SIGINT/SIGTERM
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

import aiohttp
from aiohttp import web

from bot.followers import FollowerStore
from bot.messagelog import LogWriter
from bot.router import Router
from bot.server import WEBHOOK, webhook_app
from console.app import console_app
from core import metrics
from core.clock import Clock
from core.config import Settings
from core.services import Services
from core.shared import SharedState
from handlers import events, fallback, help, keywords, member_stats, members, news
from ops.server import ops_app
from scheduler import events as push_events
from scheduler.service import start_scheduler
from store.db import make_engine, make_session_factory
from store.keywords import KeywordTable
from store.members.index import MemberLookup
from store.members.stats import FiguresCache
from store.shared import open_shared_state
from wechat.api import WeChatAPI

log = logging.getLogger(__name__)

# The order in which routers are consulted, first match wins: built-in commands first (help, news,
# member lookup, binding, status), then editors' keyword rules, then the platform's job-finish
# events (the scheduler's), then other events and message types, then the fallback. A follower's
# pending step (a numbered choice, 「更多」) is tried before all of them, and only for input that
# answers it.
ROUTERS: list[Router] = [
    help.router,
    news.router,
    members.router,
    member_stats.router,
    keywords.router,
    push_events.router,
    events.router,
    fallback.router,
]

# The largest request body the root application reads for any sub-application. Each sub-application
# keeps to its own, smaller limit: the webhook reads at most `[server] max_body_bytes`; the coming
# console takes uploads (member tables, images up to WeChat's 10 MB) up to this.
MAX_BODY_BYTES = 16 * 1024 * 1024


@asynccontextmanager
async def open_services(
    settings: Settings,
    clock: Clock | None = None,
    http: aiohttp.ClientSession | None = None,
    shared: SharedState | None = None,
) -> AsyncIterator[Services]:
    """The services of one process; closed on exit in reverse order (the message log's last batch
    first, then the HTTP session, shared state and engine), so every command that sends or answers
    writes what it recorded. `http` and `shared` (tests) are used as given and left open."""
    clock = clock or Clock()
    if settings.server.metrics_dir:
        metrics.use_directory(settings.path(settings.server.metrics_dir))
    async with AsyncExitStack() as stack:
        engine = make_engine(settings.database_url, echo=settings.database.echo)
        stack.push_async_callback(engine.dispose)
        db = make_session_factory(engine)
        if shared is None:
            shared = await open_shared_state(settings, db, clock)
            stack.push_async_callback(shared.close)
        if http is None:
            http = aiohttp.ClientSession()
            stack.push_async_callback(http.close)
        followers = FollowerStore(db, shared, clock)
        services = Services(
            settings=settings, clock=clock, db=db, shared=shared,
            api=WeChatAPI(settings.wechat, http, shared, clock),
            followers=followers,
            messagelog=LogWriter(db, clock, settings.log, followers),
            members=MemberLookup(db, clock, roles=settings.members.roles),
            figures=FiguresCache(),
            keywords=KeywordTable(db, clock),
        )  # fmt: skip
        await stack.enter_async_context(services.messagelog.running())
        yield services


def create_app(
    services: Services, routers: Sequence[Router] = ROUTERS, *, scheduler: bool | None = None
) -> web.Application:
    """The root application: the webhook on `[server] webhook_path`, and the scheduler if
    `scheduler` (default: as `[scheduler] enabled` says; tests that drive it themselves say no)."""
    root = web.Application(client_max_size=MAX_BODY_BYTES)
    webhook = webhook_app(services, routers)
    root.add_subapp(services.settings.server.webhook_path.rstrip("/"), webhook)
    root[WEBHOOK] = webhook[WEBHOOK]
    if services.settings.console.enabled and not services.settings.console.port:
        mount_console(root, services, routers)
    if services.settings.scheduler.enabled if scheduler is None else scheduler:

        async def run_scheduler(_app: web.Application) -> AsyncIterator[None]:
            handle = await start_scheduler(services)
            yield
            await handle.stop()

        root.cleanup_ctx.append(run_scheduler)
    return root


async def start_ops_site(services: Services) -> web.AppRunner | None:
    """/metrics, /healthz and /readyz on `[server] metrics_host:metrics_port` (none when the port is
    0). Shared by the processes on one machine like the webhook's port; a port that cannot be had
    costs the operator's view, never the webhook."""
    server = services.settings.server
    if not server.metrics_port:
        return None
    runner = web.AppRunner(ops_app(services), handle_signals=False, access_log=None, shutdown_timeout=1)
    await runner.setup()
    try:
        await web.TCPSite(runner, server.metrics_host, server.metrics_port, reuse_port=True).start()
    except OSError as e:
        log.error("metrics and health not served on %s:%s: %s", server.metrics_host, server.metrics_port, e)
        await runner.cleanup()
        return None
    log.info("metrics and health on http://%s:%s/metrics, /healthz, /readyz", server.metrics_host,
             server.metrics_port)
    return runner


def mount_console(root: web.Application, services: Services, routers: Sequence[Router] = ROUTERS) -> None:
    """The console at `[console] path`; the bare path redirects to the path with its slash."""
    path = services.settings.console.path

    async def to_slash(_request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(path + "/")

    root.router.add_get(path, to_slash)
    root.add_subapp(path, console_app(services, routers))


async def serve(settings: Settings) -> None:
    """Run the root application until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    async with open_services(settings) as services:
        # Requests in flight at shutdown answer within the reply budget (bodies still arriving are
        # cut off at once), so waiting longer for them only delays the exit.
        shutdown = settings.server.reply_budget_seconds + 0.5
        runner = web.AppRunner(create_app(services), handle_signals=False, access_log=None,
                               shutdown_timeout=shutdown)
        await runner.setup()
        # Everything loaded so far (modules, settings, routers, caches) lives as long as the process:
        # moved out of the collector's sight, so the full collections that a busy webhook triggers
        # do not walk it each time (they showed up as p99 stalls).
        gc.collect()
        gc.freeze()
        site = web.TCPSite(runner, settings.server.host, settings.server.port, reuse_port=True)
        await site.start()
        ops = await start_ops_site(services)
        console_runner = None
        if settings.console.enabled and settings.console.port:
            # The console on its own address (not facing the internet with the webhook).
            console_root = web.Application(client_max_size=MAX_BODY_BYTES)
            mount_console(console_root, services)
            console_runner = web.AppRunner(console_root, handle_signals=False, access_log=None)
            await console_runner.setup()
            await web.TCPSite(console_runner, settings.console.host, settings.console.port, reuse_port=True).start()
        if settings.console.enabled:
            log.info("console on %s", settings.console_url)
        log.info(
            "bot listening on http://%s:%s%s (scheduler %s)",
            settings.server.host,
            settings.server.port,
            settings.server.webhook_path,
            "on" if settings.scheduler.enabled else "off",
        )
        try:
            await stop.wait()
        finally:
            if ops is not None:
                await ops.cleanup()
            if console_runner is not None:
                await console_runner.cleanup()
            await runner.cleanup()
