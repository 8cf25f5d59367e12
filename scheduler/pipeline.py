"""THE push state machine, in one place.

    planned → preparing → drafted → [previewed] → approved → submitting → submitted → done
                                                                      ↘ confirming ↗   ↘ failed
    (cancelled from any state before submitting; overdue when a slot was missed beyond the grace
    period; withdrawn after done)

Every transition is one committed, conditional UPDATE (same state, same revision, still our claim)
made *before* the next WeChat call, so a process killed at any point leaves a row that says what to
do next, and an editor's cancel or edit made meanwhile wins over the pipeline.

What each state does when the scheduler picks the push up (`advance`):
- planned/preparing: upload images (the content store's UploadCache: never the same image twice),
  render, `draft/add`. A draft from an older revision is deleted first.
- drafted/previewed: `mass/preview` to the editors when asked; approved when an editor approved or
  `auto_approve`, else wait (and tell the editors).
- approved: at planned_at (late only within grace_minutes, else overdue) → submitting, then
  `freepublish/submit` or `message/mass/sendall`.
- submitting: the outcome of the submit is unknown (the process died, or the network failed).
  Broadcast: send again with the same clientmsgid — WeChat keeps it 24 h (45065 → the first msg_id,
  45066 → wait a minute). Publish: look for it in `freepublish/batchget` (matching the draft's
  titles, newer than the submit), and while the draft is still in the box (it leaves when the publish
  succeeds) wait `publish_settle_seconds` for a publish in progress before submitting again.
- submitted/confirming: the PUBLISHJOBFINISH / MASSSENDJOBFINISH event normally finishes it
  (handlers/pushes.py); sparse polling of `freepublish/get` / `mass/get` is the fallback.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.context import Services
from bot.errors import (
    ContentRejected,
    DuplicateClientMsgId,
    QuotaExceeded,
    SendTooFast,
    TokenInvalid,
    TransientError,
    WeChatError,
    WindowClosed,
)
from bot.wechat_api import OutcomeUnknown
from scheduler import notify, planning, texts
from scheduler.drafts import ArticleMissing, build_draft, titles_of
from store.content.render import ArticleTooLong
from store.models.content import Article
from store.models.pushes import Push, PushArticle, PushEvent

log = logging.getLogger("scheduler.pipeline")

CANCELLABLE = ("planned", "preparing", "drafted", "previewed", "approved", "overdue")
WAITING_FOR_OUTCOME = ("submitted", "confirming")
FINISHED = ("done", "failed", "cancelled", "withdrawn")
MAX_BACKOFF = 1800.0
# WeChat gives an administrator 30 minutes to confirm a protected broadcast (wechat-api.md §6).
CONFIRM_TIMEOUT = timedelta(minutes=30)
# A publish found in freepublish/batchget up to this long before our submit is still ours: WeChat's
# update_time and our clock may differ a little.
CLOCK_SLACK = timedelta(minutes=2)


async def release_articles(s: AsyncSession, push_id: int) -> None:
    """A push that will not go out frees its articles: ready again (published if they were before)."""
    ids = select(PushArticle.article_id).where(PushArticle.push_id == push_id)
    await s.execute(update(Article).where(Article.id.in_(ids), Article.status == "queued").values(
        status=case((Article.wechat_url.is_(None), "ready"), else_="published")))


class LostClaim(Exception):
    """The push changed under us (an editor cancelled or edited it, or our lease expired)."""


def backoff(base: float, n: int) -> float:
    return min(MAX_BACKOFF, base * (2 ** max(0, n)))


class Pipeline:
    """Moves pushes through the state machine; `worker` names this process in the claims."""

    def __init__(self, services: Services, worker: str) -> None:
        self.services = services
        self.settings = services.settings
        self.api = services.api
        self.clock = services.clock
        self.worker = worker

    # --- persistence ------------------------------------------------------------------------------

    async def load(self, push_id: int) -> Push | None:
        async with self.services.db() as s:
            return await s.scalar(
                select(Push).where(Push.id == push_id).options(selectinload(Push.articles))
            )

    async def save(
        self,
        push: Push,
        state: str | None = None,
        *,
        detail: str = "",
        data: dict | None = None,
        kind: str = "state",
        notice: tuple[str, str] | None = None,
        claimed: bool = True,
        **fields,
    ) -> None:
        """Commit a change of the push if it is still as we read it (and still ours), with a line in
        its timeline and, optionally, a notice to the editors. Raises LostClaim otherwise."""
        now = self.clock.now()
        values = dict(fields, updated_at=now)
        if state is not None:
            values["state"] = state
        if claimed and "claim_until" not in fields:
            values["claim_until"] = now + timedelta(seconds=self.settings.scheduler.claim_seconds)
        cond = [Push.id == push.id, Push.state == push.state, Push.revision == push.revision]
        if claimed:
            cond.append(Push.claimed_by == self.worker)
        async with self.services.db.begin() as s:
            result = await s.execute(update(Push).where(*cond).values(**values))
            if result.rowcount != 1:
                raise LostClaim(push.id)
            if state is not None and state != push.state and not detail:
                detail = f"{push.state} → {state}"
            if detail:
                s.add(PushEvent(push_id=push.id, at=now, kind=kind if state is None else "state",
                                state=state or push.state, detail=detail, data=data))
            if notice:
                s.add_all(notify.notices(self.services, push.id, *notice))
        for key, value in values.items():
            setattr(push, key, value)

    async def record(self, push: Push, detail: str, data: dict | None = None, kind: str = "wechat") -> None:
        """A timeline line without a state change (a WeChat answer, a reconciliation finding)."""
        async with self.services.db.begin() as s:
            s.add(PushEvent(push_id=push.id, at=self.clock.now(), kind=kind, state=push.state,
                            detail=detail, data=data))

    async def checkpoint(self, name: str, push: Push) -> None:
        """Crash-test hook: with `[scheduler] pause_at` naming this point, stop here for good (the
        test kills the process while it waits). A no-op otherwise."""
        if name in self.settings.scheduler.pause_at:
            log.warning("pipeline paused at %s (push %s)", name, push.id)
            for handler in logging.getLogger().handlers:
                handler.flush()
            await asyncio.Event().wait()

    # --- the driver -------------------------------------------------------------------------------

    async def advance(self, push_id: int, max_steps: int = 12) -> Push | None:
        """Run the push's steps while they are due; return it as it was left."""
        push = await self.load(push_id)
        for _ in range(max_steps):
            if push is None or push.next_run_at is None or push.next_run_at > self.clock.now():
                break
            step = STEPS.get(push.state)
            if step is None:
                break
            try:
                await step(self, push)
            except LostClaim:
                log.info("push %s changed under us; leaving it", push_id)
                return await self.load(push_id)
            except WeChatError as e:
                try:
                    await self._step_error(push, e)
                except LostClaim:
                    return await self.load(push_id)
        return push

    # --- planned / preparing ----------------------------------------------------------------------

    async def prepare(self, push: Push) -> None:
        if push.state == "planned":
            await self.save(push, "preparing", next_run_at=self.clock.now())
        if push.media_id:
            # A draft of an earlier revision (edited or retried since): it no longer says what we send.
            await self._delete_draft(push)
        await self.checkpoint("before:uploads", push)
        try:
            articles = await build_draft(self.services, push)
        except ArticleMissing as e:
            await self.fail(push, None, texts.REASON_NO_ARTICLE.format(article=e.article_id))
            return
        except ArticleTooLong as e:  # the article must change first
            await self.fail(push, None, str(e))
            return
        except WeChatError as e:
            await self._wechat_error(push, e, "uploads")
            return
        await self.checkpoint("before:draft_add", push)
        try:
            media_id = await self.api.draft_add(articles)
        except WeChatError as e:
            await self._wechat_error(push, e, "draft/add")
            return
        await self.checkpoint("after:draft_add", push)
        needs_approval = not (push.approved_by or self.settings.scheduler.auto_approve)
        notice = None
        if not push.preview:
            notice = self._notice(push, "approval" if needs_approval else "drafted")
        await self.save(
            push, "drafted", detail=f"draft/add → media_id {media_id}", data={"media_id": media_id},
            media_id=media_id, retries=0, notice=notice,
            next_run_at=None if (needs_approval and not push.preview) else self.clock.now(),
        )

    async def _delete_draft(self, push: Push) -> None:
        try:
            await self.api.draft_delete(push.media_id)
            await self.record(push, f"draft/delete {push.media_id}（旧草稿）")
        except WeChatError as e:  # already gone (published, deleted by hand): nothing to clean up
            await self.record(push, f"draft/delete {push.media_id} ✗ {e.code} {e.message}")
        await self.save(push, media_id=None, news_media_id=None)

    # --- drafted / previewed ----------------------------------------------------------------------

    async def after_draft(self, push: Push) -> None:
        approved = bool(push.approved_by or self.settings.scheduler.auto_approve)
        if push.state == "drafted" and push.preview:
            await self.checkpoint("before:preview", push)
            reached: list[str] = []
            for openid in self.settings.editors.openids:
                try:
                    try:
                        await self.api.mass_preview(openid, push.news_media_id or push.media_id)
                    except ContentRejected as e:
                        if e.code != 40007 or push.news_media_id:
                            raise
                        # Some accounts refuse draft media_ids for mass APIs (wechat-api.md §6).
                        await self._upload_news(push)
                        await self.api.mass_preview(openid, push.news_media_id)
                    reached.append(openid)
                except WindowClosed as e:
                    # One editor who cannot receive it (not following, bad openid) must not fail the
                    # push: the others still get it, and the draft stays readable in the draft box.
                    await self.record(push, f"mass/preview → {openid} ✗ {e.code} {e.message}")
            await self.save(
                push, "previewed",
                detail=f"mass/preview → {', '.join(reached) or '（没有编辑收到预览）'}",
                notice=None if approved else self._notice(push, "approval"),
                next_run_at=self.clock.now() if approved else None,
            )
            return
        if not approved:
            await self.save(push, next_run_at=None)
            return
        by = push.approved_by or "auto_approve"
        await self.save(push, "approved", detail=f"{push.state} → approved（{by}）",
                        approved_by=by, next_run_at=push.planned_at)

    async def _upload_news(self, push: Push) -> None:
        draft = await self.api.draft_get(push.media_id)
        fields = ("title", "author", "digest", "content", "content_source_url", "thumb_media_id",
                  "need_open_comment", "only_fans_can_comment")
        articles = [{k: item[k] for k in fields if k in item} for item in draft.get("news_item") or []]
        news_media_id = await self.api.upload_news(articles)
        await self.save(push, detail=f"draft media_id 被拒（40007），改用 media/uploadnews → {news_media_id}",
                        kind="wechat", news_media_id=news_media_id)

    # --- approved → submitting --------------------------------------------------------------------

    async def submit(self, push: Push) -> None:
        now = self.clock.now()
        grace = timedelta(minutes=self.settings.scheduler.grace_minutes)
        if now > push.planned_at + grace:
            await self.save(
                push, "overdue", next_run_at=None,
                notice=("overdue", texts.NOTICE_OVERDUE.format(
                    id=push.id, kind=texts.KIND[push.kind], at=planning.show(push.planned_at, self.settings),
                    grace=self.settings.scheduler.grace_minutes)),
            )
            return
        if not self.settings.wechat.verified:
            await self.fail(push, None, texts.REASON_UNVERIFIED)
            return
        if push.kind == "broadcast" and push.tag_name and push.tag_id is None:
            tags = (await self.api.tags_get()).get("tags") or []
            found = [t for t in tags if t.get("name") == push.tag_name]
            if not found:
                known = "、".join(t.get("name", "") for t in tags) or "无"
                await self.fail(push, None, texts.REASON_UNKNOWN_TAG.format(tag=push.tag_name, known=known))
                return
            await self.save(push, tag_id=int(found[0]["id"]))
        await self.save(
            push, "submitting", clientmsgid=push.next_clientmsgid if push.kind == "broadcast" else None,
            submit_started_at=now, next_run_at=now + timedelta(seconds=self.settings.scheduler.poll_seconds),
        )
        await self._call_submit(push)

    async def _call_submit(self, push: Push) -> None:
        await self.checkpoint("before:submit", push)
        try:
            if push.kind == "publish":
                result = {"publish_id": await self.api.publish_submit(push.media_id)}
            else:
                result = await self._sendall(push)
        except SendTooFast as e:
            await self.record(push, f"{e.endpoint or 'mass/sendall'} ✗ 45066：一分钟后用同一 clientmsgid 重发")
            await self.save(push, next_run_at=self.clock.now() + timedelta(seconds=60))
            return
        except WeChatError as e:
            if isinstance(e, OutcomeUnknown) or e.code is None:
                # No answer: the submit may or may not have reached WeChat; reconcile, never guess.
                await self.record(push, f"提交结果未知（{e}），稍后核对")
                await self.save(push, next_run_at=self.clock.now() + timedelta(
                    seconds=min(self.settings.scheduler.poll_seconds, 60)))
                return
            await self._wechat_error(push, e, "submit", back_to="approved")
            return
        await self.checkpoint("after:submit", push)
        await self.submitted(push, result)

    async def _sendall(self, push: Push) -> dict:
        kwargs = dict(tag_id=push.tag_id, clientmsgid=push.clientmsgid,
                      send_ignore_reprint=int(push.send_ignore_reprint))
        try:
            return await self.api.mass_sendall(push.news_media_id or push.media_id, **kwargs)
        except DuplicateClientMsgId as e:  # the client normally turns 45065 into a result already
            return {"msg_id": e.msg_id}
        except ContentRejected as e:
            if e.code != 40007 or push.news_media_id:
                raise
        await self._upload_news(push)
        await self.checkpoint("before:submit", push)
        return await self.api.mass_sendall(push.news_media_id, **kwargs)

    async def submitted(self, push: Push, result: dict) -> None:
        log.info("push %s submitted by %s: %s", push.id, self.worker, result)
        now = self.clock.now()
        poll = now + timedelta(seconds=self.settings.scheduler.poll_seconds)
        if push.kind == "publish":
            await self.save(push, "submitted", detail=f"freepublish/submit → publish_id {result['publish_id']}",
                            data=result, publish_id=str(result["publish_id"]), submitted_at=now,
                            retries=0, polls=0, next_run_at=poll)
            return
        # WeChat's answer does not say that an administrator must confirm: the account setting does.
        waiting = push.tag_id is None and self.settings.scheduler.broadcast_protection
        await self.save(
            push, "confirming" if waiting else "submitted",
            detail=f"mass/sendall（clientmsgid {push.clientmsgid}）→ msg_id {result.get('msg_id')}",
            data=result, msg_id=str(result.get("msg_id")),
            msg_data_id=str(result["msg_data_id"]) if result.get("msg_data_id") else None,
            submitted_at=now, retries=0, polls=0, next_run_at=poll,
        )

    # --- submitting: an unknown outcome -----------------------------------------------------------

    async def reconcile(self, push: Push) -> None:
        if push.kind == "broadcast":
            # Same clientmsgid within 24 h: WeChat answers with the first msg_id instead of resending.
            await self.record(push, f"核对：用同一 clientmsgid {push.clientmsgid} 重发", kind="note")
            await self._call_submit(push)
            return
        found = await self._find_publish(push)
        if found is not None:
            await self.record(push, f"核对：在已发布列表中找到 article_id {found['article_id']}", data=found)
            await self.finish(push, True, article_id=found["article_id"], urls=found["urls"], claimed=True)
            return
        in_box = await self._draft_in_box(push)
        now = self.clock.now()
        settle = push.submit_started_at + timedelta(seconds=self.settings.scheduler.publish_settle_seconds)
        wait = timedelta(seconds=min(self.settings.scheduler.poll_seconds, 60))
        if not in_box:
            # The draft left the box: a publish of it succeeded; it shows in batchget shortly.
            if now > settle + timedelta(seconds=self.settings.scheduler.publish_settle_seconds):
                await self.fail(push, None, texts.REASON_LOST)
                return
            await self.record(push, "核对：草稿已离开草稿箱，等待它出现在已发布列表", kind="note")
            await self.save(push, next_run_at=now + wait)
            return
        if now < settle:
            await self.record(push, "核对：草稿仍在草稿箱，可能仍在发布中；稍后再查", kind="note")
            await self.save(push, next_run_at=min(settle, now + wait))
            return
        await self.record(push, "核对：没有找到这次发布，草稿仍在草稿箱：重新提交", kind="note")
        await self.save(push, attempt=push.attempt + 1, submit_started_at=now,
                        next_run_at=now + timedelta(seconds=self.settings.scheduler.poll_seconds))
        await self._call_submit(push)

    async def _find_publish(self, push: Push) -> dict | None:
        titles = await titles_of(self.services, push)
        since = (push.submit_started_at - CLOCK_SLACK).timestamp()
        page = await self.api.publish_batchget(0, 20, 0)
        for item in page.get("item") or []:
            news = (item.get("content") or {}).get("news_item") or []
            if [n.get("title") for n in news] == titles and float(item.get("update_time") or 0) >= since:
                return {"article_id": item.get("article_id"),
                        "urls": [n.get("url") or "" for n in news]}
        return None

    async def _draft_in_box(self, push: Push) -> bool:
        try:
            await self.api.draft_get(push.media_id)
        except ContentRejected:
            return False  # 40007: no such media_id — the draft is gone
        return True

    # --- submitted / confirming: the event, or sparse polling -------------------------------------

    async def poll(self, push: Push) -> None:
        now = self.clock.now()
        if push.kind == "publish":
            info = await self.api.publish_get(push.publish_id)
            status = int(info.get("publish_status", 1))
            await self.record(push, f"freepublish/get → publish_status {status}", data=info)
            if status == 1:
                await self.save(push, polls=push.polls + 1, next_run_at=now + timedelta(
                    seconds=backoff(self.settings.scheduler.poll_seconds, push.polls + 1)))
                return
            items = (info.get("article_detail") or {}).get("item") or []
            urls = [i.get("article_url", "") for i in sorted(items, key=lambda i: int(i.get("idx", 0)))]
            await self.finish(push, status == 0, article_id=info.get("article_id"), urls=urls,
                              code=status, reason=texts.REASON_PUBLISH_STATUS.get(status), claimed=True)
            return
        info = await self.api.mass_get(push.msg_id)
        status = str(info.get("msg_status", "SENDING")).upper()
        await self.record(push, f"mass/get → {status}", data=info)
        if status in ("SEND_SUCCESS", "SUCCESS"):
            await self.finish(push, True, claimed=True)
        elif status in ("SEND_FAIL", "FAIL", "DELETE"):
            await self.finish(push, False, reason=texts.REASON_MASS_STATUS.format(status=status), claimed=True)
        elif push.state == "confirming" and now > push.submitted_at + CONFIRM_TIMEOUT:
            await self.finish(push, False, reason=texts.REASON_CONFIRM_TIMEOUT, claimed=True)
        else:
            delay = backoff(self.settings.scheduler.poll_seconds, push.polls + 1)
            if push.state == "confirming":
                delay = min(delay, max(1.0, (push.submitted_at + CONFIRM_TIMEOUT - now).total_seconds()))
            await self.save(push, polls=push.polls + 1, next_run_at=now + timedelta(seconds=delay))

    async def finish(
        self,
        push: Push,
        ok: bool,
        *,
        article_id: str | None = None,
        urls: list[str] | None = None,
        code: int | None = None,
        reason: str | None = None,
        claimed: bool = False,
    ) -> bool:
        """done (article URLs written back to the push and the articles) or failed; idempotent between
        the event handler and the poller: only the first one to finish the push changes it."""
        if push.state not in ("submitting", *WAITING_FOR_OUTCOME):
            return False
        urls = [u for u in (urls or [])]
        now = self.clock.now()
        if not ok:
            await self.fail(push, code, reason or "", claimed=claimed)
            return True
        await self.save(
            push, "done", claimed=claimed, detail=f"{push.state} → done",
            data={"article_id": article_id, "urls": urls}, article_id=article_id or push.article_id,
            finished_at=now, next_run_at=None, claimed_by=None, claim_until=None,
            notice=self._notice(push, "done", urls=urls),
        )
        async with self.services.db.begin() as s:
            links = list((await s.scalars(
                select(PushArticle).where(PushArticle.push_id == push.id).order_by(PushArticle.position)
            )).all())
            for link, url in zip(links, urls, strict=False):
                if not url:
                    continue
                link.url = url
                await s.execute(update(Article).where(Article.id == link.article_id)
                                .values(wechat_url=url, status="published", updated_at=now))
            if not urls:
                ids = [link.article_id for link in links]
                await s.execute(update(Article).where(Article.id.in_(ids)).values(status="published"))
        return True

    async def fail(self, push: Push, code: int | None, reason: str, *, claimed: bool = True) -> None:
        await self.save(
            push, "failed", claimed=claimed, detail=f"{push.state} → failed：{reason}",
            error_code=code, error_reason=reason, finished_at=self.clock.now(), next_run_at=None,
            notice=self._notice(push, "failed", reason=reason),
        )
        async with self.services.db.begin() as s:
            await release_articles(s, push.id)

    # --- errors -----------------------------------------------------------------------------------

    async def _wechat_error(self, push: Push, e: WeChatError, what: str, back_to: str | None = None) -> None:
        """Act on an error class (bot/errors.py): back off on transient ones, move to the next allowed
        time on a quota, fail with WeChat's code and message otherwise."""
        now = self.clock.now()
        await self.record(push, f"{e.endpoint or what} ✗ {e.code} {e.message}", data={"errcode": e.code})
        state = back_to if back_to and push.state != back_to else None
        if isinstance(e, TransientError | TokenInvalid) or e.code is None:
            delay = backoff(self.settings.scheduler.retry_seconds, push.retries)
            await self.save(push, state, retries=push.retries + 1, next_run_at=now + timedelta(seconds=delay),
                            detail=f"{push.state} → {state}（{delay:.0f} 秒后重试）" if state else "")
            return
        if isinstance(e, QuotaExceeded):
            await self._reschedule_for_quota(push, e, state)
            return
        # ContentRejected, PermissionDenied, FatalCredentials and unknown codes: an editor must act.
        await self.fail(push, e.code, texts.REASON_WECHAT.format(code=e.code, message=e.message))

    async def _step_error(self, push: Push, e: WeChatError) -> None:
        """An error no step handled itself: while the outcome is awaited (polls, reconciling) it only
        delays the next look; before submitting, it is handled by its class."""
        if push.state in ("submitting", *WAITING_FOR_OUTCOME):
            await self.record(push, f"{e.endpoint} ✗ {e.code} {e.message}", data={"errcode": e.code})
            if isinstance(e, QuotaExceeded):
                at = planning.quota_reset(self.settings, push.kind, e.code, self.clock.now())
            else:
                at = self.clock.now() + timedelta(seconds=backoff(self.settings.scheduler.retry_seconds, push.retries))
            await self.save(push, retries=push.retries + 1, next_run_at=at)
            return
        await self._wechat_error(push, e, push.state)

    async def _reschedule_for_quota(self, push: Push, e: QuotaExceeded, state: str | None) -> None:
        reset = planning.quota_reset(self.settings, push.kind, e.code, self.clock.now())
        async with self.services.db() as s:
            try:
                at = await planning.next_free_slot(s, self.settings, kind=push.kind, after=reset,
                                                   exclude_id=push.id)
            except planning.PlanningError:
                at = reset  # no slots configured: the first moment the quota is back
        reason = texts.REASON_QUOTA.format(code=e.code, at=planning.show(at, self.settings))
        await self.save(
            push, state, detail=reason, kind="note", planned_at=at, error_code=e.code, error_reason=reason,
            next_run_at=at if (state or push.state) == "approved" else self.clock.now(), retries=0,
            notice=("rescheduled", texts.NOTICE_RESCHEDULED.format(
                id=push.id, kind=texts.KIND[push.kind], code=e.code, at=planning.show(at, self.settings))),
        )

    # --- cancelled: tidy the draft box ------------------------------------------------------------

    async def cleanup(self, push: Push) -> None:
        if push.media_id:
            await self._delete_draft(push)
        await self.save(push, next_run_at=None)

    def _notice(self, push: Push, kind: str, *, urls: list[str] | None = None, reason: str = "") -> tuple[str, str]:
        at = planning.show(push.planned_at, self.settings)
        fmt = dict(id=push.id, kind=texts.KIND[push.kind], at=at, titles=f"{len(push.articles)} 篇文章")
        if kind == "approval":
            text = texts.NOTICE_APPROVAL.format(preview=texts.NOTICE_PREVIEW_SENT if push.preview else "", **fmt)
        elif kind == "drafted":
            text = texts.NOTICE_DRAFTED.format(**fmt)
        elif kind == "done":
            text = texts.NOTICE_DONE.format(urls="\n".join(u for u in urls or [] if u), **fmt)
        else:
            text = texts.NOTICE_FAILED.format(reason=reason, **fmt)
        return kind, text


STEPS = {
    "planned": Pipeline.prepare,
    "preparing": Pipeline.prepare,
    "drafted": Pipeline.after_draft,
    "previewed": Pipeline.after_draft,
    "approved": Pipeline.submit,
    "submitting": Pipeline.reconcile,
    "submitted": Pipeline.poll,
    "confirming": Pipeline.poll,
    "cancelled": Pipeline.cleanup,
}

