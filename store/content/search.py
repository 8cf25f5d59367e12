"""Chinese full-text search that behaves the same on SQLite and PostgreSQL.

Neither database segments Chinese out of the box (SQLite's FTS5 trigram tokenizer misses 2-character
terms; PostgreSQL's parsers treat a run of Han characters as one word), so we keep our own inverted
index in `article_terms`: every distinct CJK unigram and bigram, and every Latin/digit word, of the
title (field "t") and of title + body (field "a"). A query is split the same way; its rarest term
drives the search: that term's postings are walked newest first (they are keyed by `sort_key`), each
candidate is confirmed with a substring match (bigrams present does not mean the phrase is), and the
walk stops at `limit`. Title hits are collected first, then body hits: title first, newer higher.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, delete, func, insert, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models.content import Article, ArticleTerm

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"([{_CJK}]+)|([0-9A-Za-z]+)")
MAX_TERM = 32  # ArticleTerm.term's width; longer Latin words are indexed by their first 32 letters
_DF_PROBE = 2000  # how far we count a term's postings to find the rarest (cheap, bounded)


@dataclass(frozen=True)
class Hit:
    article: Article
    in_title: bool


def sort_key(published_at: date | None, article_id: int) -> int:
    """Newest first when sorted descending; undated articles last; ties by id (newer import first)."""
    return (published_at.toordinal() if published_at else 0) * 2**32 + article_id


def index_terms(text: str) -> set[str]:
    """What a text is indexed under: CJK unigrams and bigrams, lower-cased Latin/digit words."""
    out: set[str] = set()
    for m in _TOKEN.finditer(text):
        run, word = m.group(1), m.group(2)
        if run:
            out.update(run)
            out.update(run[i : i + 2] for i in range(len(run) - 1))
        else:
            out.add(word.lower()[:MAX_TERM])
    return out


def query_terms(part: str) -> set[str]:
    """What one query word must be indexed under: its bigrams (a single character: itself)."""
    out: set[str] = set()
    for m in _TOKEN.finditer(part):
        run, word = m.group(1), m.group(2)
        if run:
            out.update([run] if len(run) == 1 else (run[i : i + 2] for i in range(len(run) - 1)))
        else:
            out.add(word.lower()[:MAX_TERM])
    return out


def term_rows(article_id: int, published_at: date | None, title: str, body_text: str) -> list[dict]:
    key = sort_key(published_at, article_id)
    rows = [{"term": t, "field": "t", "sort_key": key, "article_id": article_id} for t in index_terms(title)]
    rows += [
        {"term": t, "field": "a", "sort_key": key, "article_id": article_id}
        for t in index_terms(title + "\n" + body_text)
    ]
    return rows


async def index_article(session: AsyncSession, article: Article) -> None:
    """(Re)build one article's postings; call in the same transaction that writes the article."""
    await session.execute(delete(ArticleTerm).where(ArticleTerm.article_id == article.id))
    rows = term_rows(article.id, article.published_at, article.title, article.body_text)
    if rows:
        await session.execute(insert(ArticleTerm), rows)


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


async def search_hits(session: AsyncSession, query: str, limit: int = 10) -> list[Hit]:
    """Articles containing every word of `query` (words split on spaces), title hits first, newest first."""
    parts = [p for p in query.split() if p]
    per_part = [(p, query_terms(p)) for p in parts]
    per_part = [(p, t) for p, t in per_part if t]  # punctuation-only words constrain nothing
    if not per_part or limit <= 0:
        return []
    driver, df = await _rarest(session, set().union(*(t for _, t in per_part)))
    if df == 0:
        return []
    checked = [p for p, t in per_part if _needs_check(p, t)]

    async def walk(field: str, confirm: list[ColumnElement], exclude: list[int], n: int) -> list[Article]:
        stmt = (
            select(Article)
            .join(ArticleTerm, ArticleTerm.article_id == Article.id)
            .where(ArticleTerm.term == driver, ArticleTerm.field == field, *confirm)
            .order_by(ArticleTerm.sort_key.desc())
            .limit(n)
        )
        if exclude:
            stmt = stmt.where(Article.id.not_in(exclude))
        return list((await session.execute(stmt)).scalars())

    # In the title pass every word must be in the title, even the ones the index alone decides.
    in_title = [Article.title.ilike(_like(p), escape="\\") for p, _ in per_part]
    titled = await walk("t", in_title, [], limit)
    hits = [Hit(a, True) for a in titled]
    if len(hits) < limit:
        in_body = [
            or_(Article.title.ilike(_like(p), escape="\\"), Article.body_text.ilike(_like(p), escape="\\"))
            for p in checked
        ]
        others = [p for p, t in per_part if not _needs_check(p, t) and next(iter(t)) != driver]
        in_body += [_has_term(next(iter(query_terms(p)))) for p in others]
        body = await walk("a", in_body, [a.id for a in titled], limit - len(hits))
        hits += [Hit(a, False) for a in body]
    return hits


def _has_term(term: str) -> ColumnElement:
    other = ArticleTerm.__table__.alias("other")
    return (
        select(literal_column("1"))
        .select_from(other)
        .where(and_(other.c.term == term, other.c.field == "a", other.c.article_id == Article.id))
        .exists()
    )


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
            select(Article).where(Article.published_at.is_(None)).order_by(Article.id.desc()).limit(n - len(found))
        )
        found += list(undated.scalars())
    return found
