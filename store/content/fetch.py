"""Polite HTTP for the importer: a clear User-Agent, at most `[content] fetch_concurrency` requests
at once, a pause of `fetch_delay_seconds` after each, a timeout, and a size cap on what is read."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp

from core.clock import Clock
from core.config import ContentSettings
from store.content import texts

MAX_PAGE_BYTES = 5 * 1024 * 1024  # no article page is this big; a bigger answer is not a page
_HTML_TYPES = ("text/html", "application/xhtml+xml")


class FetchError(Exception):
    """Why a URL could not be used (the message is the reason shown in the import report)."""


@dataclass(frozen=True)
class Page:
    url: str  # after redirects
    body: bytes
    charset: str | None  # from Content-Type; None lets the parser read <meta charset>
    # The validators of the answer, for a conditional request next time (RFC 9110 §13).
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class _Answer:
    url: str
    body: bytes
    ctype: str
    charset: str | None
    etag: str | None = None
    last_modified: str | None = None


class Fetcher:
    def __init__(self, settings: ContentSettings, http: aiohttp.ClientSession, clock: Clock) -> None:
        self.settings = settings
        self.http = http
        self.clock = clock
        self._slots = asyncio.Semaphore(settings.fetch_concurrency)
        self._timeout = aiohttp.ClientTimeout(total=settings.fetch_timeout_seconds)
        self._headers = {"User-Agent": settings.user_agent}
        self.requests = 0  # made so far (a poll records how many it cost)

    @asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        async with self._slots:
            try:
                yield
            finally:
                # The pause holds the slot, so the site sees at most `concurrency` requests per delay.
                if self.settings.fetch_delay_seconds:
                    await self.clock.sleep(self.settings.fetch_delay_seconds)

    async def _get(self, url: str, limit: int, conditions: dict[str, str] | None = None) -> _Answer | None:
        """The answer, or None when a conditional request is answered 304 Not Modified."""
        headers = {**self._headers, **(conditions or {})}
        async with self._slot():
            self.requests += 1
            try:
                async with self.http.get(url, timeout=self._timeout, headers=headers) as resp:
                    if resp.status == 304 and conditions:
                        return None
                    if resp.status >= 400:
                        raise FetchError(texts.HTTP_STATUS.format(status=resp.status))
                    declared = resp.content_length
                    if declared is not None and declared > limit:
                        raise FetchError(texts.TOO_LARGE.format(size=texts.size(declared), limit=texts.size(limit)))
                    body = await resp.content.read(limit + 1)
                    if len(body) > limit:
                        raise FetchError(texts.TOO_LARGE_UNKNOWN.format(limit=texts.size(limit)))
                    return _Answer(str(resp.url), body, resp.content_type, resp.charset,
                                   resp.headers.get("ETag"), resp.headers.get("Last-Modified"))
            except TimeoutError:
                raise FetchError(texts.TIMED_OUT.format(seconds=self.settings.fetch_timeout_seconds)) from None
            except aiohttp.ClientError as e:
                raise FetchError(texts.UNREACHABLE.format(error=f"{type(e).__name__}: {e}")) from None

    async def page(self, url: str) -> Page:
        page = await self.page_if_changed(url)
        assert page is not None  # no conditions, so never 304
        return page

    async def page_if_changed(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Page | None:
        """The page, or None when the site says it has not changed since the answer that gave
        `etag` / `last_modified` (a conditional GET: If-None-Match, If-Modified-Since)."""
        conditions = {}
        if etag:
            conditions["If-None-Match"] = etag
        if last_modified:
            conditions["If-Modified-Since"] = last_modified
        a = await self._get(url, MAX_PAGE_BYTES, conditions)
        if a is None:
            return None
        if a.ctype not in _HTML_TYPES and not (a.ctype in ("", "application/octet-stream") and _looks_html(a.body)):
            raise FetchError(texts.NOT_HTML.format(ctype=a.ctype or texts.NO_CTYPE))
        return Page(a.url, a.body, a.charset, a.etag, a.last_modified)

    async def image(self, url: str) -> bytes:
        a = await self._get(url, self.settings.max_image_bytes)
        assert a is not None
        if a.ctype.startswith("text/"):
            raise FetchError(texts.NOT_IMAGE.format(ctype=a.ctype))
        return a.body


def _looks_html(body: bytes) -> bool:
    return re.search(rb"<(html|body|head|div|p)\b", body[:2048], re.I) is not None
