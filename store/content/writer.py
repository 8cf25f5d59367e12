"""The importer's one writer: extracted articles upserted in batches.

Articles arrive from many concurrent page tasks; each waits for its own outcome. Whatever has queued
up while the previous batch was written (up to BATCH, of distinct URLs) goes in one transaction: one
lookup of the URLs, one executemany each for the added articles, the updated ones, their image links
and their search postings, one commit, which is most of an import's write time saved. The writer
holds the importer's write lock (SQLite allows one writer; it also keeps the upserts simple). If a
batch fails (another process inserted the same URL meanwhile, or one article is bad), its articles
are written one by one, so a bad one fails alone; a URL that collides twice in a row gives up with
the error.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from core.clock import Clock
from store.content.extract import Extracted
from store.content.media import ImageFile, image_rows
from store.content.search import Indexed, index_articles
from store.db import SessionFactory
from store.models.content import Article, ArticleImage, Image

# Larger batches, fewer statements and commits: 48 (with the importer's 128 pages in flight) took the
# writer's CPU a page down by a tenth against 16 (bench/content.py's pages).
BATCH = 48


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
                batch = self._take()
                try:
                    results = await self._upsert(batch)
                except Exception:
                    await self._one_by_one(batch)
                    continue
            for p, result in zip(batch, results, strict=True):
                p.done.set_result(result)

    def _take(self) -> list[_Pending]:
        """The next batch: up to BATCH articles of distinct URLs, in arrival order (a URL queued twice
        waits for the next batch, which then sees the first one's row)."""
        batch: list[_Pending] = []
        rest: list[_Pending] = []
        urls: set[str] = set()
        for p in self._queue:
            if len(batch) < BATCH and p.x.url not in urls:
                urls.add(p.x.url)
                batch.append(p)
            else:
                rest.append(p)
        self._queue = rest
        return batch

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
        # Core statements, one executemany each, rather than ORM objects: the unit of work's
        # per-object bookkeeping was a large part of the writer's time, and the writer (one at a
        # time) sets an import's pace.
        now = self.clock.now()
        async with self.db() as session, session.begin():
            conn = await session.connection()
            found = {
                url: (article_id, digest, tags)
                for article_id, url, digest, tags in await conn.execute(
                    select(_A.c.id, _A.c.source_url, _A.c.content_hash, _A.c.tags).where(
                        _A.c.source_url.in_([p.x.url for p in batch])
                    )
                )
            }
            files = [f for p in batch for f in p.images]
            images = await image_rows(session, files) if files else {}
            outcomes: dict[str, str] = {}
            added: list[dict] = []
            updated: list[dict] = []
            for p in batch:
                known = found.get(p.x.url)
                if known is not None and known[1] == p.digest:
                    outcomes[p.x.url] = "unchanged"
                elif known is None:
                    outcomes[p.x.url] = "added"
                    added.append(_values(p, now, images, []) | {"source_url": p.x.url, "status": self.status,
                                                                 "created_at": now})  # fmt: skip
                else:
                    outcomes[p.x.url] = "updated"
                    updated.append(_values(p, now, images, known[2]) | {"b_id": known[0]})
            ids = {url: known[0] for url, known in found.items()}
            if added:
                ids.update({url: article_id for article_id, url in
                            await conn.execute(insert(_A).returning(_A.c.id, _A.c.source_url), added)})  # fmt: skip
            if updated:
                await conn.execute(_UPDATE, updated)
            changed = [p for p in batch if outcomes[p.x.url] != "unchanged"]
            if changed:
                # Only an updated article has links and postings to drop; an added one has none yet.
                stale = [row["b_id"] for row in updated]
                if stale:
                    await conn.execute(delete(_LINKS).where(_LINKS.c.article_id.in_(stale)))
                links = [{"article_id": ids[p.x.url], "position": position, "image_id": images[f.sha256].id}
                         for p in changed for position, f in enumerate(p.images)]  # fmt: skip
                if links:
                    await conn.execute(insert(_LINKS), links)
                await index_articles(
                    session,
                    [Indexed(ids[p.x.url], p.x.published_at, p.x.title[:255], p.x.body_text) for p in changed],
                    {ids[p.x.url]: p.x.terms for p in changed if p.x.terms},
                    stale=stale,
                )
            return [(outcomes[p.x.url], ids[p.x.url]) for p in batch]


_A = Article.__table__
_LINKS = ArticleImage.__table__
_COLUMNS = ("title", "author", "source_name", "published_at", "body_html", "body_text", "digest", "tags",
            "cover_image_id", "content_hash", "updated_at")  # fmt: skip
# b_id: a bound parameter may not share a column's name in an UPDATE's WHERE.
_UPDATE = update(_A).where(_A.c.id == bindparam("b_id")).values({c: bindparam(c) for c in _COLUMNS})


def _values(p: _Pending, now, images: dict[str, Image], tags: list[str] | None) -> dict:
    """The columns an import sets, on an added article and on an updated one alike."""
    x = p.x
    return {
        "title": x.title[:255],
        "author": x.author[:64],
        "source_name": x.source_name[:128],
        "published_at": x.published_at,
        "body_html": p.body_html,
        "body_text": x.body_text,
        "digest": x.digest,
        "tags": sorted(set(x.tags) | set(tags or [])),  # an editor's tags stay
        "cover_image_id": images[p.images[0].sha256].id if p.images else None,
        "content_hash": p.digest,
        "updated_at": now,
    }
