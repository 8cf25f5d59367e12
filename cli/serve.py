"""`main.py serve`, `db upgrade` and `demo load`. `db upgrade` runs before the bot's tables exist,
so it is the one command that does not open the services."""

from __future__ import annotations

import argparse
import asyncio

from cli import texts
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

    demo = sub.add_parser("demo", parents=[common], help=texts.DEMO_HELP)
    demosub = demo.add_subparsers(dest="demo_command", required=True, metavar="ACTION")
    load = demosub.add_parser(
        "load", parents=[common], help=texts.DEMO_LOAD_HELP, description=texts.DEMO_LOAD_DESCRIPTION
    )
    load.set_defaults(func=with_services(_demo_load))

    urls = sub.add_parser("urls", parents=[common], help=texts.URLS_HELP)
    urls.set_defaults(func=_urls)


def _urls(args, settings: Settings) -> int:
    """The addresses `make run` prints, from the config (not written into the Makefile)."""
    sandbox = f"http://{settings.sandbox.host}:{settings.sandbox.port}"
    print(texts.URLS.format(webhook=settings.webhook_url, sandbox=sandbox + "/", simulator=sandbox + "/simulator",
                            console=settings.console_url if settings.console.enabled else texts.URLS_NO_CONSOLE))
    return 0


def _serve(args, settings: Settings) -> int:
    from app import serve

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
    print(texts.DB_AT_HEAD.format(url=settings.database_url))
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
