"""What editors do to pushes (create, edit, preview, approve, send now, cancel, retry, acknowledge,
withdraw), as database changes with the checks that give a clear answer before anything is written.
The CLI and the coming console both call these. The WeChat work that follows is the pipeline's (run
by `serve`, or `push run`); only `preview` and `withdraw` call WeChat themselves, to answer at once.

Every change goes through scheduler/states.py (a conditional UPDATE on the push's state and
revision), so an editor's action and a running pipeline never both win: an edit or cancel bumps
`revision`, and the pipeline's next transition, which expects the old one, gives up. Nothing an
editor does sends a push before its planned time except `send_now`, which says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.services import Services
from scheduler import notify, planning, previews, states, texts
from scheduler.drafts import check_fits
from scheduler.states import CANCELLABLE, HAS_DRAFT, release_articles
from store.models.content import Article
from store.models.pushes import Push, PushArticle, PushEvent, PushPreview
from wechat.errors import WeChatError
from wechat.limits import DRAFT_ARTICLES


class EditError(ValueError):
    """Refused, with the reason for the editor."""


class Conflict(EditError):
    """Another process or editor changed the same rows first."""


@dataclass
class PushSpec:
    article_ids: list[int]
    kind: str = "publish"
    at: datetime | None = None  # pinned time; None = the next free slot
    tag: str | None = None
    preview: bool = False
    source_url: str | None = None
    open_comment: bool = False
    fans_only_comment: bool = False
    send_ignore_reprint: bool = False


def parse_ids(text: str) -> list[int]:
    parts = [p.strip() for p in text.replace("，", ",").split(",") if p.strip()]
    if not parts or not all(p.isdigit() for p in parts):
        raise EditError(texts.ERR_BAD_IDS.format(ids=text))
    return [int(p) for p in parts]


async def _check_articles(services: Services, s: AsyncSession, ids: list[int], push_id: int | None) -> None:
    if len(ids) > DRAFT_ARTICLES:
        raise EditError(texts.ERR_TOO_MANY.format(n=len(ids)))
    if not ids:
        raise EditError(texts.ERR_BAD_IDS.format(ids=""))
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise EditError(texts.ERR_DUPLICATE_ARTICLES.format(ids=",".join(map(str, dupes))))
    rows = {a.id: a for a in (await s.scalars(select(Article).where(Article.id.in_(ids)))).all()}
    missing = [i for i in ids if i not in rows]
    if missing:
        raise EditError(texts.ERR_MISSING_ARTICLES.format(ids=",".join(map(str, missing))))
    for aid in ids:
        if rows[aid].status == "queued" and not await _in_push(s, aid, push_id):
            raise Conflict(texts.ERR_ARTICLE_TAKEN.format(id=aid))
        if rows[aid].status == "imported":
            raise EditError(texts.ERR_NOT_READY.format(id=aid))
        reason = await check_fits(services, rows[aid])
        if reason:
            raise EditError(reason)


async def _in_push(s: AsyncSession, article_id: int, push_id: int | None) -> bool:
    if push_id is None:
        return False
    found = await s.scalar(select(PushArticle.id).where(PushArticle.push_id == push_id,
                                                        PushArticle.article_id == article_id))
    return found is not None


async def _queue(s: AsyncSession, ids: list[int]) -> None:
    """Mark the articles as taken; fails when another push took one meanwhile (the row lock makes
    two composers on PostgreSQL wait for each other, and the second sees the first's change)."""
    got = await s.execute(update(Article).where(Article.id.in_(ids), Article.status != "queued")
                          .values(status="queued"))
    if got.rowcount != len(ids):
        raise Conflict(texts.ERR_ARTICLE_TAKEN.format(id=",".join(map(str, ids))))


async def _place(services: Services, s: AsyncSession, spec: PushSpec, exclude_id: int | None) -> tuple[datetime, bool]:
    now = services.clock.now()
    if spec.at is not None:
        await planning.check_time(s, services.settings, kind=spec.kind, at=spec.at, now=now, exclude_id=exclude_id)
        return spec.at, True
    return await planning.next_free_slot(s, services.settings, kind=spec.kind, after=now,
                                         exclude_id=exclude_id), False


def _by(by: str) -> str:
    return texts.BY.get(by, by)


def _check_account(services: Services, spec: PushSpec) -> None:
    if not services.settings.wechat.verified:
        raise EditError(texts.ERR_UNVERIFIED)
    if spec.tag and spec.kind != "broadcast":
        raise EditError(texts.ERR_TAG_NEEDS_BROADCAST)


async def create(services: Services, spec: PushSpec, *, by: str = "cli", compose_key: str | None = None) -> Push:
    _check_account(services, spec)
    now = services.clock.now()
    try:
        async with services.db.begin() as s:
            await _check_articles(services, s, spec.article_ids, None)
            at, pinned = await _place(services, s, spec, None)
            push = Push(
                kind=spec.kind, state="planned", planned_at=at, pinned=pinned, next_run_at=now,
                tag_name=spec.tag, source_url=spec.source_url, open_comment=spec.open_comment,
                fans_only_comment=spec.fans_only_comment, send_ignore_reprint=spec.send_ignore_reprint,
                preview=spec.preview, revision=1, attempt=1, polls=0, retries=0, compose_key=compose_key,
                created_by=by, review="draft", created_at=now, updated_at=now,
            )
            push.articles = [PushArticle(article_id=aid, position=i) for i, aid in enumerate(spec.article_ids)]
            s.add(push)
            await s.flush()
            await _queue(s, spec.article_ids)
            s.add(PushEvent(push_id=push.id, at=now, kind="editor", state="planned",
                            detail=texts.EV_CREATED.format(by=_by(by), ids=",".join(map(str, spec.article_ids)),
                                                           at=planning.show(at, services.settings))))
    except IntegrityError:
        raise Conflict(texts.ERR_COMPOSED_ELSEWHERE) from None
    return push


async def get(services: Services, push_id: int) -> Push:
    async with services.db() as s:
        push = await s.scalar(select(Push).where(Push.id == push_id).options(selectinload(Push.articles)))
    if push is None:
        raise EditError(texts.ERR_NO_PUSH.format(id=push_id))
    return push


def _refuse(push: Push, action: str) -> EditError:
    return EditError(texts.ERR_STATE.format(id=push.id, state=texts.STATE[push.state], action=action))


async def _change(services: Services, push: Push, allowed: tuple[str, ...], action: str, to: str | None,
                  detail: str, **values) -> None:
    """An editor's change through the one writer; "changed meanwhile" becomes a clear answer."""
    if push.state not in allowed:
        raise _refuse(push, action)
    try:
        await states.write(services, push, to, event_kind="editor", detail=detail, **values)
    except states.Stale:
        raise EditError(texts.ERR_CHANGED.format(id=push.id)) from None


async def approve(services: Services, push_id: int, by: str = "cli") -> tuple[Push, bool]:
    """Approve a push for its planned time; (push, False) when it was approved already: then nothing
    changes. Never sends early, and a missed push is not revived by an approval (see send_now)."""
    push = await get(services, push_id)
    if push.state == "overdue":
        raise EditError(texts.CLI_OVERDUE_APPROVE.format(id=push.id, at=planning.show(push.planned_at, services.settings),
                                                         cmd=texts.CMD))
    if push.approved_by is not None and push.state in CANCELLABLE:
        return push, False
    # next_run_at: a push waiting for its approval moves on (to approved, and waits there for its time).
    await _change(services, push, (states.S.PLANNED, states.S.PREPARING, states.S.DRAFTED, states.S.PREVIEWED),
                  "批准", None, texts.EV_APPROVED.format(by=_by(by)), approved_by=by, next_run_at=services.clock.now(),
                  review=states.Review.APPROVED)
    return await get(services, push_id), True


async def send_now(services: Services, push_id: int, by: str = "cli") -> Push:
    """Send now instead of at the planned time (approving it if needed); a failed push is retried
    at once. The only path that sends before the planned time."""
    push = await get(services, push_id)
    now = services.clock.now()
    if push.state not in (*CANCELLABLE, states.S.FAILED):
        raise _refuse(push, "立即发送")
    if push.kind == "broadcast":
        async with services.db() as s:
            await planning.check_broadcast_quota(s, services.settings, at=now, exclude_id=push.id)
    detail = texts.EV_SEND_NOW.format(by=_by(by), at=planning.show(push.planned_at, services.settings))
    if push.state == states.S.FAILED:
        return await _retry(services, push, by, at=now, pinned=True, detail=detail)
    to = states.S.APPROVED if push.state == states.S.OVERDUE else None
    await _change(services, push, (*CANCELLABLE,), "立即发送", to, detail, planned_at=now, pinned=True,
                  approved_by=push.approved_by or by, next_run_at=now)
    return await get(services, push_id)


async def cancel(services: Services, push_id: int, by: str = "cli") -> Push:
    push = await get(services, push_id)
    now = services.clock.now()
    # next_run_at: the pipeline then deletes the draft from the draft box.
    await _change(services, push, CANCELLABLE, "取消", states.S.CANCELLED, texts.EV_CANCELLED.format(by=_by(by)),
                  revision=push.revision + 1, next_run_at=now if push.media_id else None,
                  claimed_by=None, claim_until=None, finished_at=now)
    return await get(services, push_id)


async def retry(services: Services, push_id: int, by: str = "cli") -> Push:
    """A failed push goes out again at its planned time if that is still ahead, else at the next
    free slot (`send_now` for at once): redrafted, and a broadcast with the next attempt number (so
    its clientmsgid differs from the failed one's)."""
    push = await get(services, push_id)
    if push.state != states.S.FAILED:
        raise _refuse(push, "重试")
    now = services.clock.now()
    async with services.db() as s:
        if push.planned_at > now:
            at, pinned = push.planned_at, push.pinned
            if push.kind == "broadcast":
                await planning.check_broadcast_quota(s, services.settings, at=at, exclude_id=push.id)
        else:
            try:
                at = await planning.next_free_slot(s, services.settings, kind=push.kind, after=now, exclude_id=push.id)
            except planning.PlanningError as e:
                raise EditError(f"{e}{texts.ERR_RETRY_NOW.format(cmd=texts.CMD, id=push.id)}") from None
            pinned = False
    return await _retry(services, push, by, at=at, pinned=pinned)


async def _retry(services: Services, push: Push, by: str, *, at: datetime, pinned: bool, detail: str = "") -> Push:
    ids = [link.article_id for link in push.articles]
    async with services.db() as s:
        await _check_articles(services, s, ids, push.id)

    async def take(s: AsyncSession) -> None:
        await _queue(s, ids)

    detail = (detail + "；" if detail else "") + texts.EV_RETRIED.format(
        by=_by(by), attempt=push.attempt + 1, at=planning.show(at, services.settings))
    await _change(services, push, (states.S.FAILED,), "重试", states.S.PLANNED, detail, also=take,
                  attempt=push.attempt + 1, revision=push.revision + 1, planned_at=at, pinned=pinned,
                  next_run_at=services.clock.now(), error_code=None, error_reason=None, finished_at=None,
                  clientmsgid=None, publish_id=None, msg_id=None, tag_id=None, retries=0, polls=0)
    return await get(services, push.id)


async def edit(services: Services, push_id: int, spec: PushSpec, by: str = "cli") -> Push:
    """Change what or when; an edit after drafting redrafts and needs approval again. A missed push
    given a new time waits for it again (approved as it was)."""
    push = await get(services, push_id)
    _check_account(services, spec)
    if push.state not in CANCELLABLE:
        raise _refuse(push, "修改")
    now = services.clock.now()
    old_ids = [link.article_id for link in push.articles]
    async with services.db.begin() as s:
        if spec.article_ids != old_ids:
            await _check_articles(services, s, spec.article_ids, push.id)
        if spec.at is None and push.pinned and spec.kind == push.kind and push.state != states.S.OVERDUE:
            at, pinned = push.planned_at, True
        else:
            at, pinned = await _place(services, s, spec, push.id)
    content_changed = (spec.article_ids != old_ids or spec.kind != push.kind or spec.source_url != push.source_url
                       or spec.open_comment != push.open_comment
                       or spec.fans_only_comment != push.fans_only_comment)
    redraft = content_changed and push.state != states.S.PLANNED
    # What was approved (or submitted for approval) is no longer what will be sent.
    unapprove = content_changed and (push.approved_by is not None or push.review == states.Review.SUBMITTED)
    values = dict(kind=spec.kind, planned_at=at, pinned=pinned, tag_name=spec.tag, tag_id=None,
                  source_url=spec.source_url, open_comment=spec.open_comment,
                  fans_only_comment=spec.fans_only_comment, send_ignore_reprint=spec.send_ignore_reprint,
                  preview=spec.preview, revision=push.revision + 1)
    to = None
    if unapprove:
        values.update(approved_by=None, review=states.Review.DRAFT)
    if redraft:
        to = states.S.PLANNED
        values.update(approved_by=None, next_run_at=now)
    elif push.state == states.S.OVERDUE:
        to = states.S.APPROVED
        values.update(next_run_at=at)
    elif push.state == states.S.APPROVED:
        values.update(next_run_at=at)

    async def relink(s: AsyncSession) -> None:
        if spec.article_ids == old_ids:
            return
        await release_articles(s, push.id)
        for link in (await s.scalars(select(PushArticle).where(PushArticle.push_id == push.id))).all():
            await s.delete(link)
        await s.flush()
        s.add_all(PushArticle(push_id=push.id, article_id=aid, position=i) for i, aid in enumerate(spec.article_ids))
        await s.flush()
        await _queue(s, spec.article_ids)

    notice = None
    if (not redraft and push.state in (states.S.DRAFTED, states.S.PREVIEWED) and push.approved_by is None
            and push.next_run_at is None and at != push.planned_at):
        # The editors were asked to approve it for the old time: ask again for the new one.
        notice = notify.approval(services, push, await previews.rows_of(services, push.id, push.revision))
    await _change(services, push, CANCELLABLE, "修改", to,
                  (texts.EV_REDRAFT if redraft else texts.EV_EDITED).format(by=_by(by)), also=relink,
                  notice=notice, **values)
    return await get(services, push_id)


async def preview(services: Services, push_id: int, openids: list[str] | None = None,
                  by: str = "cli") -> list[PushPreview] | None:
    """Send the current draft as a preview now, to `openids` or the editors; the outcome per
    recipient. None when there is no draft yet: then the pipeline previews it once drafted."""
    push = await get(services, push_id)
    if push.state in (states.S.PLANNED, states.S.PREPARING):
        if not push.preview:
            await _change(services, push, (push.state,), "预览", None, texts.EV_EDITED.format(by=_by(by)), preview=True)
        return None
    if push.state not in HAS_DRAFT:
        raise EditError(texts.ERR_NO_DRAFT.format(id=push.id, state=texts.STATE[push.state]))
    recipients = openids or list(services.settings.editors.openids)
    if not recipients:
        raise EditError(texts.PREVIEW_NOBODY)
    try:
        rows = await previews.send(services, push, recipients, by=by)
    except states.Stale:
        raise EditError(texts.ERR_CHANGED.format(id=push.id)) from None
    await states.record(services, push, texts.EV_PREVIEW.format(summary="；".join(previews.line(r) for r in rows)),
                        kind="editor")
    return rows


async def ack(services: Services, push_id: int, by: str = "cli") -> int:
    """An editor has seen the push's failure or missed-time notices (see notify.ack)."""
    push = await get(services, push_id)
    n = await notify.ack(services, push.id, by)
    if n:
        await states.record(services, push, texts.EV_ACKED.format(by=_by(by)), kind="editor")
    return n


async def withdraw(services: Services, push_id: int, by: str = "cli") -> Push:
    """Delete a done push from WeChat: the published article (freepublish/delete) or the broadcast's
    article pages (mass/delete). Irreversible on WeChat's side; the articles become "withdrawn"."""
    push = await get(services, push_id)
    if push.state != states.S.DONE:
        raise _refuse(push, "撤回")
    try:
        if push.kind == "publish":
            await services.api.publish_delete(push.article_id, 0)
        else:
            await services.api.mass_delete(push.msg_id, 0)
    except WeChatError as e:
        await states.record(services, push, texts.EV_WITHDRAW_FAILED.format(cause=texts.cause(e.code, e.message)),
                            {"errcode": e.code})
        raise EditError(texts.explain(e.code, e.message)) from e
    urls = [link.url for link in push.articles if link.url]
    ids = [link.article_id for link in push.articles]

    async def unpublish(s: AsyncSession) -> None:
        # News replies must stop linking to a deleted page (they fall back to the source URL), and
        # the articles no longer count as published.
        await s.execute(update(Article).where(
            Article.id.in_(ids), Article.status == "published",
            or_(Article.wechat_url.is_(None), Article.wechat_url.in_(urls))).values(status="withdrawn"))
        if urls:
            await s.execute(update(Article).where(Article.wechat_url.in_(urls)).values(wechat_url=None))

    await _change(services, push, (states.S.DONE,), "撤回", states.S.WITHDRAWN, texts.EV_WITHDRAWN.format(by=_by(by)),
                  data={"article_id": push.article_id, "msg_id": push.msg_id}, also=unpublish)
    return await get(services, push_id)
