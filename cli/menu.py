"""`main.py menu sync`: the menu editors keep (the console's 菜单; `[menu]` of config.toml until one
is saved) made the account's custom menu, by the same operation as the console (store/menu.py)."""

from __future__ import annotations

import argparse
import json
import sys

from cli import texts
from cli.run import with_services
from core.services import Services
from store import audit
from store import menu as menus
from wechat.errors import WeChatError
from wechat.menu import MenuError, build_menu


def register(sub, common: argparse.ArgumentParser) -> None:
    menu = sub.add_parser("menu", parents=[common], help=texts.MENU_HELP)
    menusub = menu.add_subparsers(dest="menu_command", required=True, metavar="ACTION")
    sync = menusub.add_parser(
        "sync", parents=[common], help=texts.MENU_SYNC_HELP, description=texts.MENU_SYNC_DESCRIPTION
    )
    sync.add_argument("--dry-run", action="store_true", help=texts.MENU_DRY_RUN)
    sync.add_argument("--as", dest="as_name", metavar="NAME", help=texts.MENU_AS)
    sync.set_defaults(func=with_services(_sync))


async def _sync(args, services: Services) -> int:
    try:
        if args.dry_run:
            print(json.dumps(build_menu((await menus.current(services)).menu), ensure_ascii=False, indent=2))
            return 0
        done = await menus.sync(services, audit.cli_actor(args.as_name))
    except MenuError as e:
        print(texts.error(e), file=sys.stderr)
        return 2
    except WeChatError as e:
        print(texts.error(texts.MENU_REFUSED.format(error=e)), file=sys.stderr)
        return 1
    count = sum(len(b.get("sub_button", [])) or 1 for b in done.body["button"])
    print(texts.MENU_SYNCED.format(top=len(done.body["button"]), actions=count, version=done.saved.id))
    return 0
