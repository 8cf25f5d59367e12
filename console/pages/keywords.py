"""自动回复: the editors' keyword rules (list, add, edit, delete, move up or down) and a "try a message"
box that runs the real routers on a text (bot/trial.py: it sends and logs nothing) and shows which
rule answers and what it says. The same operations as `main.py keywords …` (store/keywords.py); a
change answers followers within a second, in every process."""

from __future__ import annotations

from aiohttp import web

from bot.trial import explain
from console import words
from console.web import ROUTERS, audit, form, page, redirect, render, services
from store import keywords
from wechat.replies import News, Text

FIELDS = ("match", "pattern", "reply", "title", "url", "picurl", "priority")


def _values(f: dict[str, str]) -> dict:
    try:
        priority = int(f.get("priority") or 100)
    except ValueError:
        raise keywords.RuleError(words.BAD_PRIORITY.format(value=f.get("priority"))) from None
    news = f.get("kind") == "news"
    return {"match": f.get("match", "exact"), "pattern": f.get("pattern", "").strip(), "reply": f.get("reply", "").strip(),
            "priority": priority, "title": f.get("title", "").strip() if news else "",
            "url": f.get("url", "").strip() if news else "", "picurl": f.get("picurl", "").strip() if news else ""}


def _snapshot(rule) -> dict:
    return {k: getattr(rule, k) for k in FIELDS}


def rule_shown(rule: str | None) -> str:
    """A built-in rule's description ("help: exact 帮助/help") in the editors' words: 内置功能“帮助说明”
    （完全一致 帮助/help）; the match kinds named as the rule form names them."""
    name, _, how = (rule or "").partition(": ")
    kind, _, rest = how.partition(" ")
    how = f"{words.MATCH_NAMES[kind]} {rest}" if kind in words.MATCH_NAMES else how
    return words.RULE_SHOWN.format(feature=words.FEATURE_NAMES.get(name, name), how=how) if how else \
        words.FEATURE_NAMES.get(name, name)


@page("/keywords", role="editor", name="keywords")
async def rules(request: web.Request) -> web.Response:
    svc = services(request)
    text = request.query.get("try", "").strip()
    trial = None
    if text:
        found = await explain(svc, request.config_dict[ROUTERS], text)
        trial = {"text": text, "found": found, "rule_id": found.keyword_rule_id,
                 "text_reply": found.reply.content if isinstance(found.reply, Text) else None,
                 "news": found.reply.articles if isinstance(found.reply, News) else [],
                 "shown": rule_shown(found.rule),
                 "built_in": words.TRY_BUILT_IN.format(rule=rule_shown(found.rule)) if found.rule and not found.ran
                 else None}
    return await render(request, "keywords.html", rules=await keywords.list_rules(svc), trial=trial,
                        matches=words.MATCH_NAMES, no_rule=words.TRY_NO_RULE)


@page("/keywords", role="editor", method="POST", name="keywords_add")
async def add(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    try:
        v = _values(await form(request))
        rule = await keywords.add_rule(svc, v.pop("match"), v.pop("pattern"), v.pop("reply"), **v)
    except keywords.RuleError as e:
        raise await redirect(request, "keywords", words.RULE_REFUSED.format(reason=e), "error") from None
    await audit(request, "keyword_add", target_type="keyword_rule", target_id=rule.id, summary=rule.pattern,
                after=_snapshot(rule))
    raise await redirect(request, "keywords", words.RULE_ADDED.format(id=rule.id))


@page("/keywords/order", role="editor", method="POST", name="keywords_order")
async def move(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    f = await form(request)
    order = [r.id for r in await keywords.list_rules(svc)]
    try:
        rule_id = int(f.get("id", ""))
        i = order.index(rule_id)
    except ValueError:
        raise await redirect(request, "keywords", words.RULE_GONE.format(id=f.get("id", "")), "error") from None
    j = i - 1 if f.get("move") == "up" else i + 1
    if 0 <= j < len(order):
        order[i], order[j] = order[j], order[i]
        await keywords.reorder(svc, order)
        await audit(request, "keyword_reorder", target_type="keyword_rule", target_id=rule_id,
                    before={"position": i + 1}, after={"position": j + 1, "order": order})
    raise await redirect(request, "keywords", words.RULE_MOVED)


@page("/keywords/{id}", role="editor", method="POST", name="keyword_save")
async def save(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    try:
        rule_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    f = await form(request)
    if f.get("action") == "delete":
        before = await keywords.get_rule(svc, rule_id)
        if before is None or not await keywords.remove_rule(svc, rule_id):
            raise await redirect(request, "keywords", words.RULE_GONE.format(id=rule_id), "error")
        await audit(request, "keyword_delete", target_type="keyword_rule", target_id=rule_id, summary=before.pattern,
                    before=_snapshot(before))
        raise await redirect(request, "keywords", words.RULE_DELETED.format(id=rule_id))
    try:
        v = _values(f)
        edited = await keywords.edit_rule(svc, rule_id, v.pop("match"), v.pop("pattern"), v.pop("reply"), **v)
    except keywords.RuleError as e:
        raise await redirect(request, "keywords", words.RULE_REFUSED.format(reason=e), "error") from None
    if edited is None:
        raise await redirect(request, "keywords", words.RULE_GONE.format(id=rule_id), "error")
    rule, changed = edited
    if not changed:
        raise await redirect(request, "keywords", words.RULE_UNCHANGED.format(id=rule_id), "warn")
    await audit(request, "keyword_edit", target_type="keyword_rule", target_id=rule_id, summary=rule.pattern,
                before={k: old for k, (old, _) in changed.items()}, after={k: new for k, (_, new) in changed.items()})
    raise await redirect(request, "keywords", words.RULE_SAVED.format(id=rule_id))
