"""What editors do to articles besides importing them: list, mark ready for pushing, set the WeChat
title, digest and tags, read one with its images. The rules live here, so every face (the CLI, the
console) applies the same ones: an article whose title is longer than WeChat allows can be ready only
once it has a WeChat title that fits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from store.db import SessionFactory
from store.models.content import Article, ArticleImage, Image
from wechat.limits import DIGEST_CHARS, TITLE_CHARS


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


def needs_wechat_title(article: Article) -> bool:
    return len(article.title) > TITLE_CHARS and not article.wechat_title


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
                outcomes.append(ReadyOutcome(article_id, "title_too_long", a.status, len(a.title)))
            elif a.status != "imported":
                outcomes.append(ReadyOutcome(article_id, "already", a.status))
            else:
                a.status = "ready"
                outcomes.append(ReadyOutcome(article_id, "ready", "ready"))
    return outcomes


def too_long(wechat_title: str | None = None, digest: str | None = None) -> list[TooLong]:
    """What of an edit WeChat would refuse (empty list: nothing)."""
    problems = []
    if wechat_title is not None and len(wechat_title.strip()) > TITLE_CHARS:
        problems.append(TooLong("wechat_title", len(wechat_title.strip()), TITLE_CHARS))
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
