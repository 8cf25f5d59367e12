"""Parsing pages off the event loop.

parse_page is CPU-bound pure Python: ~5.5 ms of CPU a page of bench/content.py's site (bs4 building
its tree is ~1.3 ms of it), against ~10 ms for everything else the importer does per page (fetching
the page and its image, storing the image, writing the article and its search postings; event loop
and driver included). A batch of at least POOL_MIN_PAGES goes to a pool of worker processes, one per
core but one (so one on two cores), at most 4: they parse while this process fetches and writes,
and they also compute each article's search terms and content hash. Smaller batches, and machines
with one core, parse in a thread (the event loop keeps answering between the interpreter's
switches). The pool starts with the batch (or with the first page of a listing, so that it boots
while the listing is walked) and stops with the import. A worker that dies (a page too big for
memory) fails that page only: the pool is started again. Figures: bench/content.py --parse.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from core.config import SourceSettings
from store.content import texts
from store.content.extract import Extracted, ExtractError, Listing, parse_page
from store.content.terms import article_terms

# Below this a pool costs more than it saves: a worker is a fresh interpreter importing the extractor
# (1-2 CPU-seconds measured on the 2-core machine under load), the parsing of some 200-400 pages.
POOL_MIN_PAGES = 200


def content_hash(x: Extracted) -> str:
    """What tells a changed page from an unchanged one (the URL aside)."""
    data = [x.title, x.published_at.isoformat() if x.published_at else "", x.source_name, x.author,
            x.body_html, x.tags]  # fmt: skip
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()


def parse_and_index(body: bytes, url: str, site: SourceSettings | None, charset: str | None) -> Extracted | Listing:
    """parse_page, and an article's search terms and content hash with it: CPU the writing process
    is spared."""
    x = parse_page(body, url, site, charset)
    if isinstance(x, Extracted):
        x.terms = article_terms(x.title, x.body_text)
        x.content_hash = content_hash(x)
    return x


def default_workers() -> int:
    """Worker processes: 0 (a thread) on one core; else one per core but one, at most 4."""
    cores = os.cpu_count() or 1
    return 0 if cores <= 1 else min(cores - 1, 4)


class PageParser:
    def __init__(self, workers: int | None = None) -> None:
        self.workers = default_workers() if workers is None else workers  # 0: parse in a thread
        self._pool: ProcessPoolExecutor | None = None

    def expect(self, pages: int) -> None:
        """A batch of `pages` is coming: start the pool if it pays."""
        if self._pool is None and self.workers > 0 and pages >= POOL_MIN_PAGES:
            # spawn: fresh interpreters, not forks of this process and its threads (aiosqlite, to_thread).
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))

    async def parse(
        self, body: bytes, url: str, site: SourceSettings | None, charset: str | None
    ) -> Extracted | Listing:
        if self._pool is None:
            return await asyncio.to_thread(parse_and_index, body, url, site, charset)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, parse_and_index, body, url, site, charset)
        except BrokenProcessPool:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
            self.expect(POOL_MIN_PAGES)
            raise ExtractError(texts.PARSER_CRASHED) from None

    async def aclose(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
