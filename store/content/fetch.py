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

MAX_PAGE_BYTES = 5 * 1024 * 1024  # no article page is this big; a bigger answer is not a page
_HTML_TYPES = ("text/html", "application/xhtml+xml")


class FetchError(Exception):
    """Why a URL could not be used (the message is the reason shown in the import report)."""


@dataclass(frozen=True)
class Page:
    url: str  # after redirects
    body: bytes
    charset: str | None  # from Content-Type; None lets the parser read <meta charset>


class Fetcher:
    def __init__(self, settings: ContentSettings, http: aiohttp.ClientSession, clock: Clock) -> None:
        self.settings = settings
        self.http = http
        self.clock = clock
        self._slots = asyncio.Semaphore(settings.fetch_concurrency)
        self._timeout = aiohttp.ClientTimeout(total=settings.fetch_timeout_seconds)
        self._headers = {"User-Agent": settings.user_agent}

    @asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        async with self._slots:
            try:
                yield
            finally:
                # The pause holds the slot, so the site sees at most `concurrency` requests per delay.
                await self.clock.sleep(self.settings.fetch_delay_seconds)

    async def _get(self, url: str, limit: int) -> tuple[str, bytes, str, str | None]:
        async with self._slot():
            try:
                async with self.http.get(url, timeout=self._timeout, headers=self._headers) as resp:
                    if resp.status >= 400:
                        raise FetchError(f"HTTP {resp.status}")
                    declared = resp.content_length
                    if declared is not None and declared > limit:
                        raise FetchError(f"too large ({declared} bytes, limit {limit})")
                    body = await resp.content.read(limit + 1)
                    if len(body) > limit:
                        raise FetchError(f"too large (over {limit} bytes)")
                    return str(resp.url), body, resp.content_type, resp.charset
            except TimeoutError:
                raise FetchError(f"timed out after {self.settings.fetch_timeout_seconds:g} s") from None
            except aiohttp.ClientError as e:
                raise FetchError(f"{type(e).__name__}: {e}") from None

    async def page(self, url: str) -> Page:
        final, body, ctype, charset = await self._get(url, MAX_PAGE_BYTES)
        if ctype not in _HTML_TYPES and not (ctype in ("", "application/octet-stream") and _looks_html(body)):
            raise FetchError(f"not an HTML page ({ctype or 'no content type'})")
        return Page(final, body, charset)

    async def image(self, url: str) -> bytes:
        _, body, ctype, _ = await self._get(url, self.settings.max_image_bytes)
        if ctype.startswith("text/"):
            raise FetchError(f"not an image ({ctype})")
        return body


def _looks_html(body: bytes) -> bool:
    return re.search(rb"<(html|body|head|div|p)\b", body[:2048], re.I) is not None
