"""content: articles, images, per-account uploads, Chinese search index

Revision ID: 0003_content
Revises: 0002_webhook
"""

import sqlalchemy as sa
from alembic import op

from store.db import UTCDateTime

revision = "0003_content"
down_revision = "0002_webhook"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("original_url", sa.String(1000), nullable=False),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("mime", sa.String(32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_images"),
        sa.UniqueConstraint("sha256", name="uq_images_sha256"),
    )
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("source_name", sa.String(128), nullable=False),
        sa.Column("published_at", sa.Date(), nullable=True),
        sa.Column("source_url", sa.String(1000), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(255), nullable=False),
        sa.Column("cover_image_id", sa.Integer(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("wechat_title", sa.String(64), nullable=True),
        sa.Column("wechat_digest", sa.String(255), nullable=True),
        sa.Column("wechat_url", sa.String(1000), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cover_image_id"],
            ["images.id"],
            name="fk_articles_cover_image_id_images",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_articles"),
        sa.UniqueConstraint("source_url", name="uq_articles_source_url"),
    )
    op.create_index("ix_articles_published_at", "articles", ["published_at"])
    op.create_index("ix_articles_status", "articles", ["status"])
    op.create_table(
        "article_images",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name="fk_article_images_article_id_articles",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.id"], name="fk_article_images_image_id_images", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("article_id", "position", name="pk_article_images"),
    )
    op.create_index("ix_article_images_image_id", "article_images", ["image_id"])
    op.create_table(
        "image_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("account", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("url", sa.String(1000), nullable=False),
        sa.Column("media_id", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_image_uploads"),
        sa.UniqueConstraint("sha256", "account", "kind", name="uq_image_uploads_key"),
    )
    op.create_table(
        "article_terms",
        sa.Column("term", sa.String(32), nullable=False),
        sa.Column("field", sa.String(1), nullable=False),
        sa.Column("sort_key", sa.BigInteger(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name="fk_article_terms_article_id_articles",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("term", "field", "sort_key", "article_id", name="pk_article_terms"),
    )
    op.create_index("ix_article_terms_article_id", "article_terms", ["article_id"])


def downgrade() -> None:
    op.drop_index("ix_article_terms_article_id", table_name="article_terms")
    op.drop_table("article_terms")
    op.drop_table("image_uploads")
    op.drop_index("ix_article_images_image_id", table_name="article_images")
    op.drop_table("article_images")
    op.drop_index("ix_articles_status", table_name="articles")
    op.drop_index("ix_articles_published_at", table_name="articles")
    op.drop_table("articles")
    op.drop_table("images")
