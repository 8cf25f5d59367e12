"""The extractor on the real-page corpus (tests/corpus/realpages, scored as bench/extract.py scores it).

Floors, not targets: a change that loses ground on real pages fails here; the bench prints the
figures (and, with --anchors, trafilatura's and GNE's beside them)."""

from __future__ import annotations

import pytest

from bench.extract import load, ours, score_page

FLOORS = {  # share of the pages where the field is scored
    "article:kind": 1.0,
    "article:all3": 0.90,  # title + every truth sentence + no chrome
    "article:date": 0.95,
    "article:source": 0.85,
    "article:author": 0.75,
    "listing:kind": 1.0,
    "listing:next": 1.0,
    "listing:links_recall": 0.95,
    "listing:links_precision": 0.95,
}


@pytest.fixture(scope="module")
def scores() -> dict[str, list[float]]:
    per_field: dict[str, list[float]] = {}
    for page in load():
        for key, value in score_page(page, ours(page)).items():
            if value is not None:
                per_field.setdefault(f"{page['kind']}:{key}", []).append(float(value))
    return per_field


def test_corpus_has_the_given_and_the_added_pages():
    pages = load()
    assert sum(not p.get("added") for p in pages) == 25
    assert sum(bool(p.get("added")) for p in pages) >= 30
    assert all(len(p["bytes"]) < 2 * 1024 * 1024 for p in pages)


@pytest.mark.parametrize("field", sorted(FLOORS))
def test_floor(scores, field):
    values = scores[field]
    share = sum(values) / len(values)
    assert share >= FLOORS[field], f"{field}: {share:.0%} of {len(values)} pages, floor {FLOORS[field]:.0%}"
