"""Chinese full-text search that behaves the same on SQLite and PostgreSQL.

Neither database segments Chinese out of the box (SQLite's FTS5 trigram tokenizer misses 2-character
terms; PostgreSQL's parsers treat a run of Han characters as one word), so we keep our own inverted
index in `article_terms`: every distinct CJK unigram and bigram, and every Latin/digit word, of the
title (field "t") and of title + body (field "a"). A query is split the same way; its rarest term
drives the search: that term's postings are walked newest first (they are keyed by `sort_key`) in
chunks, keeping the articles that have every other term too and, for words longer than two
characters, really contain the words; the walk stops at `limit`. Title hits are collected first,
then body hits: title first, newer higher. Matching is case-insensitive for Latin letters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from sqlalchemy import delete, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.content.terms import article_terms, query_terms
from store.models.content import Article, ArticleTerm

_DF_PROBE = 1000  # how far we count a term's postings to find the rarest (cheap, bounded)
_CHUNK_MAX = 2000  # postings fetched per step when walking a long list


@dataclass(frozen=True)
class Hit:
    article: Article
    in_title: bool


def sort_key(published_at: date | None, article_id: int) -> int:
    """Newest first when sorted descending; undated articles last; ties by id (newer import first)."""
    return (published_at.toordinal() if published_at else 0) * 2**32 + article_id


def term_rows(article_id: int, published_at: date | None, title: str, body_text: str,
              terms: tuple[set[str], set[str]] | None = None) -> list[dict]:
    key = sort_key(published_at, article_id)
    in_title, in_all = terms or article_terms(title, body_text)
    rows = [{"term": t, "field": "t", "sort_key": key, "article_id": article_id} for t in in_title]
    rows += [{"term": t, "field": "a", "sort_key": key, "article_id": article_id} for t in in_all]
    return rows


_INSERT_TERMS = "INSERT INTO article_terms (term, field, sort_key, article_id) VALUES "


class Indexed(NamedTuple):
    """What an article's postings are made of (an Article row has the same attributes)."""

    id: int
    published_at: date | None
    title: str
    body_text: str


async def index_articles(session: AsyncSession, articles: Sequence[Indexed | Article],
                         terms: dict[int, tuple[set[str], set[str]]] | None = None,
                         *, stale: Sequence[int] | None = None) -> None:
    """(Re)build several articles' postings in two statements (an import writes them in batches).
    `terms` gives an article's terms by id when they were computed already (article_terms).
    `stale`: the ids whose old postings are dropped first (default: every article's); an import
    passes only its updated articles, as an added one has none."""
    drop = [a.id for a in articles] if stale is None else list(stale)
    if drop:
        await session.execute(delete(ArticleTerm).where(ArticleTerm.article_id.in_(drop)))
    known = terms or {}
    rows = []
    for a in articles:
        article_id = a.id
        key = sort_key(a.published_at, article_id)
        in_title, in_all = known.get(article_id) or article_terms(a.title, a.body_text)
        rows += [(t, "t", key, article_id) for t in in_title]
        rows += [(t, "a", key, article_id) for t in in_all]
    # In the primary key's order: each row then lands next to the one before in the index's B-tree
    # (a batch's terms are mostly shared), not at a random page: about a quarter of the writer's CPU saved.
    rows.sort()
    if rows:
        # The driver's own executemany: ~500 plain rows an article, and SQLAlchemy's per-row
        # parameter processing (even for a Core insert) cost more than the database's work.
        conn = await session.connection()
        marks = "(?, ?, ?, ?)" if conn.dialect.paramstyle == "qmark" else "($1, $2, $3, $4)"
        await conn.exec_driver_sql(_INSERT_TERMS + marks, rows)


def _like(part: str) -> str:
    return "%" + part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _needs_check(part: str, terms: set[str]) -> bool:
    # A 1- or 2-character CJK word, or one Latin word, is itself an indexed term: no substring check.
    return not (len(terms) == 1 and next(iter(terms)) == part.lower())


async def _rarest(session: AsyncSession, terms: set[str]) -> tuple[str, int]:
    """The term with the fewest postings (counted up to _DF_PROBE), in one round trip."""
    ordered = sorted(terms)
    counts = [
        select(func.count())
        .select_from(
            select(literal_column("1"))
            .select_from(ArticleTerm)
            .where(ArticleTerm.term == t, ArticleTerm.field == "a")
            .limit(_DF_PROBE)
            .subquery()
        )
        .scalar_subquery()
        for t in ordered
    ]
    row = (await session.execute(select(*counts))).one()
    best = min(range(len(ordered)), key=lambda i: row[i])
    return ordered[best], row[best]


async def _candidates(
    session: AsyncSession, field: str, driver: str, others: list[str], before: int | None, n: int
) -> list[tuple[int, int]]:
    """The next `n` (sort_key, article_id) postings of `driver`, newest first, whose article also has
    every other term. The other terms are checked by exact primary-key lookups (same sort_key and
    article), so both databases walk one index in order and stop early, whatever their planner."""
    t = ArticleTerm.__table__
    stmt = select(t.c.sort_key, t.c.article_id).where(t.c.term == driver, t.c.field == field)
    if before is not None:
        stmt = stmt.where(t.c.sort_key < before)
    for i, term in enumerate(others):
        o = t.alias(f"o{i}")
        stmt = stmt.where(
            select(literal_column("1"))
            .select_from(o)
            .where(
                o.c.term == term,
                o.c.field == field,
                o.c.sort_key == t.c.sort_key,
                o.c.article_id == t.c.article_id,
            )
            .exists()
        )
    return [(k, a) for k, a in (await session.execute(stmt.order_by(t.c.sort_key.desc()).limit(n))).all()]


async def search_hits(session: AsyncSession, query: str, limit: int = 10) -> list[Hit]:
    """Articles containing every word of `query` (words split on spaces), title hits first, newest first."""
    found = await ranked_ids(session, query, limit)
    if not found:
        return []
    rows = {a.id: a for a in (await session.execute(select(Article).where(Article.id.in_([a for a, _ in found])))).scalars()}
    return [Hit(rows[a], in_title) for a, in_title in found if a in rows]


async def ranked_ids(session: AsyncSession, query: str, limit: int = 10, where: Sequence = ()) -> list[tuple[int, bool]]:
    """search_hits' (article id, in title) in rank order, without loading the articles, and only those
    that also meet `where` (conditions on Article: the console's filters), checked as the hits are
    confirmed, so the walk stops at `limit` filtered hits."""
    words = [(w.casefold(), query_terms(w)) for w in query.split()]
    words = [(w, t) for w, t in words if t]  # punctuation-only words constrain nothing
    if not words or limit <= 0:
        return []
    terms = set().union(*(t for _, t in words))
    driver, df = await _rarest(session, terms)
    if df == 0:
        return []
    others = sorted(terms - {driver})
    # Bigrams all present does not make the phrase present (估评 vs 评估): confirm longer words.
    exact = all(len(t) == 1 and next(iter(t)) == w for w, t in words)

    # Words without cased letters (Chinese, digits) are confirmed by the database (LIKE), so no body
    # crosses over to Python; a word with letters is casefolded here, as the index folds it.
    uncased = all(w.upper() == w for w, _ in words)

    def matches(text: str) -> bool:
        folded = text.casefold()
        return all(w in folded for w, _ in words)

    def contain(field: str) -> list:
        return [Article.title.like(_like(w), escape="\\") if field == "t"
                else or_(Article.title.like(_like(w), escape="\\"), Article.body_text.like(_like(w), escape="\\"))
                for w, _ in words]

    found: list[tuple[int, bool]] = []  # (article id, in title), in rank order
    for field in ("t", "a"):
        before, size = None, max(2 * limit, 20)
        while len(found) < limit:
            chunk = await _candidates(session, field, driver, others, before, size)
            if not chunk:
                break
            before = chunk[-1][0]
            taken = {a for a, _ in found}
            ids = [a for _, a in chunk if a not in taken]
            if ids and (where or not exact) and (uncased or exact):
                checks = [] if exact else contain(field)
                kept = set(await session.scalars(select(Article.id).where(Article.id.in_(ids), *where, *checks)))
                ids = [a for a in ids if a in kept]
            elif ids and not exact:
                # Only the text is read to confirm; whole rows are loaded for the hits alone.
                cols = (
                    (Article.id, Article.title)
                    if field == "t"
                    else (Article.id, Article.title, Article.body_text)
                )
                texts = {
                    r[0]: "\n".join(r[1:])
                    for r in await session.execute(select(*cols).where(Article.id.in_(ids), *where))
                }
                ids = [a for a in ids if a in texts and matches(texts[a])]
            found += [(a, field == "t") for a in ids[: limit - len(found)]]
            if len(chunk) < size:
                break
            size = min(size * 2, _CHUNK_MAX)  # a rare phrase of common bigrams: fewer, larger steps
    return found


async def search(session: AsyncSession, query: str, limit: int = 10) -> list[Article]:
    return [h.article for h in await search_hits(session, query, limit)]


async def latest(session: AsyncSession, n: int = 5) -> list[Article]:
    """The newest articles; undated ones after all dated ones (kept apart so the date index serves)."""
    dated = (
        await session.execute(
            select(Article)
            .where(Article.published_at.is_not(None))
            .order_by(Article.published_at.desc(), Article.id.desc())
            .limit(n)
        )
    ).scalars()
    found = list(dated)
    if len(found) < n:
        undated = await session.execute(
            select(Article)
            .where(Article.published_at.is_(None))
            .order_by(Article.id.desc())
            .limit(n - len(found))
        )
        found += list(undated.scalars())
    return found
