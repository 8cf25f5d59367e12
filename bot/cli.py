"""Commands of the bot process itself: `serve`, `db upgrade` and `demo load`."""

from __future__ import annotations

import argparse
import asyncio
import importlib

from bot.config import Settings

# Each feature's demo data: "module:function", an `async def load_demo(services) -> str` that is
# idempotent (a second `make run` changes nothing) and returns a one-line summary.
DEMO_LOADERS: list[str] = [
    "handlers.keywords:load_demo",
    "store.content.demo:load_demo",
    "store.members.demo:load_demo",
]


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "serve",
        parents=[common],
        help="run the webhook (and the scheduler unless [scheduler] enabled = false)",
        description="Serve the WeChat webhook on [server] host:port; with [scheduler] enabled, "
        "also run the push scheduler in the same process.",
    )
    p.set_defaults(func=_serve)

    db = sub.add_parser("db", parents=[common], help="database maintenance")
    dbsub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = dbsub.add_parser(
        "upgrade", parents=[common], help="create or migrate the database to the latest schema"
    )
    up.set_defaults(func=_db_upgrade)

    demo = sub.add_parser("demo", parents=[common], help="demo data for trying the bot")
    demosub = demo.add_subparsers(dest="demo_command", required=True, metavar="ACTION")
    load = demosub.add_parser(
        "load",
        parents=[common],
        help="load the demo data (keyword rules, articles, members); safe to run again",
    )
    load.set_defaults(func=_demo_load)


def _serve(args, settings: Settings) -> int:
    from bot.app import serve

    try:
        import uvloop  # a faster event loop; the webhook's throughput depends on it
    except ImportError:  # pragma: no cover - uvloop is pinned, but the bot runs without it
        asyncio.run(serve(settings))
    else:
        uvloop.run(serve(settings))
    return 0


def _db_upgrade(args, settings: Settings) -> int:
    from store.migrate import upgrade_sync

    upgrade_sync(settings.database_url)
    print(f"database at head: {settings.database_url}")
    return 0


def _demo_load(args, settings: Settings) -> int:
    from bot.app import open_services

    async def run() -> None:
        async with open_services(settings) as services:
            for spec in DEMO_LOADERS:
                module, _, name = spec.partition(":")
                summary = await getattr(importlib.import_module(module), name)(services)
                print(f"demo: {summary}")

    asyncio.run(run())
    return 0
