"""Parsing off the event loop (store/content/parsing.py): a worker process gives what a thread gives."""

from __future__ import annotations

import pytest

from store.content.extract import Extracted, Listing
from store.content.parsing import POOL_MIN_PAGES, PageParser, content_hash, parse_and_index
from tests.content_site import STORIES, listing, page_a, page_b

URL = "http://127.0.0.1:8080/news/"


async def test_a_worker_process_parses_as_a_thread_does():
    pages = [(page_a(STORIES[0]).encode(), "n101.html"), (page_b(STORIES[1]), "n102.html"),
             (listing(1).encode(), "index.html")]  # fmt: skip
    in_thread = [parse_and_index(body, URL + name, None, None) for body, name in pages]
    parser = PageParser(workers=1)
    parser.expect(POOL_MIN_PAGES - 1)
    assert parser._pool is None  # a small batch is parsed in a thread
    parser.expect(POOL_MIN_PAGES)
    assert parser._pool is not None
    try:
        in_pool = [await parser.parse(body, URL + name, None, None) for body, name in pages]
    finally:
        await parser.aclose()
    assert parser._pool is None
    assert in_pool == in_thread
    article, other, index = in_pool
    assert isinstance(article, Extracted) and isinstance(other, Extracted) and isinstance(index, Listing)
    assert article.title == STORIES[0].title and other.author == "记者甲"
    # The worker computed what the writing process would otherwise: terms and the content hash.
    assert article.terms is not None and "评估" in article.terms[0]
    assert article.content_hash == content_hash(article)


@pytest.mark.parametrize("workers", [0, 1])
async def test_no_pool_without_workers_or_pages(workers):
    parser = PageParser(workers=workers)
    parser.expect(1 if workers else 10 * POOL_MIN_PAGES)
    assert parser._pool is None
    x = await parser.parse(page_a(STORIES[2]).encode(), URL + "n103.html", None, None)
    assert isinstance(x, Extracted) and x.title == STORIES[2].title and x.content_hash == content_hash(x)
