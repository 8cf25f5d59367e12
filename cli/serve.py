"""`main.py serve`, `db upgrade` and `demo load` (`db backup` and `db restore`: cli/backup.py).
`db upgrade` runs before the bot's tables exist, so it does not open the services."""

from __future__ import annotations

import argparse
import asyncio
import os
import time

from cli import backup, texts
from cli.run import with_services
from core.config import Settings
from core.services import Services


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("serve", parents=[common], help=texts.SERVE_HELP, description=texts.SERVE_DESCRIPTION)
    p.set_defaults(func=_serve)

    db = sub.add_parser("db", parents=[common], help=texts.DB_HELP)
    dbsub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = dbsub.add_parser("upgrade", parents=[common], help=texts.DB_UPGRADE_HELP)
    up.set_defaults(func=_db_upgrade)
    backup.register(dbsub, common)

    demo = sub.add_parser("demo", parents=[common], help=texts.DEMO_HELP)
    demosub = demo.add_subparsers(dest="demo_command", required=True, metavar="ACTION")
    load = demosub.add_parser(
        "load", parents=[common], help=texts.DEMO_LOAD_HELP, description=texts.DEMO_LOAD_DESCRIPTION
    )
    load.set_defaults(func=with_services(_demo_load))

    urls = sub.add_parser("urls", parents=[common], help=texts.URLS_HELP)
    urls.add_argument("--wait", type=float, default=0, metavar="SECONDS", help=texts.URLS_WAIT_HELP)
    urls.add_argument("--pid", type=int, action="append", default=[], help=texts.URLS_PID_HELP)
    urls.set_defaults(func=_urls)


def _local(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host


def health_urls(settings: Settings) -> dict[str, str]:
    """What `make run` waits for: the local platform, the bot's server (its /healthz when the operator's
    site is on) and the console, at the addresses they listen on."""
    found = {"sandbox": f"http://{_local(settings.sandbox.host)}:{settings.sandbox.port}/",
             "bot": f"http://{_local(settings.server.host)}:{settings.server.port}/"}
    if settings.server.metrics_port:
        found["health"] = f"http://{_local(settings.server.metrics_host)}:{settings.server.metrics_port}/healthz"
    if settings.console.enabled:
        host, port = ((settings.console.host, settings.console.port) if settings.console.port
                      else (settings.server.host, settings.server.port))
        found["console"] = f"http://{_local(host)}:{port}{settings.console.path}/login"
    return found


def _gone(pids: list[int]) -> list[int]:
    dead = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            dead.append(pid)
        except PermissionError:  # alive, someone else's
            pass
    return dead


async def wait_until_up(urls: dict[str, str], seconds: float, pids: list[int] = ()) -> tuple[list[str], list[int]]:
    """Poll until every URL answers below 500 or `seconds` pass, or a watched process exits.
    (the URLs still not answering, the watched processes that exited)."""
    import aiohttp

    waiting = dict(urls)
    deadline = time.monotonic() + seconds
    timeout = aiohttp.ClientTimeout(total=2)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        while waiting:
            for name, url in list(waiting.items()):
                try:
                    async with http.get(url, allow_redirects=False) as resp:
                        if resp.status < 500:
                            del waiting[name]
                except (TimeoutError, aiohttp.ClientError, OSError):
                    pass
            dead = _gone(list(pids))
            if not waiting or dead or time.monotonic() >= deadline:
                return list(waiting.values()), dead
            await asyncio.sleep(0.2)
    return [], []


def _urls(args, settings: Settings) -> int:
    """The addresses `make run` prints, from the config (not written into the Makefile); with --wait,
    once the servers answer."""
    if args.wait > 0:
        started = time.monotonic()
        down, dead = asyncio.run(wait_until_up(health_urls(settings), args.wait, args.pid))
        if down or dead:
            print(texts.URLS_NOT_UP.format(seconds=f"{time.monotonic() - started:.0f}", urls="\n".join(f"    {u}" for u in down)
                                          or "    —", pids=", ".join(map(str, dead)) or "—"))
            return 1
    sandbox = f"http://{settings.sandbox.host}:{settings.sandbox.port}"
    print(texts.URLS.format(webhook=settings.webhook_url, sandbox=sandbox + "/", simulator=sandbox + "/simulator",
                            console=settings.console_url if settings.console.enabled else texts.URLS_NO_CONSOLE))
    return 0


def _serve(args, settings: Settings) -> int:
    from app import serve

    # asyncio's own loop, not uvloop: measured side by side (bench/webhook.py, 2026-12-03), uvloop
    # answered no more replies a second and held one request of every run for 200-300 ms.
    asyncio.run(serve(settings))
    return 0


def _db_upgrade(args, settings: Settings) -> int:
    from sqlalchemy.engine import make_url

    from store.migrate import upgrade_sync

    upgrade_sync(settings.database_url)
    # A PostgreSQL URL may carry a password: never printed.
    print(texts.DB_AT_HEAD.format(url=make_url(settings.database_url).render_as_string(hide_password=True)))
    return 0


async def _demo_load(args, services: Services) -> int:
    from store.demo import load_demo
    from store.keywords import seed

    result = await load_demo(services)
    # The [[keywords]] rules are the config's, not demo data: `serve` seeds them too.
    added = await seed(services)
    if result.outcome == "loaded":
        print(texts.DEMO_LOADED.format(what=texts.demo_counts(result.added)))
    elif result.outcome == "present":
        print(texts.DEMO_PRESENT)
    else:
        print(texts.DEMO_REFUSED.format(what=texts.demo_counts(result.found)))
    print(texts.KEYWORDS_SEEDED.format(added=added, total=len(services.settings.keywords)))
    from console.texts import ROLE
    from store.demo import demo_editors_present

    accounts = await demo_editors_present(services) if result.outcome != "refused" else []
    if accounts:
        # On the terminal only (print, not the log): the demo's passwords are for trying it out.
        print(texts.DEMO_ACCOUNTS.format(url=services.settings.console_url))
        for name, role, password in accounts:
            print(texts.DEMO_ACCOUNT.format(role=ROLE[role], name=name, password=password))
    return 0
