"""WeChat's word on a submitted push: PUBLISHJOBFINISH and MASSSENDJOBFINISH (typed in wechat/events.py)
finish the push through the pipeline — done with the article URLs written back to the articles, or
failed with the reason. Nothing is answered (these events come from the platform, not a follower).

The pipeline's `finish` is conditional on the push still waiting, so a duplicate event, or an event
racing the sparse poller, changes nothing the second time."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.context import Context
from bot.router import Router
from core import logs
from scheduler import texts
from scheduler.pipeline import Pipeline
from store.models.pushes import Push

log = logging.getLogger(__name__)

router = Router("pushes")


# A fast job can finish before the submitting process has stored the id WeChat gave it (the answer
# and the event race): look again for a moment before calling the id unknown.
LOOKUP_TRIES = 10
LOOKUP_PAUSE = 0.2


async def _push_by(ctx: Context, column, value: str) -> Push | None:
    if not value:
        return None
    for attempt in range(LOOKUP_TRIES):
        async with ctx.db() as s:
            push = await s.scalar(select(Push).where(column == value).options(selectinload(Push.articles)))
        if push is not None:
            return push
        if attempt + 1 < LOOKUP_TRIES:
            await ctx.clock.sleep(LOOKUP_PAUSE)
    return None


@router.event("publishjobfinish")
async def on_publish_finished(message: Any, ctx: Context) -> None:
    push = await _push_by(ctx, Push.publish_id, message.publish_id)
    if push is None:
        log.warning("PUBLISHJOBFINISH for unknown publish_id %s", message.publish_id)
        return None
    if message.status == 1:  # still publishing: not an outcome
        return None
    urls = [u.url for u in sorted(message.article_urls, key=lambda u: u.idx)]
    # A failure's reason (with the refused articles' titles) is worded by the pipeline.
    finished = await Pipeline(ctx.services, "webhook").finish(
        push, message.status == 0, article_id=message.article_id or None, urls=urls,
        code=message.status, fail_idx=list(message.fail_idx or []))
    log.info("push %s: PUBLISHJOBFINISH status %s%s", push.id, message.status, "" if finished else " (already finished)",
             extra=logs.about(push_id=push.id))
    return None


@router.event("masssendjobfinish")
async def on_mass_finished(message: Any, ctx: Context) -> None:
    push = await _push_by(ctx, Push.msg_id, str(message.msg_id))
    if push is None:
        log.warning("MASSSENDJOBFINISH for unknown msg_id %s", message.msg_id)
        return None
    urls = [u.url for u in sorted(message.article_urls, key=lambda u: u.idx)]
    if push.state == "confirming" and not message.succeeded:
        reason = texts.REASON_CONFIRM_TIMEOUT
    else:
        reason = texts.mass_failure(message.status, push.id)
    finished = await Pipeline(ctx.services, "webhook").finish(
        push, message.succeeded, urls=urls, reason=reason,
        article_id=None)
    log.info("push %s: MASSSENDJOBFINISH %s (sent %s of %s)%s", push.id, message.status, message.sent_count,
             message.total_count, "" if finished else " (already finished)",
             extra=logs.about(push_id=push.id))
    return None
