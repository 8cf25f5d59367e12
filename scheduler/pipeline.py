"""What each state of a push does when the scheduler picks it up (`advance`); the states and their
allowed transitions are declared in scheduler/states.py, whose `write` persists every transition
before the next WeChat call, conditionally (same state, same revision, still our lease), so a process
killed at any point leaves a row that says what to do next, and an editor's action made meanwhile
wins over the pipeline.

- planned/preparing: upload images (the content store's UploadCache: never the same image twice),
  render, `draft/add`. A draft from an older revision is deleted first.
- drafted: `mass/preview` to the editors when asked (scheduler/previews.py, one row per recipient);
  then approved when an editor approved or `auto_approve`, else wait (and ask the editors).
- approved: nothing before planned_at, whoever approved it; at planned_at (late only within
  grace_minutes, else overdue) → submitting, then `freepublish/submit` or `message/mass/sendall`.
- submitting, submitted, confirming: the outcome (scheduler/outcome.py).
- cancelled: the draft is deleted from the draft box.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core import logs
from core.services import Services
from scheduler import intake, notify, planning, previews, states, texts
from scheduler.drafts import ArticleMissing, build_draft, news_media_id
from scheduler.outcome import WAITING, OutcomeSteps, backoff
from store.content.render import ArticleTooLong
from store.models.pushes import Push
from wechat.errors import (
    ContentRejected,
    DuplicateClientMsgId,
    OutcomeUnknown,
    QuotaExceeded,
    SendTooFast,
    TokenInvalid,
    TransientError,
    WeChatError,
)

log = logging.getLogger("scheduler.pipeline")

LostClaim = states.Stale


class Pipeline(OutcomeSteps):
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

    async def save(self, push: Push, state: str | None = None, *, claimed: bool = True, kind: str = "state",
                   **kw) -> None:
        """states.write as this worker (or, `claimed=False`, as anyone: a job-finish event)."""
        await states.write(self.services, push, state, event_kind="state" if state is not None else kind,
                           worker=self.worker if claimed else None, **kw)

    async def record(self, push: Push, detail: str, data: dict | None = None, kind: str = "wechat") -> None:
        await states.record(self.services, push, detail, data, kind)

    async def checkpoint(self, name: str, push: Push) -> None:
        """Crash-test hook: with `[scheduler] pause_at` naming this point, stop here for good (the
        test kills the process while it waits). A no-op otherwise."""
        if name in self.settings.scheduler.pause_at:
            log.warning("pipeline paused at %s (push %s)", name, push.id, extra=logs.about(push_id=push.id))
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
            except states.Stale:
                log.info("push %s changed under us; leaving it", push_id, extra=logs.about(push_id=push_id))
                return await self.load(push_id)
            except WeChatError as e:
                try:
                    await self._step_error(push, e)
                except states.Stale:
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
        # The approval is decided by the next step, on the row as it is then.
        await self.save(push, "drafted", detail=texts.EV_DRAFTED, data={"media_id": media_id},
                        media_id=media_id, retries=0, next_run_at=self.clock.now())

    async def _delete_draft(self, push: Push) -> None:
        try:
            await self.api.draft_delete(push.media_id)
            await self.record(push, texts.EV_OLD_DRAFT_DELETED, {"media_id": push.media_id})
        except WeChatError as e:  # already gone (published, deleted by hand): nothing to clean up
            await self.record(push, texts.EV_OLD_DRAFT_GONE.format(cause=texts.cause(e.code, e.message)),
                              {"media_id": push.media_id, "errcode": e.code})
        await self.save(push, media_id=None, news_media_id=None)

    # --- drafted / previewed ----------------------------------------------------------------------

    async def after_draft(self, push: Push) -> None:
        if push.state == "drafted" and push.preview:
            await self.checkpoint("before:preview", push)
            rows = await previews.send(self.services, push, self.settings.editors.openids, by="pipeline",
                                       worker=self.worker, skip_sent=True, strict=True)
            summary = "；".join(previews.line(r) for r in rows) or texts.PREVIEW_NOBODY
            await self.save(push, "previewed", detail=texts.EV_PREVIEW.format(summary=summary),
                            next_run_at=self.clock.now())
            return
        # A push the importer filled by itself (on_new = "queue") always waits for an editor.
        auto = self.settings.scheduler.auto_approve and not intake.is_import_push(push)
        by = push.approved_by or ("auto_approve" if auto else None)
        if by is None:
            # Wait for an editor. An approval given since we read the row wins (the condition).
            rows = await previews.rows_of(self.services, push.id, push.revision)
            await self.save(push, next_run_at=None, where=(Push.approved_by.is_(None),),
                            notice=notify.approval(self.services, push, rows))
            return
        # The editor's approval has its own line already; an automatic one says so here.
        await self.save(push, "approved", detail="" if push.approved_by else texts.EV_APPROVED.format(by=texts.BY[by]),
                        approved_by=by, next_run_at=self.clock.now(),
                        notice=None if push.approved_by else notify.scheduled(self.services, push))

    # --- approved → submitting --------------------------------------------------------------------

    async def submit(self, push: Push) -> None:
        now = self.clock.now()
        if now < push.planned_at:
            # Never early, whatever brought the push here (an approval, a retry, an edit): it waits
            # for its time. A "send now" made since we read the row moved planned_at and wins.
            await self.save(push, next_run_at=push.planned_at, where=(Push.planned_at == push.planned_at,))
            return
        if now > push.planned_at + timedelta(minutes=self.settings.scheduler.grace_minutes):
            await self.save(push, "overdue", next_run_at=None, notice=notify.overdue(self.services, push))
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
        except SendTooFast:
            await self.record(push, texts.EV_TOO_FAST, {"errcode": 45066})
            await self.save(push, next_run_at=self.clock.now() + timedelta(seconds=60))
            return
        except WeChatError as e:
            if isinstance(e, OutcomeUnknown) or e.code is None:
                # No answer: the submit may or may not have reached WeChat; reconcile, never guess.
                await self.record(push, texts.EV_UNKNOWN_OUTCOME, {"error": str(e)})
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
        media_id = await news_media_id(self.services, push, self.worker)
        await self.checkpoint("before:submit", push)
        return await self.api.mass_sendall(media_id, **kwargs)

    async def submitted(self, push: Push, result: dict) -> None:
        log.info("push %s submitted by %s: %s", push.id, self.worker, result, extra=logs.about(push_id=push.id))
        now = self.clock.now()
        poll = now + timedelta(seconds=self.settings.scheduler.poll_seconds)
        if push.kind == "publish":
            await self.save(push, "submitted", detail=texts.EV_SUBMITTED_PUBLISH, data=result,
                            publish_id=str(result["publish_id"]), submitted_at=now, retries=0, polls=0,
                            next_run_at=poll)
            return
        # WeChat's answer does not say that an administrator must confirm: the account setting does.
        waiting = push.tag_id is None and self.settings.scheduler.broadcast_protection
        await self.save(
            push, "confirming" if waiting else "submitted", detail=texts.EV_SUBMITTED_MASS,
            data={**result, "clientmsgid": push.clientmsgid}, msg_id=str(result.get("msg_id")),
            msg_data_id=str(result["msg_data_id"]) if result.get("msg_data_id") else None,
            submitted_at=now, retries=0, polls=0, next_run_at=poll,
        )

    # --- errors -----------------------------------------------------------------------------------

    async def _wechat_error(self, push: Push, e: WeChatError, what: str, back_to: str | None = None) -> None:
        """Act on an error class (wechat/errors.py): back off on transient ones, move to the next allowed
        time on a quota, fail with WeChat's code explained otherwise."""
        now = self.clock.now()
        state = back_to if back_to and push.state != back_to else None
        line = texts.EV_CALL_FAILED.format(what=texts.WHAT.get(what, what), cause=texts.cause(e.code, e.message))
        if isinstance(e, TransientError | TokenInvalid) or e.code is None:
            delay = backoff(self.settings.scheduler.retry_seconds, push.retries)
            await self.save(push, state, kind="wechat", detail=line + texts.EV_RETRY_IN.format(seconds=delay),
                            data={"errcode": e.code, "endpoint": e.endpoint}, retries=push.retries + 1,
                            next_run_at=now + timedelta(seconds=delay))
            return
        await self.record(push, line, {"errcode": e.code, "endpoint": e.endpoint, "errmsg": e.message})
        if isinstance(e, QuotaExceeded):
            await self._reschedule_for_quota(push, e, state)
            return
        # ContentRejected, PermissionDenied, FatalCredentials and unknown codes: an editor must act.
        await self.fail(push, e.code, texts.explain(e.code, e.message))

    async def _step_error(self, push: Push, e: WeChatError) -> None:
        """An error no step handled itself: while the outcome is awaited (polls, reconciling) it only
        delays the next look; before submitting, it is handled by its class."""
        if push.state in WAITING:
            await self.record(push, texts.EV_CALL_FAILED.format(what=texts.WHAT.get(push.state, ""),
                                                                cause=texts.cause(e.code, e.message)),
                              {"errcode": e.code, "endpoint": e.endpoint})
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
        what = texts.ERRCODES.get(e.code, ("微信配额已用完", ""))[0]
        cause = f"{what}（微信错误码 {e.code}）"
        reason = texts.REASON_QUOTA.format(cause=cause, at=planning.show(at, self.settings))
        push.planned_at = at  # for the notice; written below
        await self.save(
            push, state, detail=reason, kind="note", planned_at=at, error_code=e.code, error_reason=reason,
            next_run_at=at if (state or push.state) == "approved" else self.clock.now(), retries=0,
            notice=notify.rescheduled(self.services, push, cause),
        )

    # --- cancelled: tidy the draft box ------------------------------------------------------------

    async def cleanup(self, push: Push) -> None:
        if push.media_id:
            await self._delete_draft(push)
        await self.save(push, next_run_at=None)


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
