"""The last router: text nobody else answered gets `[replies] fallback`."""

from __future__ import annotations

from typing import Any

from bot.context import Context
from bot.replies import Text
from bot.router import Router

router = Router("fallback")


@router.message("text")
async def fallback(message: Any, ctx: Context) -> Text:
    # str.replace, not str.format: the follower's text may contain braces.
    return Text(ctx.settings.replies.fallback.replace("{text}", message.content.strip()[:50]))
