"""Replies that do not go out as a passive answer: sent through the customer-service API when the
follower's window allows it, otherwise held and delivered as the passive answer to that
follower's next message.

`deliver()` is what the deadline logic (a handler that missed the 5 s budget), long text and the
scheduler's editor notifications call. Windows are tracked per follower in bot/followers.py; a
refusal from the platform (45015/45047/…, wechat.errors.WindowClosed) or any other failure to send
also means "hold", so nothing is lost and nothing is sent twice.
"""

from __future__ import annotations

import logging
from typing import Literal

from core import logs, metrics
from core.services import Services
from store.models.webhook import Follower
from wechat import render
from wechat.replies import Image, News, Reply, Text, TransferToCustomerService

log = logging.getLogger(__name__)

Outcome = Literal["sent", "held", "closed"]


def expand(reply: Reply) -> list[Reply]:
    """One customer-service message per item: text within the byte limit, news one article each
    (45008 beyond one: 客服消息). A transfer to customer service has no API form."""
    if isinstance(reply, Text):
        return [Text(p) for p in render.split_text(reply.content)]
    if isinstance(reply, News):
        return [News([a]) for a in reply.articles]
    if isinstance(reply, TransferToCustomerService):
        return []
    return [reply]


async def _send(services: Services, openid: str, reply: Reply) -> None:
    if isinstance(reply, Text):
        await services.api.send_text(openid, reply.content)
    elif isinstance(reply, News):
        await services.api.send_news(openid, reply.articles[0])
    elif isinstance(reply, Image):
        await services.api.send_image(openid, reply.media_id)


async def deliver(
    services: Services, openid: str, reply: Reply | list[Reply], *, hold_if_closed: bool = True
) -> Outcome:
    """Send now if the window allows, else hold for the follower's next message. With
    `hold_if_closed=False` (the scheduler's editor notices, which it keeps and re-checks itself)
    nothing is sent unless all of it can be, and "closed" means nothing was held either."""
    items = [p for r in (reply if isinstance(reply, list) else [reply]) for p in expand(r)]
    if not items:
        return "sent"
    store = services.followers
    async with store.lock(openid):  # counters and order per follower
        follower = await store.get(openid)
        if not hold_if_closed and (follower.held or store.capacity(follower) < len(items)):
            return "closed"
        if follower.held:
            # Something older is waiting: going first would reorder the conversation.
            await hold(services, openid, items, follower)
            return "held"
        for i, item in enumerate(items):
            if not store.consume(follower):
                await hold(services, openid, items[i:], follower)
                return "held"
            try:
                await _send(services, openid, item)
            except Exception as e:
                metrics.CUSTOMER_REFUSALS.labels(str(getattr(e, "code", None)).lower()).inc()
                log.warning("customer-service send to %s failed (%s); holding the reply", logs.hashed(openid), e,
                            extra=logs.about(openid=openid))
                store.close_windows(follower)
                if not hold_if_closed:
                    return "closed"
                await hold(services, openid, items[i:], follower)
                return "held"
            metrics.CUSTOMER_SENDS.labels("sent").inc()
            kind, content = render.describe(item)
            services.messagelog.record(openid, "out", "customer", kind, content)
    return "sent"


async def hold(
    services: Services, openid: str, replies: list[Reply], follower: Follower | None = None
) -> None:
    """Keep replies for the follower's next message; written at once, not with the next batch
    (when the database cannot take them now, they stay on the cached record, which the next
    batch writes)."""
    store = services.followers
    follower = follower or await store.get(openid)
    follower.held = [*(follower.held or []), *(render.to_json(r) for r in replies)]
    try:
        await store.save_now(follower)
    except Exception as e:
        store.changed(follower)
        log.warning("held replies for %s kept in memory until the database takes them (%s)",
                    logs.hashed(openid), e, extra=logs.about(openid=openid))
    metrics.CUSTOMER_SENDS.labels("held").inc(len(replies))
    for r in replies:
        kind, content = render.describe(r)
        services.messagelog.record(openid, "out", "held", kind, content)


def hold_in_memory(services: Services, follower: Follower, replies: list[Reply]) -> None:
    """Put replies taken for delivery back in front of what the follower has held (no I/O: the
    next batch writes them)."""
    follower.held = [*(render.to_json(r) for r in replies), *(follower.held or [])]
    services.followers.changed(follower)


def take_held(services: Services, follower: Follower) -> list[Reply]:
    """The held replies, removed from the follower (the caller delivers them now)."""
    if not follower.held:
        return []
    held = [render.from_json(h) for h in follower.held]
    follower.held = None
    services.followers.changed(follower)
    return held
