"""Previews of a push's draft (message/mass/preview) to editors or to followers an editor names.

One row per recipient and revision, written before the call (sending) and finished after it (sent,
or failed with WeChat's code and the reason in words; a call without an answer stays "sending":
unknown), so that `push list/show`, the approval notice and the command that asked say who got it
and why the others did not. The pipeline previews to `[editors] openids` after drafting; `push
preview N` (and `push edit N --preview`) send again at once and answer with the outcome.
"""

from __future__ import annotations

from sqlalchemy import select, update

from core.services import Services
from scheduler import texts
from scheduler.drafts import news_media_id
from store.models.pushes import Push, PushPreview
from wechat.errors import ContentRejected, OutcomeUnknown, WeChatError, WindowClosed


async def send(services: Services, push: Push, openids: list[str], *, by: str, worker: str | None = None,
               skip_sent: bool = False, strict: bool = False) -> list[PushPreview]:
    """Preview the push's current draft to each openid, in order. `skip_sent`: not to those who got
    this revision already (the pipeline redoing a step). `strict`: an error that is not about the
    recipient (the draft refused, WeChat busy) is raised after its row is written, for the pipeline
    to handle by its class; otherwise it is only reported in the row."""
    done = await rows_of(services, push.id, push.revision) if skip_sent else []
    already = {r.openid for r in done if r.status == "sent"}
    out: list[PushPreview] = []
    for openid in dict.fromkeys(openids):
        if openid in already:
            continue
        row = await _start(services, push, openid, by)
        try:
            await _preview(services, push, openid, worker)
        except WindowClosed as e:  # this recipient cannot receive it: the others still can
            await _finish(services, row, "failed", e.code, texts.cause(e.code, e.message))
        except OutcomeUnknown:
            await _finish(services, row, "sending", None, texts.cause(None))
            if strict:
                raise
        except WeChatError as e:
            await _finish(services, row, "failed", e.code, texts.cause(e.code, e.message))
            if strict:
                raise
        else:
            await _finish(services, row, "sent", None, None)
        out.append(row)
    return out


async def _preview(services: Services, push: Push, openid: str, worker: str | None) -> None:
    try:
        await services.api.mass_preview(openid, push.news_media_id or push.media_id)
    except ContentRejected as e:
        if e.code != 40007 or push.news_media_id:
            raise
        await services.api.mass_preview(openid, await news_media_id(services, push, worker))


async def _start(services: Services, push: Push, openid: str, by: str) -> PushPreview:
    row = PushPreview(push_id=push.id, revision=push.revision, openid=openid, status="sending", by=by,
                      created_at=services.clock.now())
    async with services.db.begin() as s:
        s.add(row)
    return row


async def _finish(services: Services, row: PushPreview, status: str, code: int | None, reason: str | None) -> None:
    now = services.clock.now()
    async with services.db.begin() as s:
        await s.execute(update(PushPreview).where(PushPreview.id == row.id).values(
            status=status, error_code=code, error_reason=reason, finished_at=now))
    row.status, row.error_code, row.error_reason, row.finished_at = status, code, reason, now


async def rows_of(services: Services, push_id: int, revision: int | None = None) -> list[PushPreview]:
    """The previews of a push (of one revision), oldest first."""
    q = select(PushPreview).where(PushPreview.push_id == push_id).order_by(PushPreview.id)
    if revision is not None:
        q = q.where(PushPreview.revision == revision)
    async with services.db() as s:
        return list((await s.scalars(q)).all())


def latest(rows: list[PushPreview]) -> dict[str, PushPreview]:
    """Each recipient's last preview."""
    return {r.openid: r for r in rows}


def line(row: PushPreview) -> str:
    if row.status == "sent":
        return texts.PREVIEW_SENT.format(openid=row.openid)
    if row.status == "failed":
        return texts.PREVIEW_FAILED.format(openid=row.openid, cause=row.error_reason)
    return texts.PREVIEW_UNKNOWN.format(openid=row.openid)


def summary(rows: list[PushPreview]) -> str:
    """"1 人收到，1 人没收到" over each recipient's last preview ("" when there was none)."""
    last = latest(rows).values()
    ok = sum(1 for r in last if r.status == "sent")
    parts = [texts.PREVIEW_SUMMARY_OK.format(n=ok)] if ok else []
    if len(last) - ok:
        parts.append(texts.PREVIEW_SUMMARY_FAILED.format(n=len(last) - ok))
    return "，".join(parts)
