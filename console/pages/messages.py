"""消息记录 and 粉丝: the message log filtered by follower, day and type; one follower's conversation
as a chat with their profile as WeChat reports it; the follower list; erasing a follower in two
steps, the first naming the effect (store/messages/, bot.messagelog.forget as `followers forget`)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aiohttp import web

from bot.messagelog import forget
from console import words
from console.web import audit, form, page, redirect, render, services
from scheduler import planning
from store.messages import texts
from store.messages.browse import LogFilter, conversation, log_page
from store.messages.followers import erasure_effect, follower_page, profile
from wechat.errors import WeChatError

PROFILE_SECONDS = 3.0  # what WeChat says about a follower is worth this much waiting, no more


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def _day(request: web.Request, key: str, add_day: bool = False):
    value = request.query.get(key, "").strip()
    if not value:
        return None
    try:
        at = planning.parse_local(value + " 00:00", services(request).settings)
    except planning.PlanningError:
        raise web.HTTPBadRequest(text=words.BAD_DAY.format(value=value)) from None
    return at + timedelta(days=1) if add_day else at


@page("/messages", role="editor", name="messages")
async def messages(request: web.Request) -> web.Response:
    q = request.query
    kind = q.get("type", "")
    f = LogFilter(openid=q.get("openid", "").strip(), since=_day(request, "from"), until=_day(request, "to", True),
                  types=[kind] if kind else [], direction=q.get("direction", ""))
    found = await log_page(services(request).db, f, before=_int(q.get("before")))
    more = {**q, "before": str(found.before)} if found.before else None
    return await render(request, "messages.html", rows=found.rows, q=q, more=more, types=texts.TYPES,
                        type_name=texts.type_name, channels=texts.CHANNELS, directions=texts.DIRECTIONS)


@page("/messages/{openid}", role="editor", name="conversation")
async def chat(request: web.Request) -> web.Response:
    svc = services(request)
    openid = request.match_info["openid"]
    found = await conversation(svc.db, openid, before=_int(request.query.get("before")))
    info, problem = None, None
    if request.query.get("profile"):  # asked for: two WeChat calls, not on every look at a chat
        try:
            async with asyncio.timeout(PROFILE_SECONDS):
                user = await svc.api.user_info(openid)
                tags = ({t["id"]: t["name"] for t in (await svc.api.tags_get()).get("tags", [])}
                        if user.get("tagid_list") else {})
            info = profile(user, tags)
        except (WeChatError, OSError, TimeoutError) as e:  # the page still shows what we hold
            problem = words.PROFILE_UNAVAILABLE.format(error=str(e) or type(e).__name__)
    effect = await erasure_effect(svc.db, openid)
    return await render(request, "conversation.html", openid=openid, rows=found.rows, before=found.before,
                        info=info, problem=problem, effect=effect, type_name=texts.type_name)


@page("/followers", role="editor", name="followers")
async def followers(request: web.Request) -> web.Response:
    q = request.query
    subscribed = {"yes": True, "no": False}.get(q.get("subscribed", ""))
    offset = max(0, _int(q.get("offset")) or 0)
    found = await follower_page(services(request).db, q.get("q", ""), subscribed, offset)
    more = {**q, "offset": str(offset + len(found.rows))} if offset + len(found.rows) < found.total else None
    return await render(request, "followers.html", found=found, q=q, more=more)


@page("/followers/{openid}/erase", role="editor", method="POST", name="follower_erase")
async def erase(request: web.Request) -> web.StreamResponse:
    """Step one (no confirmation): a page naming the effect. Step two: the openid typed again."""
    svc = services(request)
    openid = request.match_info["openid"]
    confirm = (await form(request)).get("confirm")
    effect = await erasure_effect(svc.db, openid)
    if confirm is None:
        return await render(request, "follower_erase.html", openid=openid, effect=effect)
    if confirm.strip() != openid:
        raise await redirect(request, "conversation", words.ERASE_CONFIRM_WRONG, "error", openid=openid)
    rows = await forget(svc, openid)
    await audit(request, "follower_erase", target_type="follower", target_id=openid, summary=effect.sentence(),
                before={"log_rows": rows, "units": effect.units})
    raise await redirect(request, "followers", words.ERASED.format(openid=openid, rows=rows))
