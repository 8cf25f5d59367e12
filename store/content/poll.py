"""One poll of a source's listing: what is new since the last one, imported.

The listing is fetched with a conditional GET (its ETag / Last-Modified from the last answer): an
unchanged site answers 304 and the poll costs that one request. Otherwise the listing is read newest
first up to the first article already in the store; only when a whole page is new is the next page
read (at most MAX_POLL_PAGES). A polled URL that is an article page itself is imported as one.
A listing that cannot be fetched or read raises (FetchError / ExtractError): the run failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.config import SourceSettings
from store.content.extract import Extracted, ExtractError, Listing
from store.content.fetch import FetchError
from store.content.importer import Importer, ImportReport

MAX_POLL_PAGES = 50  # a first poll of a big site stops here; later polls read a page or two


@dataclass
class PollResult:
    not_modified: bool = False
    found: list[str] = field(default_factory=list)  # links not in the store before this poll
    report: ImportReport = field(default_factory=ImportReport)
    etag: str | None = None
    last_modified: str | None = None
    requests: int = 0


async def poll_site(importer: Importer, site: SourceSettings, etag: str | None, last_modified: str | None) -> PollResult:
    url = site.poll_url
    result = PollResult(etag=etag, last_modified=last_modified)
    start = importer.fetcher.requests
    try:
        page = await importer.fetcher.page_if_changed(url, etag, last_modified)
        if page is None:
            result.not_modified = True
            return result
        result.etag, result.last_modified = page.etag, page.last_modified
        first = await importer.parser.parse(page.body, url, site, page.charset)
        if isinstance(first, Extracted):
            await importer._look_up([url])
            if importer._known.get(url) is None:
                result.found.append(url)
            await importer._articles([url], site, None, result.report, parsed={url: first})
            return result
        result.found = await _new_links(importer, first, site, result.report)
        await importer._articles(result.found, site, None, result.report)
        return result
    finally:
        result.requests = importer.fetcher.requests - start
        await importer.parser.aclose()


async def _new_links(importer: Importer, listing: Listing, site: SourceSettings, report: ImportReport) -> list[str]:
    new: list[str] = []
    seen = {listing.url}
    for _ in range(MAX_POLL_PAGES):
        links = [u for u, _ in listing.items]
        await importer._look_up(links)
        for u in links:
            if importer._known.get(u) is not None:
                return new  # the first article already stored: everything older is too
            if u not in new:
                new.append(u)
        nxt = listing.next_url
        if not nxt or nxt in seen:
            break
        seen.add(nxt)
        try:
            parsed = await importer._parse(nxt, site)
        except (FetchError, ExtractError) as e:
            report.failed.append((nxt, f"listing page: {e}"))
            break
        if not isinstance(parsed, Listing):
            break
        listing = parsed
    return new
