"""What editors do to articles besides importing them: list and search with filters, mark ready for
pushing, set the WeChat title, digest, tags (the 栏目 and editors' tags) and cover, read one with its
images. The rules live here, so every face (the CLI, the console) applies the same ones: an article
whose title is longer than WeChat allows can be ready only once it has a WeChat title that fits, and
a cover is one of the article's own images."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import defer

from store.content.search import ranked_ids
from store.db import SessionFactory
from store.models.content import Article, ArticleImage, Image
from wechat.limits import DIGEST_CHARS, TITLE_CHARS

COUNT_UP_TO = 1000  # a list's 共 N 篇 is counted this far (a tag filter reads every row it counts)


@dataclass(frozen=True)
class ReadyOutcome:
    """ready (marked now), missing, title_too_long (needs a WeChat title first), already (its status)."""

    article_id: int
    outcome: str
    status: str = ""
    title_length: int = 0


@dataclass(frozen=True)
class TooLong:
    field: str  # wechat_title | digest
    length: int
    limit: int


@dataclass(frozen=True)
class ArticleFilter:
    query: str = ""  # the project's own search (store/content/search.py), title hits first
    status: str = ""
    column: str = ""  # one of the article's tags (the 栏目 from the breadcrumb, or an editor's tag)
    source: str = ""  # the page's 来源 line
    since: date | None = None  # published on or after
    until: date | None = None  # published on or before


@dataclass(frozen=True)
class ArticlePage:
    articles: list[Article]
    total: int  # how many `f` selects; a lower bound when not `counted` (more than that)
    in_body: set[int] = field(default_factory=set)  # ids found by the search in the body only
    counted: bool = True
    more: bool = False  # articles after these


def title_length(text: str) -> int:
    """A title's length as WeChat counts it for draft/add's 32 (characters, not bytes), after the
    surrounding spaces it would drop."""
    return len(text.strip())


def needs_wechat_title(article: Article) -> bool:
    return title_length(article.title) > TITLE_CHARS and not article.wechat_title


def _where(f: ArticleFilter) -> list:
    where = []
    if f.status:
        where.append(Article.status == f.status)
    if f.column:
        # Tags are a JSON list written by the default serialiser (non-ASCII escaped), on both databases.
        where.append(cast(Article.tags, String).contains(json.dumps(f.column), autoescape=True))
    if f.source:
        where.append(Article.source_name == f.source)
    if f.since:
        where.append(Article.published_at >= f.since)
    if f.until:
        where.append(Article.published_at <= f.until)
    return where


# A list shows neither body: they are left unread (a search's hits are whole 10 KB articles otherwise).
_LISTED = defer(Article.body_html), defer(Article.body_text)


async def find_articles(db: SessionFactory, f: ArticleFilter, offset: int = 0, limit: int = 30) -> ArticlePage:
    """The articles `f` selects, `limit` from `offset`: by the search's rank when it has a query,
    else newest first. The articles come without their bodies (a list shows none). A search is not
    counted past what is shown (each hit is confirmed in its text); a list is counted up to
    COUNT_UP_TO."""
    where = _where(f)
    async with db() as session:
        if f.query.strip():
            ranked = await ranked_ids(session, f.query, offset + limit + 1, where)
            shown = ranked[offset:offset + limit]
            rows = {a.id: a for a in await session.scalars(
                select(Article).options(*_LISTED).where(Article.id.in_([a for a, _ in shown])))} if shown else {}
            more = len(ranked) > offset + limit
            return ArticlePage([rows[a] for a, _ in shown if a in rows], offset + limit if more else len(ranked),
                               {a for a, in_title in shown if not in_title}, counted=not more, more=more)
        selected = select(Article.id).where(*where).limit(COUNT_UP_TO + 1).subquery()
        total = await session.scalar(select(func.count()).select_from(selected)) or 0
        rows = list(await session.scalars(select(Article).options(*_LISTED).where(*where).order_by(
            Article.published_at.desc(), Article.id.desc()).offset(offset).limit(limit + 1)))  # +1: is there more
        return ArticlePage(rows[:limit], min(total, COUNT_UP_TO), counted=total <= COUNT_UP_TO, more=len(rows) > limit)


async def facets(db: SessionFactory, recent: int = 2000) -> tuple[list[str], list[str]]:
    """(columns, sources) to filter by: the tags and 来源 of the `recent` newest articles, by use."""
    async with db() as session:
        rows = (await session.execute(select(Article.tags, Article.source_name)
                                      .order_by(Article.id.desc()).limit(recent))).all()
    tags: dict[str, int] = {}
    sources: dict[str, int] = {}
    for article_tags, source in rows:
        for t in article_tags or []:
            tags[t] = tags.get(t, 0) + 1
        if source:
            sources[source] = sources.get(source, 0) + 1
    return ([t for t, _ in sorted(tags.items(), key=lambda kv: -kv[1])],
            [s for s, _ in sorted(sources.items(), key=lambda kv: -kv[1])])


async def newest_article_id(db: SessionFactory) -> int:
    """The last article's id (0: none): it changes with every import, so what is derived from the
    articles can be kept until it does."""
    async with db() as session:
        return await session.scalar(select(func.max(Article.id))) or 0


async def latest_articles(db: SessionFactory, status: str | None = None, limit: int = 30) -> list[Article]:
    """Newest first (by date, then by import)."""
    async with db() as session:
        query = select(Article).order_by(Article.published_at.desc(), Article.id.desc()).limit(limit)
        if status:
            query = query.where(Article.status == status)
        return list(await session.scalars(query))


async def mark_ready(db: SessionFactory, ids: Sequence[int]) -> list[ReadyOutcome]:
    """Mark imported articles ready for the scheduler, one outcome per id, in one transaction."""
    outcomes = []
    async with db() as session, session.begin():
        for article_id in ids:
            a = await session.get(Article, article_id)
            if a is None:
                outcomes.append(ReadyOutcome(article_id, "missing"))
            elif needs_wechat_title(a):
                outcomes.append(ReadyOutcome(article_id, "title_too_long", a.status, title_length(a.title)))
            elif a.status != "imported":
                outcomes.append(ReadyOutcome(article_id, "already", a.status))
            else:
                a.status = "ready"
                outcomes.append(ReadyOutcome(article_id, "ready", "ready"))
    return outcomes


def too_long(wechat_title: str | None = None, digest: str | None = None) -> list[TooLong]:
    """What of an edit WeChat would refuse (empty list: nothing)."""
    problems = []
    if wechat_title is not None and title_length(wechat_title) > TITLE_CHARS:
        problems.append(TooLong("wechat_title", title_length(wechat_title), TITLE_CHARS))
    if digest is not None and len(digest.strip()) > DIGEST_CHARS:
        problems.append(TooLong("digest", len(digest.strip()), DIGEST_CHARS))
    return problems


async def edit_article(
    db: SessionFactory,
    article_id: int,
    now: datetime,
    wechat_title: str | None = None,
    digest: str | None = None,
    tags: str | None = None,
) -> Article | None:
    """Set what is given ("" clears the WeChat title or digest; tags are comma-separated and replace
    the current ones). Check `too_long` first. None when there is no such article."""
    async with db() as session, session.begin():
        a = await session.get(Article, article_id)
        if a is None:
            return None
        if wechat_title is not None:
            a.wechat_title = wechat_title.strip() or None
        if digest is not None:
            a.wechat_digest = digest.strip() or None
        if tags is not None:
            a.tags = [t.strip() for t in tags.replace("，", ",").split(",") if t.strip()]
        a.updated_at = now
    return a


async def article_with_images(db: SessionFactory, article_id: int) -> tuple[Article, list[Image]] | None:
    """The article and its images in body order, or None."""
    async with db() as session:
        a = await session.get(Article, article_id)
        if a is None:
            return None
        images = await session.scalars(
            select(Image).join(ArticleImage, ArticleImage.image_id == Image.id)
            .where(ArticleImage.article_id == a.id).order_by(ArticleImage.position)
        )  # fmt: skip
        return a, list(images)


async def set_cover(db: SessionFactory, article_id: int, image_id: int | None, now: datetime) -> Article | None:
    """Make one of the article's own images its cover (None: none, and the draft carries the
    default cover, store/content/render.py). None when there is no such article; ValueError when
    the image is not the article's."""
    async with db() as session, session.begin():
        a = await session.get(Article, article_id)
        if a is None:
            return None
        if image_id is not None:
            own = await session.scalar(select(ArticleImage.image_id).where(
                ArticleImage.article_id == article_id, ArticleImage.image_id == image_id).limit(1))
            if own is None:
                raise ValueError(f"image {image_id} is not one of article {article_id}'s")
        a.cover_image_id = image_id
        a.updated_at = now
    return a
