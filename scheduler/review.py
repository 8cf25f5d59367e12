"""The approval of a push, as the console asks for it: submit for approval, approve (never one's own
push unless `[console] allow_self_approval`), reject with a comment the author sees. The approval's
states are declared in scheduler/states.py (REVIEW_TRANSITIONS) and written by its one writer; the
approval itself is scheduler/editing.approve, shared with `main.py push approve`."""

from __future__ import annotations

from core.services import Services
from scheduler import editing, states, texts
from scheduler.states import CANCELLABLE, Review
from store.models.pushes import Push

# Names the system writes as `by` (the CLI, the pipeline): not people, so not "their own" push.
SYSTEM = set(texts.BY)


def _refuse(push: Push, action: str) -> editing.EditError:
    return editing.EditError(texts.ERR_REVIEW_STATE.format(id=push.id, review=texts.REVIEW[push.review],
                                                           action=action))


async def _write(services: Services, push: Push, review: str, detail: str, **values) -> Push:
    try:
        await states.write(services, push, None, event_kind="editor", detail=detail, review=review, **values)
    except states.Stale:
        raise editing.EditError(texts.ERR_CHANGED.format(id=push.id)) from None
    return await editing.get(services, push.id)


async def submit(services: Services, push_id: int, by: str) -> Push:
    push = await editing.get(services, push_id)
    if push.state not in CANCELLABLE or push.state == states.S.OVERDUE:
        raise editing.EditError(texts.ERR_STATE.format(id=push.id, state=texts.STATE[push.state], action="提交审批"))
    if push.review not in (Review.DRAFT, Review.REJECTED) or push.approved_by:
        raise _refuse(push, "提交审批")
    return await _write(services, push, Review.SUBMITTED, texts.EV_SUBMITTED_FOR_REVIEW.format(by=by),
                        submitted_by=by)


async def reject(services: Services, push_id: int, by: str, comment: str) -> Push:
    comment = comment.strip()
    if not comment:
        raise editing.EditError(texts.ERR_REJECT_NEEDS_COMMENT)
    push = await editing.get(services, push_id)
    if push.review != Review.SUBMITTED:
        raise _refuse(push, "退回")
    return await _write(services, push, Review.REJECTED, texts.EV_REJECTED.format(by=by, comment=comment[:500]),
                        review_comment=comment[:2000])


def may_approve(services: Services, push: Push, by: str) -> bool:
    """The self-approval rule: an approver never approves a push they wrote or submitted, unless
    the office has one person (`[console] allow_self_approval`)."""
    if services.settings.console.allow_self_approval:
        return True
    authors = {push.created_by, push.submitted_by} - {None} - SYSTEM
    return by not in authors


async def approve(services: Services, push_id: int, by: str) -> Push:
    push = await editing.get(services, push_id)
    if push.review != Review.SUBMITTED:
        raise _refuse(push, "批准")
    if not may_approve(services, push, by):
        raise editing.EditError(texts.ERR_SELF_APPROVAL.format(id=push.id))
    push, changed = await editing.approve(services, push_id, by=by)
    if not changed:
        raise editing.EditError(texts.ERR_ALREADY_APPROVED.format(id=push.id))
    return push
