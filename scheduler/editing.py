"""What editors do to pushes (create, edit, approve, cancel, retry, withdraw), as database changes
with the checks that give a clear answer before anything is written. The WeChat work that follows
is the pipeline's (run by `serve`, or `push run`); only `withdraw` calls WeChat itself.

Every change is a conditional UPDATE on the push's state, so an editor's action and a running
pipeline never both win: an edit or cancel bumps `revision`, and the pipeline's next transition,
which expects the old one, gives up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.context import Services
from bot.errors import WeChatError
from scheduler import planning, texts
from scheduler.drafts import check_fits
from scheduler.pipeline import CANCELLABLE, release_articles
from store.models.content import Article
from store.models.pushes import Push, PushArticle, PushEvent

MAX_ARTICLES = 8


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
    if len(ids) > MAX_ARTICLES:
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
            raise Conflict(texts.ERR_NOT_READY.format(id=aid, status="queued（已在其他推送中）"))
        if rows[aid].status == "imported":
            raise EditError(texts.ERR_NOT_READY.format(id=aid, status=rows[aid].status))
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
        raise Conflict(texts.ERR_NOT_READY.format(id=",".join(map(str, ids)), status="queued（已在其他推送中）"))


async def _place(services: Services, s: AsyncSession, spec: PushSpec, exclude_id: int | None) -> tuple[datetime, bool]:
    now = services.clock.now()
    if spec.at is not None:
        await planning.check_time(s, services.settings, kind=spec.kind, at=spec.at, now=now, exclude_id=exclude_id)
        return spec.at, True
    return await planning.next_free_slot(s, services.settings, kind=spec.kind, after=now,
                                         exclude_id=exclude_id), False


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
                created_at=now, updated_at=now,
            )
            push.articles = [PushArticle(article_id=aid, position=i) for i, aid in enumerate(spec.article_ids)]
            s.add(push)
            await s.flush()
            await _queue(s, spec.article_ids)
            s.add(PushEvent(push_id=push.id, at=now, kind="editor", state="planned",
                            detail=f"创建（{by}）：文章 {','.join(map(str, spec.article_ids))}，"
                                   f"计划 {planning.show(at, services.settings)}"))
    except IntegrityError:
        raise Conflict("这次自动组稿已由另一个进程完成") from None
    return push


async def get(services: Services, push_id: int) -> Push:
    async with services.db() as s:
        push = await s.scalar(select(Push).where(Push.id == push_id).options(selectinload(Push.articles)))
    if push is None:
        raise EditError(texts.ERR_NO_PUSH.format(id=push_id))
    return push


async def _change(services: Services, push: Push, allowed: tuple[str, ...], action: str, detail: str,
                  **values) -> None:
    now = services.clock.now()
    if push.state not in allowed:
        raise EditError(texts.ERR_STATE.format(id=push.id, state=texts.STATE.get(push.state, push.state),
                                               action=action))
    async with services.db.begin() as s:
        got = await s.execute(update(Push).where(Push.id == push.id, Push.state == push.state,
                                                 Push.revision == push.revision)
                              .values(updated_at=now, **values))
        if got.rowcount != 1:
            raise EditError(f"推送 #{push.id} 刚被修改，请重试")
        s.add(PushEvent(push_id=push.id, at=now, kind="editor", state=values.get("state", push.state),
                        detail=detail))
        if values.get("state") == "cancelled":
            await release_articles(s, push.id)


async def approve(services: Services, push_id: int, by: str = "cli") -> Push:
    push = await get(services, push_id)
    now = services.clock.now()
    if push.state == "overdue":
        # The slot was missed: approving again means "send now".
        await _change(services, push, ("overdue",), "批准", f"批准（{by}）：错过的推送现在发送",
                      state="approved", approved_by=by, planned_at=now, next_run_at=now,
                      revision=push.revision + 1)
    else:
        await _change(services, push, CANCELLABLE, "批准", f"批准（{by}）", approved_by=by, next_run_at=now)
    return await get(services, push_id)


async def cancel(services: Services, push_id: int, by: str = "cli") -> Push:
    push = await get(services, push_id)
    now = services.clock.now()
    # next_run_at: the pipeline then deletes the draft from the draft box.
    await _change(services, push, CANCELLABLE, "取消", f"取消（{by}）", state="cancelled",
                  revision=push.revision + 1, next_run_at=now if push.media_id else None,
                  claimed_by=None, claim_until=None, finished_at=now)
    return await get(services, push_id)


async def retry(services: Services, push_id: int, by: str = "cli") -> Push:
    """A failed push goes out again now: redrafted, and a broadcast with the next attempt number
    (so its clientmsgid differs from the failed one's)."""
    push = await get(services, push_id)
    now = services.clock.now()
    async with services.db() as s:
        ids = [link.article_id for link in push.articles]
        await _check_articles(services, s, ids, push.id)
    await _change(services, push, ("failed",), "重试", f"重试（{by}），第 {push.attempt + 1} 次",
                  state="planned", attempt=push.attempt + 1, revision=push.revision + 1, planned_at=now,
                  next_run_at=now, error_code=None, error_reason=None, finished_at=None, clientmsgid=None,
                  publish_id=None, msg_id=None, tag_id=None, retries=0, polls=0)
    async with services.db.begin() as s:
        await _queue(s, ids)
    return await get(services, push_id)


async def edit(services: Services, push_id: int, spec: PushSpec, by: str = "cli") -> Push:
    """Change what or when; an edit after drafting redrafts and needs approval again."""
    push = await get(services, push_id)
    _check_account(services, spec)
    now = services.clock.now()
    old_ids = [link.article_id for link in push.articles]
    async with services.db.begin() as s:
        if spec.article_ids != old_ids:
            await _check_articles(services, s, spec.article_ids, push.id)
        if spec.at is None and push.pinned and spec.kind == push.kind:
            at, pinned = push.planned_at, True
        else:
            at, pinned = await _place(services, s, spec, push.id)
    if push.state not in CANCELLABLE:
        raise EditError(texts.ERR_STATE.format(id=push.id, state=texts.STATE.get(push.state, push.state),
                                               action="修改"))
    content_changed = (spec.article_ids != old_ids or spec.kind != push.kind or spec.source_url != push.source_url
                       or spec.open_comment != push.open_comment
                       or spec.fans_only_comment != push.fans_only_comment)
    redraft = content_changed and push.state != "planned"
    values = dict(kind=spec.kind, planned_at=at, pinned=pinned, tag_name=spec.tag, tag_id=None,
                  source_url=spec.source_url, open_comment=spec.open_comment,
                  fans_only_comment=spec.fans_only_comment, send_ignore_reprint=spec.send_ignore_reprint,
                  preview=spec.preview, revision=push.revision + 1)
    if redraft:
        values.update(state="planned", approved_by=None, next_run_at=now)
    elif push.state == "approved":
        values.update(next_run_at=at)
    async with services.db.begin() as s:
        got = await s.execute(update(Push).where(Push.id == push.id, Push.state == push.state,
                                                 Push.revision == push.revision)
                              .values(updated_at=now, **values))
        if got.rowcount != 1:
            raise EditError(f"推送 #{push.id} 刚被修改，请重试")
        if spec.article_ids != old_ids:
            await release_articles(s, push.id)
            for link in (await s.scalars(select(PushArticle).where(PushArticle.push_id == push.id))).all():
                await s.delete(link)
            await s.flush()
            s.add_all(PushArticle(push_id=push.id, article_id=aid, position=i)
                      for i, aid in enumerate(spec.article_ids))
            await s.flush()
            await _queue(s, spec.article_ids)
        s.add(PushEvent(push_id=push.id, at=now, kind="editor", state=values.get("state", push.state),
                        detail=f"修改（{by}）" + ("：将重新生成草稿" if redraft else "")))
    return await get(services, push_id)


async def withdraw(services: Services, push_id: int, by: str = "cli") -> Push:
    """Delete a done push from WeChat: the published article (freepublish/delete) or the broadcast's
    article pages (mass/delete). Irreversible on WeChat's side."""
    push = await get(services, push_id)
    if push.state != "done":
        raise EditError(texts.ERR_STATE.format(id=push.id, state=texts.STATE.get(push.state, push.state),
                                               action="撤回"))
    try:
        if push.kind == "publish":
            await services.api.publish_delete(push.article_id, 0)
            call = f"freepublish/delete article_id {push.article_id}"
        else:
            await services.api.mass_delete(push.msg_id, 0)
            call = f"message/mass/delete msg_id {push.msg_id}"
    except WeChatError as e:
        async with services.db.begin() as s:
            s.add(PushEvent(push_id=push.id, at=services.clock.now(), kind="wechat", state=push.state,
                            detail=f"撤回失败 ✗ {e.code} {e.message}"))
        raise EditError(texts.REASON_WECHAT.format(code=e.code, message=e.message)) from e
    await _change(services, push, ("done",), "撤回", f"撤回（{by}）：{call}", state="withdrawn")
    async with services.db.begin() as s:
        urls = [link.url for link in push.articles if link.url]
        if urls:
            # News replies must stop linking to a deleted page; they fall back to the source URL.
            await s.execute(update(Article).where(Article.wechat_url.in_(urls)).values(wechat_url=None))
    return await get(services, push_id)
