"""The content store: articles imported from the federation's website, their images (stored once,
content-addressed), what each image became on each WeChat account, and the Chinese search index."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.db import Base, utcnow

ARTICLE_STATUSES = ("imported", "ready", "queued", "published", "withdrawn")


class Image(Base):
    __tablename__ = "images"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    # Where it was first seen ("" for images made locally, e.g. the demo's).
    original_url: Mapped[str] = mapped_column(String(1000), default="")
    # Relative to [content] media_dir: ab/cd/<sha256>.<ext>
    path: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(255))
    author: Mapped[str] = mapped_column(String(64), default="")
    # The page's 来源 line ("中国社会报"), "" when the page names none.
    source_name: Mapped[str] = mapped_column(String(128), default="")
    published_at: Mapped[date | None] = mapped_column(Date, index=True)
    source_url: Mapped[str] = mapped_column(String(1000), unique=True)
    # Clean HTML; each <img> carries data-sha256 naming its Image row.
    body_html: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(255), default="")
    cover_image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id", ondelete="SET NULL"))
    # The column (栏目) from the breadcrumb plus any editor tags; the scheduler selects on these.
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="imported", index=True)
    wechat_title: Mapped[str | None] = mapped_column(String(64))
    wechat_digest: Mapped[str | None] = mapped_column(String(255))
    wechat_url: Mapped[str | None] = mapped_column(String(1000))
    # sha256 of what was extracted; equal on re-import means "unchanged, touch nothing".
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArticleImage(Base):
    __tablename__ = "article_images"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)


class ImageUpload(Base):
    """What one image became on one WeChat account: an uploadimg URL or a permanent material."""

    __tablename__ = "image_uploads"
    __table_args__ = (UniqueConstraint("sha256", "account", "kind", name="uq_image_uploads_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    # api_base_url + "#" + appid: a rehearsal on the local platform never serves the real account.
    account: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # uploadimg | image | thumb
    url: Mapped[str] = mapped_column(String(1000), default="")
    media_id: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArticleTerm(Base):
    """The search index: one row per distinct term (CJK bigram or unigram, or a Latin/digit word)
    per field (t = title, a = title and body) of an article. sort_key orders newest first, so a
    search walks one term's postings in rank order and stops as soon as it has enough hits."""

    __tablename__ = "article_terms"
    __table_args__ = (Index("ix_article_terms_article_id", "article_id"),)

    term: Mapped[str] = mapped_column(String(32), primary_key=True)
    field: Mapped[str] = mapped_column(String(1), primary_key=True)
    sort_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
