"""`main.py menu sync`: push `[menu]` of config.toml to the account as its custom menu."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from cli import texts
from core.config import Settings
from wechat.errors import WeChatError
from wechat.menu import MenuError, build_menu


def register(sub, common: argparse.ArgumentParser) -> None:
    menu = sub.add_parser("menu", parents=[common], help=texts.MENU_HELP)
    menusub = menu.add_subparsers(dest="menu_command", required=True, metavar="ACTION")
    sync = menusub.add_parser(
        "sync", parents=[common], help=texts.MENU_SYNC_HELP, description=texts.MENU_SYNC_DESCRIPTION
    )
    sync.add_argument("--dry-run", action="store_true", help=texts.MENU_DRY_RUN)
    sync.set_defaults(func=_sync)


def _sync(args, settings: Settings) -> int:
    try:
        menu = build_menu(settings.menu)
    except MenuError as e:
        print(texts.error(e), file=sys.stderr)
        return 2
    if args.dry_run:
        print(json.dumps(menu, ensure_ascii=False, indent=2))
        return 0
    try:
        asyncio.run(sync_menu(settings, menu))
    except WeChatError as e:
        print(texts.error(texts.MENU_REFUSED.format(error=e)), file=sys.stderr)
        return 1
    count = sum(len(b.get("sub_button", [])) or 1 for b in menu["button"])
    print(texts.MENU_SYNCED.format(top=len(menu["button"]), actions=count))
    return 0


async def sync_menu(settings: Settings, menu: dict) -> None:
    from app import open_services

    async with open_services(settings) as services:
        await services.api.menu_create(menu)
