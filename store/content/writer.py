"""The importer's one writer: extracted articles upserted in batches.

Articles arrive from many concurrent page tasks; each waits for its own outcome. Whatever has queued
up while the previous batch was written goes in one transaction (one lookup of the URLs, one flush,
one commit), which is most of an import's write time saved. The writer holds the importer's write
lock (SQLite allows one writer; it also keeps the upserts simple). If a batch fails (another process
inserted the same URL meanwhile, or one article is bad), its articles are written one by one, so a
bad one fails alone; a URL that collides twice in a row gives up with the error.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from core.clock import Clock
from store.content.extract import Extracted
from store.content.media import ImageFile, image_rows
from store.content.search import index_articles
from store.db import SessionFactory
from store.models.content import Article, ArticleImage, Image

BATCH = 16


@dataclass
class _Pending:
    x: Extracted
    body_html: str
    digest: str
    images: list[ImageFile]  # in the body's order; the first is the cover
    done: asyncio.Future


class ArticleWriter:
    def __init__(self, db: SessionFactory, clock: Clock, lock: asyncio.Lock, *, auto_ready: bool) -> None:
        self.db = db
        self.clock = clock
        self.lock = lock
        self.status = "ready" if auto_ready else "imported"
        self._queue: list[_Pending] = []
        self._task: asyncio.Task | None = None

    async def write(
        self, x: Extracted, body_html: str, digest: str, images: list[ImageFile]
    ) -> tuple[str, int]:
        """("added" | "updated" | "unchanged", article id), once the article's batch is committed.
        The images' rows are written in the same transaction."""
        done = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(x, body_html, digest, images, done))
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._drain())
        return await done

    async def _drain(self) -> None:
        while self._queue:
            async with self.lock:
                batch, self._queue = self._queue[:BATCH], self._queue[BATCH:]
                try:
                    results = await self._upsert(batch)
                except Exception:
                    await self._one_by_one(batch)
                    continue
            for p, result in zip(batch, results, strict=True):
                p.done.set_result(result)

    async def _one_by_one(self, batch: list[_Pending]) -> None:
        for p in batch:
            for attempt in (1, 2):
                try:
                    (result,) = await self._upsert([p])
                    p.done.set_result(result)
                    break
                except IntegrityError as e:
                    if attempt == 2:  # another process inserted the same URL twice in a row: give up
                        p.done.set_exception(e)
                except Exception as e:
                    p.done.set_exception(e)
                    break

    async def _upsert(self, batch: list[_Pending]) -> list[tuple[str, int]]:
        now = self.clock.now()
        async with self.db() as session, session.begin():
            urls = [p.x.url for p in batch]
            found = {
                a.source_url: a
                for a in (await session.execute(select(Article).where(Article.source_url.in_(urls)))).scalars()
            }
            outcomes: list[tuple[str, Article]] = []
            changed: list[tuple[_Pending, Article]] = []
            files = [f for p in batch for f in p.images]
            images = await image_rows(session, files) if files else {}
            for p in batch:
                article = found.get(p.x.url)
                if article is not None and article.content_hash == p.digest:
                    outcomes.append(("unchanged", article))
                    continue
                if article is None:
                    article = Article(source_url=p.x.url, status=self.status, created_at=now)
                    session.add(article)
                    found[p.x.url] = article
                    outcomes.append(("added", article))
                else:
                    outcomes.append(("updated", article))
                _fill(article, p, now, images)
                changed.append((p, article))
            await session.flush()
            if changed:
                ids = [a.id for _, a in changed]
                await session.execute(delete(ArticleImage).where(ArticleImage.article_id.in_(ids)))
                for p, article in changed:
                    for position, f in enumerate(p.images):
                        session.add(ArticleImage(article_id=article.id, position=position, image_id=images[f.sha256].id))
                await index_articles(session, [a for _, a in changed],
                                     {a.id: p.x.terms for p, a in changed if p.x.terms})
            return [(outcome, article.id) for outcome, article in outcomes]


def _fill(article: Article, p: _Pending, now, images: dict[str, Image]) -> None:
    x = p.x
    article.title = x.title[:255]
    article.author = x.author[:64]
    article.source_name = x.source_name[:128]
    article.published_at = x.published_at
    article.body_html = p.body_html
    article.body_text = x.body_text
    article.digest = x.digest
    article.tags = sorted(set(x.tags) | set(article.tags or []))
    article.cover_image_id = images[p.images[0].sha256].id if p.images else None
    article.content_hash = p.digest
    article.updated_at = now
