"""Import the website's news into the content store.

A URL may be a listing (followed through its pagination to the article pages) or one article page;
a path may be one saved HTML file or a folder of them. Pages are fetched politely (fetch.py) and
parsed off the event loop (parsing.py: a thread, or worker processes for a batch); images are downloaded with the same limits and stored once, named
by their sha256 under `[content] media_dir`. Each failed page is reported with its URL and reason
and the rest goes on. An unchanged page (same content hash) is not touched; a changed page updates
its article in place, so the article keeps its id, status, WeChat fields and push history.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiohttp
from sqlalchemy import select
from tqdm import tqdm

from core import metrics
from core.clock import Clock
from core.config import Settings, SourceSettings
from store.content import texts
from store.content.extract import Extracted, ExtractError, Listing
from store.content.fetch import Fetcher, FetchError
from store.content.media import ImageFile, save_image_file
from store.content.media import (
    store_image as store_image,  # where uploads and the scheduler's tests import it
)
from store.content.parsing import PageParser, content_hash
from store.content.writer import ArticleWriter
from store.db import SessionFactory
from store.models.content import Article

log = logging.getLogger(__name__)

MAX_LISTING_PAGES = 500  # a pager that never ends (or loops) stops here
# Pages between fetched and written at once. Without a bound every page's fetch queues before the
# first image's (the fetch slots are FIFO): all pages are fetched and parsed, and only then are the
# images fetched and the articles written, so parsing and writing never overlap. A few writer
# batches' worth keeps both busy.
PAGES_IN_FLIGHT = 128


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # older than --since
    failed: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)
    image_failures: list[tuple[str, str]] = field(default_factory=list)
    article_ids: list[int] = field(default_factory=list)
    added_ids: list[int] = field(default_factory=list)


@dataclass
class ImportProgress:
    """How far a run is, for a person watching (the console's import page): the listing pages walked,
    then the article pages done out of those found."""

    listing_pages: int = 0
    pages_total: int = 0
    pages_done: int = 0
    failed: int = 0
    finished: bool = False


_IMG = re.compile(r"<img\b[^>]*>", re.I)
_SRC = re.compile(r"""\ssrc\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)


def _attach_images(body_html: str, stored: dict[str, str]) -> str:
    """Mark each <img> with the sha256 of its stored image; drop the ones that could not be stored.
    The HTML is the extractor's own serialisation, so a pattern reads it (no second parse)."""

    def mark(m: re.Match) -> str:
        tag = m.group(0)
        src = _SRC.search(tag)
        sha = stored.get(html.unescape(src.group(1) if src.group(1) is not None else src.group(2))) if src else None
        if not sha:
            return ""
        end = "/>" if tag.endswith("/>") else ">"
        return f'{tag[: -len(end)].rstrip()} data-sha256="{sha}"{end}'

    return _IMG.sub(mark, body_html)


def _local_pages(target: str) -> list[str] | None:
    """file:// URLs of a saved HTML file or of every .html/.htm under a folder; None if no such path."""
    path = Path(target)
    if not path.exists():
        return None
    files = (
        sorted(p for p in path.rglob("*") if p.suffix.lower() in (".html", ".htm"))
        if path.is_dir()
        else [path]
    )
    return [p.resolve().as_uri() for p in files]


class Importer:
    def __init__(
        self,
        settings: Settings,
        db: SessionFactory,
        clock: Clock,
        http: aiohttp.ClientSession,
        progress: bool = False,
        ready: bool | None = None,
        on_progress: Callable[[ImportProgress], None] | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.fetcher = Fetcher(settings.content, http, clock)
        self.clock = clock
        self.media_dir = settings.path(settings.content.media_dir)
        self.progress = progress  # tqdm bars on the terminal
        self.state = ImportProgress()
        self._on_progress = on_progress
        self._write = asyncio.Lock()  # one writer: SQLite allows no more, and it keeps upserts simple
        self._images: dict[str, asyncio.Task] = {}  # url → its one download+store in this run
        self._image_bar: tqdm | None = None
        self._image_failures: list[tuple[str, str]] = []
        self.parser = PageParser()
        self._known: dict[str, tuple[str, int] | None] = {}  # url → (content hash, id) when stored
        self.writer = ArticleWriter(db, clock, self._write,
                                    auto_ready=settings.content.auto_ready if ready is None else ready)

    # --- entry points ------------------------------------------------------------------------------

    async def run(
        self, target: str, *, source: str | None = None, pages: int | None = None, since: date | None = None
    ) -> ImportReport:
        metrics.IMPORT_RUNS.labels("news").inc()
        try:
            report = await self._run(target, source, pages, since)
            self.state.failed = len(report.failed)
            return report
        finally:
            self.state.finished = True
            self._tell()
            await self.parser.aclose()

    def _tell(self) -> None:
        if self._on_progress is not None:
            self._on_progress(self.state)

    async def _run(self, target: str, source: str | None, pages: int | None, since: date | None) -> ImportReport:
        report = ImportReport()
        if "://" not in target and (urls := await asyncio.to_thread(_local_pages, target)) is not None:
            site = self._site(source, "")
            await self._articles(urls, site, since, report)
            return report
        site = self._site(source, target)
        try:
            first = await self._parse(target, site)
        except (FetchError, ExtractError) as e:
            report.failed.append((target, str(e)))
            return report
        if isinstance(first, Extracted):
            await self._articles([target], site, since, report, parsed={target: first})
            return report
        # The pool (if any) starts now and boots while the rest of the listing is walked.
        self.parser.expect(sum(1 for _, when in first.items if not (since and when and when < since)))
        urls = await self._follow_listing(first, site, pages, since, report)
        await self._articles(urls, site, since, report)
        return report

    async def save(self, x: Extracted, image_data: dict[str, bytes] | None = None) -> tuple[str, int]:
        """Store one extracted article → ("added" | "updated" | "unchanged", article id).
        `image_data` supplies image bytes by URL (the demo's generated images) instead of fetching."""
        digest = x.content_hash or content_hash(x)
        if x.url not in self._known:
            await self._look_up([x.url])
        known = self._known.get(x.url)
        if known is not None and known[0] == digest:
            return "unchanged", known[1]
        stored: dict[str, str] = {}
        files: list[ImageFile] = []
        failures: list[tuple[str, str]] = []
        results = await asyncio.gather(*(self._image(u, (image_data or {}).get(u)) for u in x.images))
        for url, result in zip(x.images, results, strict=True):
            if isinstance(result, ImageFile):
                stored[url] = result.sha256
                files.append(result)
            else:
                failures.append((url, result))
        self._image_failures.extend(failures)
        body_html = _attach_images(x.body_html, stored) if x.images else x.body_html
        # A page whose images did not all arrive gets another chance on the next import.
        stored_hash = digest if not failures else hashlib.sha256((digest + "incomplete").encode()).hexdigest()
        outcome, article_id = await self.writer.write(x, body_html, stored_hash, files)
        self._known[x.url] = (stored_hash, article_id)
        return outcome, article_id

    # --- listing and pages -------------------------------------------------------------------------

    def _site(self, name: str | None, url: str) -> SourceSettings | None:
        if name:
            for s in self.settings.sources:
                if s.name == name:
                    return s
            raise ValueError(f"no [[sources]] entry named {name!r} in the config")
        for s in self.settings.sources:
            if s.base_url and url.startswith(s.base_url):
                return s
        return None

    async def _parse(self, url: str, site: SourceSettings | None) -> Extracted | Listing:
        if url.startswith("file:"):
            path = Path(unquote(urlsplit(url).path))
            try:
                body, charset = await asyncio.to_thread(path.read_bytes), None
            except OSError as e:
                raise FetchError(texts.CANNOT_READ_FILE.format(error=e.strerror)) from None
        else:
            page = await self.fetcher.page(url)
            body, charset = page.body, page.charset
        return await self.parser.parse(body, url, site, charset)

    async def _follow_listing(
        self, first: Listing, site, pages: int | None, since: date | None, report: ImportReport
    ) -> list[str]:
        limit = min(pages or MAX_LISTING_PAGES, MAX_LISTING_PAGES)
        seen_pages = {first.url}
        urls: list[str] = []
        listing: Listing | None = first
        bar = tqdm(desc="listing pages", unit="page", disable=not self.progress, leave=False)
        count = 0
        while listing is not None:
            count += 1
            bar.update()
            self.state.listing_pages = count
            self._tell()
            for url, when in listing.items:
                if since and when and when < since:
                    report.skipped.append(url)
                elif url not in urls:
                    urls.append(url)
            # Listings run newest first: a page whose every date is before --since ends the walk.
            dates = [d for _, d in listing.items if d]
            if since and dates and max(dates) < since:
                break
            nxt = listing.next_url
            if count >= limit or not nxt or nxt in seen_pages:
                break
            seen_pages.add(nxt)
            try:
                parsed = await self._parse(nxt, site)
            except (FetchError, ExtractError) as e:
                report.failed.append((nxt, f"listing page: {e}"))
                break
            listing = parsed if isinstance(parsed, Listing) else None
        bar.close()
        return urls

    async def _articles(
        self, urls: list[str], site, since: date | None, report: ImportReport, parsed: dict | None = None
    ) -> None:
        self._image_failures = report.image_failures
        self.parser.expect(len(urls) - len(parsed or {}))
        await self._look_up(urls)
        bar = tqdm(total=len(urls), desc="pages", unit="page", disable=not self.progress)
        self.state.pages_total += len(urls)
        self._tell()
        self._image_bar = tqdm(total=0, desc="images", unit="img", disable=not self.progress)

        window = asyncio.Semaphore(PAGES_IN_FLIGHT)

        async def one(url: str) -> None:
            async with window:
                await _one(url)

        async def _one(url: str) -> None:
            try:
                x = (parsed or {}).get(url) or await self._parse(url, site)
                if isinstance(x, Listing):
                    raise ExtractError(texts.LISTING_NOT_ARTICLE)
                x.url = url  # the link as the listing gives it: stable across redirects and re-imports
                if since and x.published_at and x.published_at < since:
                    report.skipped.append(url)
                    return
                outcome, article_id = await self.save(x)
                getattr(report, outcome).append(url)
                report.article_ids.append(article_id)
                if outcome == "added":
                    report.added_ids.append(article_id)
            except (FetchError, ExtractError) as e:
                report.failed.append((url, str(e)))
            except Exception as e:
                log.exception("importing %s failed", url)
                report.failed.append((url, f"unexpected error: {type(e).__name__}: {e}"))
            finally:
                bar.update()
                self.state.pages_done += 1
                self.state.failed = len(report.failed)
                self._tell()

        try:
            await asyncio.gather(*(one(u) for u in urls))
        finally:
            bar.close()
            self._image_bar.close()

    async def _look_up(self, urls: list[str]) -> None:
        """The stored content hash and id of each URL, in a few queries for a whole batch: an unchanged
        page is then known without a query of its own (and its images are not fetched again)."""
        for i in range(0, len(urls), 500):
            chunk = urls[i : i + 500]
            async with self.db() as session:
                rows = await session.execute(
                    select(Article.source_url, Article.content_hash, Article.id).where(Article.source_url.in_(chunk))
                )
            self._known.update({url: (digest, article_id) for url, digest, article_id in rows})
            self._known.update({url: None for url in chunk if url not in self._known})

    # --- images --------------------------------------------------------------------------------------

    def _image(self, url: str, data: bytes | None) -> asyncio.Task:
        """One download per URL per run, shared by every article that shows the image."""
        if url not in self._images:
            self._images[url] = asyncio.ensure_future(self._store_image(url, data))
        return self._images[url]

    async def _store_image(self, url: str, data: bytes | None) -> ImageFile | str:
        """The image's file under media_dir (its row is written with the article), or the reason it
        could not be stored."""
        if self._image_bar is not None:
            self._image_bar.total += 1
            self._image_bar.refresh()
        try:
            if data is None:
                if url.startswith("file:"):
                    path = Path(unquote(urlsplit(url).path))
                    try:
                        data = await asyncio.to_thread(path.read_bytes)
                    except OSError as e:
                        raise FetchError(texts.CANNOT_READ_FILE.format(error=e.strerror)) from None
                    if len(data) > self.settings.content.max_image_bytes:
                        raise FetchError(texts.TOO_LARGE_UNKNOWN.format(limit=texts.size(self.settings.content.max_image_bytes)))
                else:
                    data = await self.fetcher.image(url)
            return await save_image_file(self.media_dir, data, url)
        except FetchError as e:
            return str(e)
        finally:
            if self._image_bar is not None:
                self._image_bar.update()
