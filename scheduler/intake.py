"""New articles of a polled source with `on_new = "queue"` join the push the importer is filling:
the earliest one still ahead, not yet approved and holding fewer than 8 articles; else a new push
at the next free slot starts with them. Both go through scheduler/editing.py (create, edit), so the
one writer of push states and its checks hold; an edit of a drafted push redrafts it. Such a push
is marked by its compose_key ("import:" and its slot: one per slot, however many processes) and
always waits for an editor's approval, even with `[scheduler] auto_approve` (pipeline.after_draft)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.services import Services
from scheduler import editing, planning
from scheduler.states import S
from store.models.pushes import Push
from wechat.limits import DRAFT_ARTICLES

IMPORT_KEY = "import:"
BY = "自动导入"
OPEN = (S.PLANNED, S.PREPARING, S.DRAFTED, S.PREVIEWED)  # not approved, nothing sent


def is_import_push(push: Push) -> bool:
    return (push.compose_key or "").startswith(IMPORT_KEY)


async def open_push(services: Services) -> Push | None:
    now = services.clock.now()
    async with services.db() as s:
        pushes = (await s.scalars(
            select(Push).where(Push.compose_key.like(IMPORT_KEY + "%"), Push.state.in_(OPEN),
                               Push.approved_by.is_(None), Push.planned_at > now)
            .options(selectinload(Push.articles)).order_by(Push.planned_at, Push.id))).all()
    return next((p for p in pushes if len(p.articles) < DRAFT_ARTICLES), None)


async def enqueue(services: Services, article_id: int) -> str | None:
    """Put the article into the importer's push; None when done, else why not (for the run's record)."""
    reason = ""
    for _ in range(3):  # another process or an editor changed the push meanwhile: look again
        push = await open_push(services)
        try:
            if push is None:
                kind = services.settings.scheduler.compose_kind
                async with services.db() as s:
                    at = await planning.next_free_slot(s, services.settings, kind=kind, after=services.clock.now())
                # Placed at that slot by create (the key names it: a second process's push collides).
                spec = editing.PushSpec(article_ids=[article_id], kind=kind)
                await editing.create(services, spec, by=BY, compose_key=IMPORT_KEY + at.isoformat())
            else:
                spec = editing.PushSpec(
                    article_ids=[link.article_id for link in push.articles] + [article_id], kind=push.kind,
                    tag=push.tag_name, preview=push.preview, source_url=push.source_url,
                    open_comment=push.open_comment, fans_only_comment=push.fans_only_comment,
                    send_ignore_reprint=push.send_ignore_reprint,
                    at=push.planned_at if push.pinned else None)
                await editing.edit(services, push.id, spec, by=BY)
            return None
        except editing.Conflict as e:
            reason = str(e)
        except editing.EditError as e:
            if push is None:
                return str(e)  # the article itself does not fit (a title too long, …)
            reason = str(e)
        except planning.PlanningError as e:
            return str(e)
    return reason
