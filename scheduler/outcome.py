"""The pipeline's steps once a push was handed to WeChat: knowing the outcome, exactly once.

- submitting: the outcome of the submit is unknown (the process died, or the network failed).
  Broadcast: send again with the same clientmsgid — WeChat keeps it 24 h (45065 → the first msg_id,
  45066 → wait a minute). Publish: look for it in `freepublish/batchget` (matching the draft's
  titles, newer than the submit), and while the draft is still in the box (it leaves when the publish
  succeeds) wait `publish_settle_seconds` for a publish in progress before submitting again.
- submitted/confirming: the PUBLISHJOBFINISH / MASSSENDJOBFINISH event normally finishes it
  (scheduler/events.py); sparse polling of `freepublish/get` / `mass/get` is the fallback.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from scheduler import notify, texts
from scheduler.drafts import titles_of
from store.models.content import Article
from store.models.pushes import Push, PushArticle
from wechat.errors import ContentRejected

WAITING = ("submitting", "submitted", "confirming")
MAX_BACKOFF = 1800.0
# WeChat gives an administrator 30 minutes to confirm a protected broadcast (群发接口: 群发保护).
CONFIRM_TIMEOUT = timedelta(minutes=30)
# A publish found in freepublish/batchget up to this long before our submit is still ours: WeChat's
# update_time and our clock may differ a little.
CLOCK_SLACK = timedelta(minutes=2)


def backoff(base: float, n: int) -> float:
    return min(MAX_BACKOFF, base * (2 ** max(0, n)))


class OutcomeSteps:
    """Mixed into Pipeline (scheduler/pipeline.py), whose save/record/checkpoint these use."""

    # --- submitting: an unknown outcome -----------------------------------------------------------

    async def reconcile(self, push: Push) -> None:
        if push.kind == "broadcast":
            # Same clientmsgid within 24 h: WeChat answers with the first msg_id instead of resending.
            await self.record(push, texts.EV_RECHECK_MASS, {"clientmsgid": push.clientmsgid}, kind="note")
            await self._call_submit(push)
            return
        found = await self._find_publish(push)
        if found is not None:
            await self.record(push, texts.EV_FOUND_PUBLISH, data=found)
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
            await self.record(push, texts.EV_DRAFT_LEFT, kind="note")
            await self.save(push, next_run_at=now + wait)
            return
        if now < settle:
            await self.record(push, texts.EV_MAYBE_PUBLISHING, kind="note")
            await self.save(push, next_run_at=min(settle, now + wait))
            return
        await self.record(push, texts.EV_RESUBMIT, kind="note")
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
            label = texts.PUBLISH_STATUS.get(status, ("发布中" if status == 1 else "发布成功",))[0]
            await self.record(push, texts.EV_POLL_PUBLISH.format(status=label), data=info)
            if status == 1:
                await self.save(push, polls=push.polls + 1, next_run_at=now + timedelta(
                    seconds=backoff(self.settings.scheduler.poll_seconds, push.polls + 1)))
                return
            items = (info.get("article_detail") or {}).get("item") or []
            urls = [i.get("article_url", "") for i in sorted(items, key=lambda i: int(i.get("idx", 0)))]
            await self.finish(push, status == 0, article_id=info.get("article_id"), urls=urls,
                              code=status, fail_idx=info.get("fail_idx") or [], claimed=True)
            return
        info = await self.api.mass_get(push.msg_id)
        status = str(info.get("msg_status", "SENDING")).upper()
        await self.record(push, texts.EV_POLL_MASS.format(status=status), data=info)
        if status in ("SEND_SUCCESS", "SUCCESS"):
            await self.finish(push, True, claimed=True)
        elif status in ("SEND_FAIL", "FAIL", "DELETE"):
            await self.finish(push, False, reason=texts.mass_failure(status, push.id), claimed=True)
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
        fail_idx: list[int] | None = None,
        claimed: bool = False,
    ) -> bool:
        """done (article URLs written back to the push and the articles) or failed; idempotent between
        the event handler and the poller: only the first one to finish the push changes it. A failed
        publish (`code` is its publish_status) names the articles WeChat refused (`fail_idx`, 1-based)."""
        if push.state not in WAITING:
            return False
        urls = list(urls or [])
        now = self.clock.now()
        if not ok:
            if reason is None:
                titles = await titles_of(self.services, push)
                failed = [titles[i - 1] for i in (fail_idx or []) if 0 < i <= len(titles)]
                reason = texts.publish_failure(code or 3, failed, push.id)
            await self.fail(push, code, reason, claimed=claimed)
            return True
        await self.save(
            push, "done", claimed=claimed, data={"article_id": article_id, "urls": urls},
            article_id=article_id or push.article_id, finished_at=now, next_run_at=None, claimed_by=None,
            claim_until=None, notice=notify.done(self.services, push, urls),
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
        """failed, with the reason in words; the articles are freed (scheduler/states.py)."""
        await self.save(
            push, "failed", claimed=claimed, detail=f"{texts.STATE['failed']}：{reason}",
            error_code=code, error_reason=reason, finished_at=self.clock.now(), next_run_at=None,
            notice=notify.failed(self.services, push, reason),
        )
