"""The push states, the transitions allowed between them, and the one writer of a push's row.

    planned     → preparing | cancelled | failed
    preparing   → drafted | planned | cancelled | failed
    drafted     → previewed | approved | planned | cancelled | failed
    previewed   → approved | planned | cancelled | failed
    approved    → submitting | overdue | planned | cancelled | failed
    overdue     → approved | planned | cancelled
    submitting  → submitted | confirming | approved | done | failed
    submitted   → done | failed
    confirming  → done | failed
    done        → withdrawn
    failed      → planned
    cancelled   →
    withdrawn   →

`→ planned` is an edit that changes what is sent (it is drafted again) or a retry; `overdue → approved`
is an editor's "send now" or new time; `submitting → approved` is a submit WeChat refused before
taking it (a quota, a transient error). Nothing leaves `approved` for `submitting` before the planned
time (scheduler/pipeline.py checks it at the one place that submits).

A push's approval has states of its own beside these (`review`, REVIEW_TRANSITIONS; drawn indented
further, apart from the pipeline's table above):

      draft       → submitted | approved          (submitted for approval; approved directly: the CLI)
      submitted   → approved | rejected | draft   (an approver decides; an edit takes it back)
      rejected    → submitted | approved | draft  (the author edits and submits again, with the comment kept
                                                   in the timeline)
      approved    → draft                         (an edit that changes what is sent clears the approval)

`approved_by` stays what the pipeline reads (a push waits in drafted/previewed until it is set);
`review` says where the human approval stands, for the console's tabs and buttons.

`write()` is the only code that changes a push's row, for the pipeline and for editors alike: one
committed, conditional UPDATE (same state, same revision, and whatever else the writer's decision
rested on), with its line in the timeline and the editors' notices in the same transaction, so a
process killed at any point leaves a row that says what to do next. A push that will not go out
(cancelled, failed) frees its articles in that transaction too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import metrics
from core.services import Services
from scheduler import texts
from store.models.content import Article
from store.models.pushes import Push, PushArticle, PushEvent


class State(StrEnum):
    PLANNED = "planned"
    PREPARING = "preparing"
    DRAFTED = "drafted"
    PREVIEWED = "previewed"
    APPROVED = "approved"
    OVERDUE = "overdue"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    CONFIRMING = "confirming"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    WITHDRAWN = "withdrawn"


class Review(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    REJECTED = "rejected"
    APPROVED = "approved"


R = Review
REVIEW_TRANSITIONS: dict[Review, frozenset[Review]] = {
    R.DRAFT: frozenset({R.SUBMITTED, R.APPROVED}),
    R.SUBMITTED: frozenset({R.APPROVED, R.REJECTED, R.DRAFT}),
    R.REJECTED: frozenset({R.SUBMITTED, R.APPROVED, R.DRAFT}),
    R.APPROVED: frozenset({R.DRAFT}),
}

S = State
TRANSITIONS: dict[State, frozenset[State]] = {
    S.PLANNED: frozenset({S.PREPARING, S.CANCELLED, S.FAILED}),
    S.PREPARING: frozenset({S.DRAFTED, S.PLANNED, S.CANCELLED, S.FAILED}),
    S.DRAFTED: frozenset({S.PREVIEWED, S.APPROVED, S.PLANNED, S.CANCELLED, S.FAILED}),
    S.PREVIEWED: frozenset({S.APPROVED, S.PLANNED, S.CANCELLED, S.FAILED}),
    S.APPROVED: frozenset({S.SUBMITTING, S.OVERDUE, S.PLANNED, S.CANCELLED, S.FAILED}),
    S.OVERDUE: frozenset({S.APPROVED, S.PLANNED, S.CANCELLED}),
    S.SUBMITTING: frozenset({S.SUBMITTED, S.CONFIRMING, S.APPROVED, S.DONE, S.FAILED}),
    S.SUBMITTED: frozenset({S.DONE, S.FAILED}),
    S.CONFIRMING: frozenset({S.DONE, S.FAILED}),
    S.DONE: frozenset({S.WITHDRAWN}),
    S.FAILED: frozenset({S.PLANNED}),
    S.CANCELLED: frozenset(),
    S.WITHDRAWN: frozenset(),
}

# What editors may still change or stop (nothing has been handed to WeChat for sending yet).
CANCELLABLE = (S.PLANNED, S.PREPARING, S.DRAFTED, S.PREVIEWED, S.APPROVED, S.OVERDUE)
# A draft exists and nothing was submitted: it can be previewed.
HAS_DRAFT = (S.DRAFTED, S.PREVIEWED, S.APPROVED, S.OVERDUE)
WAITING_FOR_OUTCOME = (S.SUBMITTED, S.CONFIRMING)
FINISHED = (S.DONE, S.FAILED, S.CANCELLED, S.WITHDRAWN)
# The push will not go out: its articles are free for another push.
RELEASING = (S.CANCELLED, S.FAILED)


class Stale(Exception):
    """The push is no longer as the writer read it: another writer came first (an editor's edit or
    cancel, the pipeline's next step), or the writer's lease expired."""


class IllegalTransition(ValueError):
    """A transition the table above does not allow: a bug, never an editor's mistake."""


Notice = tuple[str, str | Callable[[str], str]]


async def release_articles(s: AsyncSession, push_id: int) -> None:
    """A push that will not go out frees its articles: ready again (published if they were before)."""
    ids = select(PushArticle.article_id).where(PushArticle.push_id == push_id)
    await s.execute(update(Article).where(Article.id.in_(ids), Article.status == "queued").values(
        status=case((Article.wechat_url.is_(None), "ready"), else_="published")))


async def write(
    services: Services,
    push: Push,
    to: str | None = None,
    *,
    event_kind: str = "state",
    detail: str = "",
    data: dict | None = None,
    notice: Notice | None = None,
    worker: str | None = None,
    where: tuple = (),
    also: Callable[[AsyncSession], Awaitable[Any]] | None = None,
    review: str | None = None,
    **fields: Any,
) -> None:
    """Change the push (to state `to`, and/or `fields`) if it is still as read: same state and
    revision, still leased to `worker` when given, and every condition in `where`. Adds a timeline
    line (`detail`; "a → b" by default for a state change), the notices (`notice`: kind and text, or
    a function of the editor's openid giving the text), and runs `also` in the same transaction.
    `review` moves the approval (REVIEW_TRANSITIONS), on the condition that it is still as read.
    Raises Stale when the push changed meanwhile; updates `push` in memory on success."""
    from scheduler import notify  # notify builds on this module's states

    if to is not None and to != push.state and State(to) not in TRANSITIONS[State(push.state)]:
        raise IllegalTransition(f"push {push.id}: {push.state} → {to}")
    if review is not None and review != push.review and Review(review) not in REVIEW_TRANSITIONS[Review(push.review)]:
        raise IllegalTransition(f"push {push.id}: review {push.review} → {review}")
    now = services.clock.now()
    values = dict(fields, updated_at=now)
    if to is not None:
        values["state"] = to
    cond = [Push.id == push.id, Push.state == push.state, Push.revision == push.revision, *where]
    if review is not None:
        values["review"] = review
        cond.append(Push.review == push.review)
    if worker is not None:
        cond.append(Push.claimed_by == worker)
        values.setdefault("claim_until", now + timedelta(seconds=services.settings.scheduler.claim_seconds))
    async with services.db.begin() as s:
        result = await s.execute(update(Push).where(*cond).values(**values))
        if result.rowcount != 1:
            raise Stale(push.id)
        before = push.state
        for key, value in values.items():
            setattr(push, key, value)
        if to is not None and to != before and not detail:
            detail = f"{texts.STATE[before]} → {texts.STATE[to]}"
        if detail:
            s.add(PushEvent(push_id=push.id, at=now, kind=event_kind, state=push.state, detail=detail,
                            data=data))
        if notice:
            s.add_all(notify.notices(services, push, *notice))
        if to in RELEASING and to != before:
            await release_articles(s, push.id)
        if also is not None:
            await also(s)
    if to is not None and to != before:
        metrics.PUSH_TRANSITIONS.labels(to).inc()


async def record(services: Services, push: Push, detail: str, data: dict | None = None,
                 kind: str = "wechat") -> None:
    """A timeline line without a change of the push (a WeChat answer, a reconciliation finding)."""
    async with services.db.begin() as s:
        s.add(PushEvent(push_id=push.id, at=services.clock.now(), kind=kind, state=push.state,
                        detail=detail, data=data))

