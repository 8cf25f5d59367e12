"""帮助: what the bot can do, generated from the `help=` lines of the routers in their order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.context import Context
from bot.router import Router, help_lines
from handlers import texts
from wechat.replies import Text

router = Router("help", trial=True)


def help_text(routers: Sequence[Router]) -> str:
    lines = help_lines(routers)
    if not lines:
        return texts.HELP_EMPTY
    return "\n".join([texts.HELP_HEADER, *(f"• {line}" for line in lines), "", texts.HELP_FOOTER])


@router.exact("帮助", "help", "?", "？", "菜单", help="帮助 — 查看本说明")
@router.click("HELP")
async def show_help(message: Any, ctx: Context) -> Text:
    return Text(help_text(ctx.routers))
