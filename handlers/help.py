"""帮助: what the bot can do, generated from the `help=` lines of the registered rules."""

from __future__ import annotations

from typing import Any

from bot.context import Context
from bot.router import Router, help_lines
from handlers import texts
from wechat.replies import Text

router = Router("help")


def help_text() -> str:
    from handlers import ROUTERS  # the registry imports this module: look it up when asked

    lines = help_lines(ROUTERS)
    if not lines:
        return texts.HELP_EMPTY
    return "\n".join([texts.HELP_HEADER, *(f"• {line}" for line in lines), "", texts.HELP_FOOTER])


@router.exact("帮助", "help", "?", "？", "菜单", help="帮助 — 查看本说明")
@router.click("HELP")
async def show_help(message: Any, ctx: Context) -> Text:
    return Text(help_text())
