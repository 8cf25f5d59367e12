"""Follows, unfollows, QR scans, menu taps and the message types that are not text.

Runs after the built-in commands and editors' keyword rules, so a feature that answers a menu key
or a QR scene (news, members) is asked first; what reaches here gets a sensible default.
A follower who unfollows is marked so, and unbound from the member units they were bound to.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.context import Context
from bot.router import Router
from core import logs
from handlers import texts
from store.members import binding
from wechat import protocol
from wechat.replies import Text

log = logging.getLogger(__name__)

router = Router("events")


@router.event("subscribe", "subscribe_scan")
async def on_subscribe(message: Any, ctx: Context) -> Text:
    replies = ctx.settings.replies
    scene = getattr(message, "scene_id", None)
    if scene:
        return Text(replies.welcome_scene.replace("{scene}", str(scene)))
    return Text(replies.welcome)


@router.event("unsubscribe")
async def on_unsubscribe(message: Any, ctx: Context) -> None:
    """Marked unsubscribed; nothing to answer (the follower is gone)."""
    await ctx.services.followers.unsubscribe(message.source)
    try:
        await binding.on_unsubscribe(ctx.db, message.source, ctx.clock.now())
    except Exception:
        log.exception("could not unbind %s, who unfollowed, from their member units", logs.hashed(message.source))
    return None


@router.event("scan")
async def on_scan(message: Any, ctx: Context) -> Text:
    return Text(texts.SCAN.format(scene=message.scene_id))


@router.event("click")
async def on_unknown_click(message: Any, ctx: Context) -> Text:
    log.warning("menu key %r has no handler", message.key)
    return Text(texts.UNKNOWN_CLICK)


@router.event("view", "location", "templatesendjobfinish", "view_miniprogram")
async def nothing_to_say(message: Any, ctx: Context) -> None:
    """Opening a menu link, the periodic location report, delivery receipts: no answer expected."""
    return None


@router.message("image")
async def on_image(message: Any, ctx: Context) -> Text:
    return Text(texts.IMAGE)


@router.message("voice")
async def on_voice(message: Any, ctx: Context) -> Text:
    recognized = (message.recognition or "").strip()
    return Text(texts.VOICE_RECOGNIZED.format(text=recognized) if recognized else texts.VOICE)


@router.message("video", "shortvideo")
async def on_video(message: Any, ctx: Context) -> Text:
    return Text(texts.VIDEO)


@router.message("location")
async def on_location(message: Any, ctx: Context) -> Text:
    label = (message.label or "").strip()
    return Text(texts.LOCATION.format(label=label) if label else texts.LOCATION_UNNAMED)


@router.message("link")
async def on_link(message: Any, ctx: Context) -> Text:
    return Text(texts.LINK.format(title=(message.title or "").strip() or message.url))


@router.message("miniprogrampage", "unknown")
async def on_other(message: Any, ctx: Context) -> Text | None:
    """A message type we do not know gets a polite answer; an unknown event gets none."""
    if str(protocol.fields(message).get("MsgType", "")).lower() == "event":
        return None
    return Text(texts.OTHER)
