"""推送: the status tabs with their counts (console/pushinfo.py maps the pipeline's states to them),
one push with its articles, approval, previews, warnings and timeline, and the actions on it:
submit for approval, approve or reject with a comment, 发送预览到微信, send now, cancel, retry,
acknowledge. Every action is the CLI's operation (scheduler.editing, scheduler.review)."""

from __future__ import annotations

from aiohttp import web

from console import pushinfo
from console.web import audit, editor, form, page, redirect, render, services
from scheduler import editing, planning, previews, report, review, texts
from scheduler.states import CANCELLABLE, HAS_DRAFT, Review, S
from store import editors as editor_store
from store.editors import at_least

KIND_MEANS = {
    "publish": "发布：文章出现在公众号的“发表记录”里，有链接可以转发，但不推送给关注者、不在主页展示、不占用群发次数。",
    "broadcast": "群发：推送给全部（或某个标签的）关注者，出现在他们的消息列表里；占用群发次数（订阅号每天 1 次，服务号每月 4 次，与公众平台上手动群发共用），发出后不能修改。",
}


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
        review_names=texts.REVIEW, articles=[(aid, titles.get(aid, "（已删除）")) for aid in ids],
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


@page("/pushes/{id}/submit", role="editor", method="POST", name="push_submit")
async def submit(request: web.Request) -> web.StreamResponse:
    who = editor(request).name
    return await _act(request, "push_submit", lambda svc, i: review.submit(svc, i, who), "已提交审批，审批人会在工作台看到它。")


@page("/pushes/{id}/approve", role="approver", method="POST", name="push_approve")
async def approve(request: web.Request) -> web.StreamResponse:
    who = editor(request).name
    return await _act(request, "push_approve", lambda svc, i: review.approve(svc, i, who),
                      "已批准：到计划时间会自动发出（不会提前）。")


@page("/pushes/{id}/reject", role="approver", method="POST", name="push_reject")
async def reject(request: web.Request) -> web.StreamResponse:
    who = editor(request).name
    comment = (await form(request)).get("comment", "")
    return await _act(request, "push_reject", lambda svc, i: review.reject(svc, i, who, comment),
                      "已退回，作者会看到您的意见。")


@page("/pushes/{id}/send-now", role="approver", method="POST", name="push_send_now")
async def send_now(request: web.Request) -> web.StreamResponse:
    who = editor(request).name
    return await _act(request, "push_send_now", lambda svc, i: editing.send_now(svc, i, by=who),
                      "将立即发送，几秒内由系统完成。")


@page("/pushes/{id}/cancel", role="editor", method="POST", name="push_cancel")
async def cancel(request: web.Request) -> web.StreamResponse:
    who = editor(request).name
    return await _act(request, "push_cancel", lambda svc, i: editing.cancel(svc, i, by=who), "已取消，文章已放回待推送。")


@page("/pushes/{id}/retry", role="editor", method="POST", name="push_retry")
async def retry(request: web.Request) -> web.StreamResponse:
    who = editor(request).name
    return await _act(request, "push_retry", lambda svc, i: editing.retry(svc, i, by=who), "已安排重试。")


@page("/pushes/{id}/ack", role="editor", method="POST", name="push_ack")
async def ack(request: web.Request) -> web.StreamResponse:
    who = editor(request).name

    async def run(svc, i):
        await editing.ack(svc, i, by=who)
        return await editing.get(svc, i)

    return await _act(request, "push_ack", run, "已确认知悉，不再提醒。")


@page("/pushes/{id}/preview", role="editor", method="POST", name="push_preview")
async def send_preview(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    push_id = _id(request)
    chosen = [o for o in (await request.post()).getall("to", []) if isinstance(o, str)]
    allowed = {o for o, _ in await _recipients(request)}
    chosen = [o for o in chosen if o in allowed]
    if not chosen:
        raise await redirect(request, "push", "请至少选择一位接收预览的编辑。", "error", id=push_id)
    try:
        rows = await editing.preview(svc, push_id, chosen, by=editor(request).name)
    except editing.EditError as e:
        raise await redirect(request, "push", str(e), "error", id=push_id) from None
    if rows is None:
        message, kind = "草稿还没生成；生成后会自动把预览发给编辑。", "warn"
    else:
        message = "；".join(previews.line(r) for r in rows)
        kind = "ok" if all(r.status == "sent" for r in rows) else "error"
    await audit(request, "push_preview", target_type="push", target_id=push_id, summary=message[:500],
                after={"to": chosen})
    raise await redirect(request, "push", message, kind, id=push_id)
