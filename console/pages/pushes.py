"""推送: the status tabs with their counts (console/pushinfo.py maps the pipeline's states to them),
one push with its articles, approval, previews, warnings and timeline, and the actions on it:
submit for approval, approve or reject with a comment, 发送预览到微信, send now, cancel, retry,
acknowledge. Every action is the CLI's operation (scheduler.editing, scheduler.review)."""

from __future__ import annotations

from aiohttp import web

from console import pushinfo
from console import texts as ctexts
from console.web import audit, editor, form, page, redirect, render, services
from scheduler import editing, planning, previews, report, review, texts
from scheduler.states import CANCELLABLE, HAS_DRAFT, Review, S
from store import editors as editor_store
from store.editors import at_least

KIND_MEANS = ctexts.KIND_MEANS


def _id(request: web.Request) -> int:
    try:
        return int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None


@page("/pushes", role="editor", name="pushes")
async def pushes(request: web.Request) -> web.Response:
    svc = services(request)
    tab = request.query.get("tab", "draft")
    if tab not in pushinfo.TAB_NAMES:
        tab = "draft"
    try:
        before = int(request.query["before"]) if request.query.get("before") else None
    except ValueError:
        before = None
    rows = await pushinfo.rows(svc, tab, before_id=before)
    return await render(request, "pushes.html", tab=tab, tabs=pushinfo.TABS, counts=await pushinfo.counts(svc),
                        rows=rows, titles=await pushinfo.titles(svc, rows), kind=texts.KIND,
                        status_of=lambda p: report.status(p, svc.settings), review_names=texts.REVIEW,
                        more=rows[-1].id if len(rows) == pushinfo.PAGE else None)


async def _recipients(request: web.Request) -> list[tuple[str, str]]:
    """Who a preview can go to: the accounts with an openid, then `[editors] openids` not among them."""
    svc = services(request)
    out = [(e.openid, f"{e.display_name or e.name}（{e.name}）") for e in await editor_store.all_editors(svc.db)
           if e.openid and not e.disabled]
    known = {o for o, _ in out}
    return out + [(o, o) for o in svc.settings.editors.openids if o not in known]


@page("/pushes/{id}", role="editor", name="push")
async def push_detail(request: web.Request) -> web.Response:
    svc = services(request)
    try:
        push = await editing.get(svc, _id(request))
    except editing.EditError as e:
        raise web.HTTPNotFound(text=str(e)) from None
    me = editor(request)
    ids = [a.article_id for a in push.articles]
    titles = await pushinfo.titles_of(svc, ids)
    open_ = push.state in CANCELLABLE
    can = {
        "edit": open_ and push.review != Review.SUBMITTED,
        "submit": open_ and push.state != S.OVERDUE and push.review in (Review.DRAFT, Review.REJECTED)
                  and push.approved_by is None,
        "decide": at_least(me.role, "approver") and push.review == Review.SUBMITTED and open_,
        "self": not review.may_approve(svc, push, me.name),
        "preview": push.state in HAS_DRAFT or push.state in (S.PLANNED, S.PREPARING),
        "send_now": at_least(me.role, "approver") and push.approved_by is not None and push.state in (*CANCELLABLE, S.FAILED),
        "cancel": open_,
        "retry": push.state == S.FAILED,
        "ack": push.state in (S.FAILED, S.OVERDUE),
    }
    return await render(
        request, "push.html", push=push, tab=pushinfo.tab_of(push), tab_names=pushinfo.TAB_NAMES,
        status_text=report.status(push, svc.settings), kind=texts.KIND, kind_means=KIND_MEANS[push.kind],
        review_names=texts.REVIEW, articles=[(aid, titles.get(aid, ctexts.NO_ARTICLE)) for aid in ids],
        warnings=await pushinfo.warnings(svc, ids, push.kind, push.planned_at, exclude_id=push.id),
        events=await pushinfo.timeline(svc, push.id), previews=await pushinfo.previews_of(svc, push.id),
        preview_line=previews.line, recipients=await _recipients(request), can=can,
        by_name=lambda by: texts.BY.get(by, by) if by else "—",
    )


async def _act(request: web.Request, action: str, run, message: str) -> web.StreamResponse:
    """Run one operation on the push; its refusal is shown on the push's page, nothing is lost."""
    svc = services(request)
    push_id = _id(request)
    try:
        before = await editing.get(svc, push_id)
        state_before = {"state": before.state, "review": before.review, "approved_by": before.approved_by}
        after = await run(svc, push_id)
    except (editing.EditError, planning.PlanningError) as e:
        raise await redirect(request, "push", str(e), "error", id=push_id) from None
    if after is not None and hasattr(after, "state"):
        state_after = {"state": after.state, "review": after.review, "approved_by": after.approved_by}
    else:
        state_after = None
    await audit(request, action, target_type="push", target_id=push_id, before=state_before, after=state_after,
                summary=(await form(request)).get("comment", "")[:500])
    raise await redirect(request, "push", message, id=push_id)


async def _ack(svc, push_id: int, who: str, comment: str):
    await editing.ack(svc, push_id, by=who)
    return await editing.get(svc, push_id)


# The actions on one push: (path's last part, least role, audit action, operation, message shown after).
# Each operation is the CLI's, called with (services, push id, the signed-in account, the comment).
ACTIONS = [
    ("submit", "editor", "push_submit", lambda svc, i, who, c: review.submit(svc, i, who), ctexts.DONE_SUBMIT),
    ("approve", "approver", "push_approve", lambda svc, i, who, c: review.approve(svc, i, who, c),
     ctexts.DONE_APPROVE),
    ("reject", "approver", "push_reject", lambda svc, i, who, c: review.reject(svc, i, who, c), ctexts.DONE_REJECT),
    ("send-now", "approver", "push_send_now", lambda svc, i, who, c: editing.send_now(svc, i, by=who),
     ctexts.DONE_SEND_NOW),
    ("cancel", "editor", "push_cancel", lambda svc, i, who, c: editing.cancel(svc, i, by=who), ctexts.DONE_CANCEL),
    ("retry", "editor", "push_retry", lambda svc, i, who, c: editing.retry(svc, i, by=who), ctexts.DONE_RETRY),
    ("ack", "editor", "push_ack", _ack, ctexts.DONE_ACK),
]


def _declare(verb: str, role: str, action: str, operation, message: str) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        who = editor(request).name
        comment = (await form(request)).get("comment", "")
        return await _act(request, action, lambda svc, i: operation(svc, i, who, comment), message)

    handler.__name__ = action
    page(f"/pushes/{{id}}/{verb}", role=role, method="POST", name=action)(handler)


for _action in ACTIONS:
    _declare(*_action)


@page("/pushes/{id}/preview", role="editor", method="POST", name="push_preview")
async def send_preview(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    push_id = _id(request)
    chosen = [o for o in (await request.post()).getall("to", []) if isinstance(o, str)]
    allowed = {o for o, _ in await _recipients(request)}
    chosen = [o for o in chosen if o in allowed]
    if not chosen:
        raise await redirect(request, "push", ctexts.PREVIEW_CHOOSE, "error", id=push_id)
    try:
        rows = await editing.preview(svc, push_id, chosen, by=editor(request).name)
    except editing.EditError as e:
        raise await redirect(request, "push", str(e), "error", id=push_id) from None
    if rows is None:
        message, kind = ctexts.PREVIEW_NO_DRAFT_YET, "warn"
    else:
        message = "；".join(previews.line(r) for r in rows)
        kind = "ok" if all(r.status == "sent" for r in rows) else "error"
    await audit(request, "push_preview", target_type="push", target_id=push_id, summary=message[:500],
                after={"to": chosen})
    raise await redirect(request, "push", message, kind, id=push_id)
