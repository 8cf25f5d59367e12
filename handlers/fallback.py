"""The last router: what people say that is not a command (a greeting, thanks, a number with no list
to answer, 「更多」 with nothing more), then `[replies] fallback` for text nobody else answered.
After the editors' keyword rules, so an editor's rule for 你好 wins."""

from __future__ import annotations

import re
from typing import Any

from bot import texts as bot_texts
from bot.context import Context
from bot.router import Captured, Router, text_of
from handlers import texts
from handlers.help import help_text
from wechat.replies import Text

router = Router("fallback", trial=True)

_NOT_WORD = re.compile(r"[\W_]+")
_PARTICLES = "啊呀哇吖呢哈哦噢嘛"


def _said(words: frozenset[str]):
    """A matcher for short phrases however they are typed: 你好！, 您好呀, Hello."""

    def matcher(message: Any, services: Any) -> Captured | None:
        text = text_of(message)
        if not text or len(text) > 20:
            return None
        plain = _NOT_WORD.sub("", text.lower())
        return Captured() if plain in words or plain.rstrip(_PARTICLES) in words else None

    return matcher


@router.rule(_said(texts.GREETINGS), "greeting")
async def greeting(message: Any, ctx: Context) -> Text:
    name = ctx.settings.wechat.display_name
    hello = texts.GREETING_NAMED.format(name=name) if name else texts.GREETING
    return Text(hello + "\n\n" + help_text(ctx.routers))


@router.rule(_said(texts.THANKS), "thanks")
async def thanks(message: Any, ctx: Context) -> Text:
    return Text(texts.THANKS_REPLY)


@router.regex(r"^\d{1,3}$")
async def stray_number(message: Any, ctx: Context) -> Text:
    """A number no list takes: out of the pending list's range, or no list (expired, or never)."""
    pending = ctx.state.pending
    ids = (pending[1].get("ids") if pending else None) or []
    return Text(texts.NUMBER_OUT_OF_RANGE.format(n=len(ids)) if ids else texts.NUMBER_NO_LIST)


@router.exact(bot_texts.MORE)
async def nothing_more(message: Any, ctx: Context) -> Text:
    return Text(texts.NO_MORE)


def _blank(message: Any, services: Any) -> Captured | None:
    return Captured() if message.type == "text" and not (message.content or "").strip() else None


@router.rule(_blank, "blank")
async def blank(message: Any, ctx: Context) -> Text:
    """A blank message (only spaces, or nothing): nothing to look up, so say what can be asked."""
    return Text(texts.BLANK + "\n\n" + help_text(ctx.routers))


@router.message("text")
async def fallback(message: Any, ctx: Context) -> Text:
    # str.replace, not str.format: the follower's text may contain braces.
    return Text(ctx.settings.replies.fallback.replace("{text}", message.content.strip()[:50]))
