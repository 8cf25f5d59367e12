"""Member lookups for anyone, binding a follower to a member unit, and 「我的状态」 for bound followers.

A lookup answers with public facts; what else a follower sees is decided by
`store.members.status.visible_facts` alone. Several matches → a numbered list answered by a number
(the `member_choice` step): the list stays answerable, so "3" after "2" shows the third unit, until
it expires after `[members] choice_ttl_minutes` or another list replaces it.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.context import Context
from bot.router import Captured, Router, text_of
from core.services import Services
from handlers import member_stats
from store.members import binding, texts
from store.members.index import Entry
from store.members.registry import recent_history
from store.members.status import HistoryItem, local_today, visible_facts
from store.models.members import Member
from wechat.replies import Reply, Text

log = logging.getLogger(__name__)

CHOICE_STEP = "member_choice"
HISTORY_SHOWN = 3
CODE_PATTERN = r"^(?=.*\d)[0-9A-Za-z]{18}$"


router = Router("members")


@router.on_startup
async def build_index(services: Services) -> None:
    """Built at start-up, so the first follower does not wait for it (without a database, the
    bare-name rule waits for the first refresh that works)."""
    try:
        await services.members.current()
    except Exception as e:
        log.warning("member index not built at start-up (%s); built when the database answers", e)


@router.on_route
async def keep_index_current(services: Services) -> None:
    """Before each message: the index rebuilt if the registry changed (with the database down or
    slow, the index it has answers)."""
    await services.members.refresh_soon()


def bare_name(message: Any, services: Services) -> Captured | None:
    """A text that is exactly one unit's name (or alias), as the index built so far knows it."""
    text = text_of(message)
    index = services.members.index
    if text and index is not None and index.unique(text):
        return Captured(args=text)
    return None


# --- replies -----------------------------------------------------------------------------------------


async def _facts_reply(ctx: Context, entries: list[Entry], extra: dict[int, list[str]] | None = None) -> str:
    """Each unit as this follower may see it: the private part only for units they are bound to;
    `extra` adds lines to a unit (我的状态: its standing)."""
    today = local_today(ctx.clock.now(), ctx.settings.scheduler.timezone)
    async with ctx.db() as session:
        bound = await binding.bound_member_ids(session, ctx.openid)
        shown = []
        for entry in entries:
            member: Any = entry
            history: list[HistoryItem] = []
            if entry.id in bound:
                member = await session.get(Member, entry.id)
                if member is None:
                    continue
                rows = await recent_history(session, entry.id, HISTORY_SHOWN)
                history = [
                    HistoryItem(
                        h.field,
                        h.old_value,
                        h.new_value,
                        local_today(h.changed_at, ctx.settings.scheduler.timezone),
                    )
                    for h in rows
                ]
            facts = texts.member_facts(visible_facts(member, bound, today, history))
            shown.append("\n".join([facts, *(extra or {}).get(entry.id, ())]))
    return "\n\n".join(shown)


async def answer_lookup(ctx: Context, query: str) -> Reply:
    result = await ctx.services.members.lookup(query)
    if result.how == "bad_code":
        return Text(texts.BAD_CODE)
    if not result.entries:
        return Text(texts.not_found(query, result.suggestions))
    if len(result.entries) == 1:
        return Text(await _facts_reply(ctx, list(result.entries)))
    choices = result.entries[: texts.CHOICE_MAX]
    ttl = ctx.settings.members.choice_ttl_minutes * 60
    await ctx.state.expect(CHOICE_STEP, {"ids": [e.id for e in choices]}, ttl)
    return Text(texts.choice_list(choices, len(result.entries)))


# --- rules (their order is their priority within this router) ------------------------------------------


@router.exact("我的状态", "会员状态", help=texts.HELP_STATUS)
@router.click("MEMBER_STATUS")
async def my_status(message: Any, ctx: Context) -> Reply:
    async with ctx.db() as session:
        bound = await binding.bound_member_ids(session, ctx.openid)
    if not bound:
        return Text(texts.NOT_BOUND)
    index = await ctx.services.members.current()
    entries = [index.entries[i] for i in sorted(bound) if i in index.entries]
    standing = await member_stats.standing(ctx, entries)
    return Text(await _facts_reply(ctx, entries, standing) or texts.NOT_BOUND)


@router.exact("会员帮助", "会员查询")
@router.click("MEMBER_HELP")
async def member_help(message: Any, ctx: Context) -> Reply:
    return Text(texts.MEMBER_HELP)


@router.exact("解绑", "解除绑定", help=texts.HELP_UNBIND)
async def unbind(message: Any, ctx: Context) -> Reply:
    names = await binding.unbind(ctx.db, ctx.openid, ctx.clock.now())
    return Text(texts.unbound(names) if names else texts.UNBIND_NONE)


@router.prefix("绑定", help=texts.HELP_BIND)
async def bind(message: Any, ctx: Context) -> Reply:
    if not ctx.args:
        return Text(texts.BIND_USAGE)
    outcome = await binding.bind(ctx.services, ctx.openid, ctx.args)
    return Text(texts.bind_outcome(outcome.status, outcome.member_name, outcome.attempts_left))


@router.prefix("会员", "查询", help=texts.HELP_LOOKUP)
async def member_lookup(message: Any, ctx: Context) -> Reply:
    if not ctx.args:
        return Text(texts.LOOKUP_USAGE)
    return await answer_lookup(ctx, ctx.args)


@router.regex(CODE_PATTERN)
async def credit_code_lookup(message: Any, ctx: Context) -> Reply:
    return await answer_lookup(ctx, ctx.match.group(0))


@router.rule(bare_name, "bare unit name")
async def bare_name_lookup(message: Any, ctx: Context) -> Reply:
    return await answer_lookup(ctx, ctx.args)


def _is_choice(text: str, data: dict) -> bool:
    return text.isdigit() and 1 <= int(text) <= len(data.get("ids") or ())


@router.step(CHOICE_STEP, accepts=_is_choice)
async def member_choice(message: Any, ctx: Context) -> Reply:
    ids = (ctx.state.pending or ("", {}))[1].get("ids") or []
    chosen = int(text_of(message) or 0)
    index = await ctx.services.members.current()
    entry = index.entries.get(ids[chosen - 1]) if 0 < chosen <= len(ids) else None
    if entry is None:
        return Text(texts.CHOICE_GONE)
    return Text(await _facts_reply(ctx, [entry]))
