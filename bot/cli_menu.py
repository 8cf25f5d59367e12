"""`main.py menu sync`: push `[menu]` of config.toml to the account as its custom menu."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from bot.config import Settings
from bot.errors import WeChatError
from bot.menu import MenuError, build_menu


def register(sub, common: argparse.ArgumentParser) -> None:
    menu = sub.add_parser("menu", parents=[common], help="the account's custom menu")
    menusub = menu.add_subparsers(dest="menu_command", required=True, metavar="ACTION")
    sync = menusub.add_parser(
        "sync",
        parents=[common],
        help="check [menu] against WeChat's limits and create it on the account",
        description="Replaces the account's menu with [menu] from the config. In server mode the "
        "menu set on the WeChat website is disabled, so this is how the menu is kept.",
    )
    sync.add_argument(
        "--dry-run", action="store_true", help="only check and print the JSON, do not call WeChat"
    )
    sync.set_defaults(func=_sync)


def _sync(args, settings: Settings) -> int:
    try:
        menu = build_menu(settings.menu)
    except MenuError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(json.dumps(menu, ensure_ascii=False, indent=2))
        return 0
    try:
        asyncio.run(sync_menu(settings, menu))
    except WeChatError as e:
        print(f"error: WeChat refused the menu: {e}", file=sys.stderr)
        return 1
    count = sum(len(b.get("sub_button", [])) or 1 for b in menu["button"])
    print(f"menu synced: {len(menu['button'])} top-level buttons, {count} actions")
    return 0


async def sync_menu(settings: Settings, menu: dict) -> None:
    from bot.app import open_services

    async with open_services(settings) as services:
        await services.api.menu_create(menu)
