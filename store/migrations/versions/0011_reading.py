"""reading figures (数据统计): followers, articles sent, their figures by day and totals, reads by hour, the
queries done; the registry figures' shared snapshots

Revision ID: 0011_reading
Revises: 0010_sources
"""

import sqlalchemy as sa
from alembic import op

from store.db import UTCDateTime

revision = "0011_reading"
down_revision = "0010_sources"
branch_labels = None
depends_on = None


def _ints(*names: str, nullable: bool = False) -> list[sa.Column]:
    return [sa.Column(n, sa.Integer(), nullable=nullable) for n in names]


def upgrade() -> None:
    op.create_table(
        "reading_follower_sources",
        sa.Column("ref_date", sa.Date(), nullable=False),
        *_ints("user_source", "new_user", "cancel_user"),
        sa.PrimaryKeyConstraint("ref_date", "user_source", name="pk_reading_follower_sources"),
    )
    op.create_table(
        "reading_follower_days",
        sa.Column("ref_date", sa.Date(), nullable=False),
        *_ints("cumulate_user"),
        sa.PrimaryKeyConstraint("ref_date", name="pk_reading_follower_days"),
    )
    op.create_table(
        "reading_articles",
        sa.Column("msgid", sa.String(64), nullable=False),
        sa.Column("msg_data_id", sa.String(64), nullable=False),
        *_ints("idx"),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("content_url", sa.String(1024), nullable=False),
        sa.Column("notified", sa.Boolean(), nullable=True),
        *_ints("push_id", "article_id", nullable=True),
        sa.ForeignKeyConstraint(["push_id"], ["pushes.id"], name="fk_reading_articles_push_id_pushes",
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], name="fk_reading_articles_article_id_articles",
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("msgid", name="pk_reading_articles"),
    )
    op.create_index("ix_reading_articles_msg_data_id", "reading_articles", ["msg_data_id"])
    op.create_index("ix_reading_articles_sent_on", "reading_articles", ["sent_on"])
    op.create_index("ix_reading_articles_push_id", "reading_articles", ["push_id"])
    op.create_table(
        "reading_article_days",
        sa.Column("msgid", sa.String(64), nullable=False),
        sa.Column("ref_date", sa.Date(), nullable=False),
        *_ints("read_user"),
        *_ints("read_count", "share_user", "share_count", "fav_user", "fav_count", nullable=True),
        sa.PrimaryKeyConstraint("msgid", "ref_date", name="pk_reading_article_days"),
    )
    op.create_index("ix_reading_article_days_ref_date", "reading_article_days", ["ref_date"])
    op.create_table(
        "reading_article_totals",
        sa.Column("msgid", sa.String(64), nullable=False),
        sa.Column("stat_date", sa.Date(), nullable=False),
        *_ints("read_user", "share_user", "fav_user"),
        sa.PrimaryKeyConstraint("msgid", "stat_date", name="pk_reading_article_totals"),
    )
    op.create_table(
        "reading_hours",
        sa.Column("ref_date", sa.Date(), nullable=False),
        *_ints("ref_hour", "read_user", "read_count", "share_user", "share_count"),
        sa.PrimaryKeyConstraint("ref_date", "ref_hour", name="pk_reading_hours"),
    )
    op.create_table(
        "reading_fetches",
        sa.Column("endpoint", sa.String(32), nullable=False),
        sa.Column("ref_date", sa.Date(), nullable=False),
        sa.Column("through", sa.Date(), nullable=False),
        *_ints("rows"),
        sa.Column("refused", sa.Boolean(), nullable=False),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("endpoint", "ref_date", name="pk_reading_fetches"),
    )
    op.create_table(
        "member_figure_snapshots",
        sa.Column("key", sa.String(200), nullable=False),
        *_ints("version"),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_member_figure_snapshots"),
    )
    op.create_index("ix_member_figure_snapshots_version", "member_figure_snapshots", ["version"])


def downgrade() -> None:
    for table in ("member_figure_snapshots", "reading_fetches", "reading_hours", "reading_article_totals",
                  "reading_article_days", "reading_articles", "reading_follower_days",
                  "reading_follower_sources"):
        op.drop_table(table)
