"""Auto-drafting: a push from the articles that are ready and not yet pushed (newest first, at most
`compose_max_articles`, only those with one of `compose_tags` when set), placed at the next free slot;
it is approved automatically only with `auto_approve` (otherwise the editors are asked).

Two processes composing at the same cron time make one push: the run's `compose_key` is unique, and
taking the articles is a conditional UPDATE (see editing._queue)."""

from __future__ import annotations

import logging

from sqlalchemy import select

from core.services import Services
from scheduler import editing, planning
from scheduler.drafts import check_fits
from store.models.content import Article
from store.models.pushes import Push

log = logging.getLogger("scheduler.compose")


def cron_key(services: Services) -> str:
    """The same key in every process for one firing of the compose job (minute precision)."""
    local = services.clock.now().astimezone(planning.zone(services.settings))
    return "compose:" + local.strftime("%Y-%m-%dT%H:%M")


async def candidates(services: Services) -> list[int]:
    sched = services.settings.scheduler
    async with services.db() as s:
        rows = (await s.execute(
            select(Article.id, Article.tags).where(Article.status == "ready")
            .order_by(Article.published_at.desc().nulls_last(), Article.id.desc())
        )).all()
    wanted = set(sched.compose_tags)
    ids = []
    for aid, tags in rows:
        if len(ids) == sched.compose_max_articles:
            break
        if wanted and not wanted.intersection(tags or []):
            continue
        async with services.db() as s:
            article = await s.get(Article, aid)
        reason = await check_fits(services, article)
        if reason:  # an editor must shorten it first; the others go ahead
            log.warning("auto-drafting skips article %s: %s", aid, reason)
            continue
        ids.append(aid)
    return ids


async def compose(services: Services, key: str | None = None) -> Push | None:
    """Compose one push now; None when no article is waiting (or another process composed this run)."""
    ids = await candidates(services)
    if not ids:
        return None
    spec = editing.PushSpec(article_ids=ids, kind=services.settings.scheduler.compose_kind)
    if key is not None:
        async with services.db() as s:
            if await s.scalar(select(Push.id).where(Push.compose_key == key)) is not None:
                return None
    try:
        return await editing.create(services, spec, by="自动组稿", compose_key=key)
    except editing.Conflict:
        # Another process took the articles (or this run's key) first; its push is the one.
        return None
