"""scheduler: pushes, their articles, timeline and editor notifications

Revision ID: 0005_scheduler
Revises: 0004_members
"""

import sqlalchemy as sa
from alembic import op

from store.db import UTCDateTime

revision = "0005_scheduler"
down_revision = "0004_members"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pushes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("planned_at", UTCDateTime(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("next_run_at", UTCDateTime(), nullable=True),
        sa.Column("tag_name", sa.String(64), nullable=True),
        sa.Column("tag_id", sa.Integer(), nullable=True),
        sa.Column("source_url", sa.String(1024), nullable=True),
        sa.Column("open_comment", sa.Boolean(), nullable=False),
        sa.Column("fans_only_comment", sa.Boolean(), nullable=False),
        sa.Column("send_ignore_reprint", sa.Boolean(), nullable=False),
        sa.Column("preview", sa.Boolean(), nullable=False),
        sa.Column("approved_by", sa.String(64), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.String(128), nullable=True),
        sa.Column("news_media_id", sa.String(128), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("clientmsgid", sa.String(64), nullable=True),
        sa.Column("publish_id", sa.String(64), nullable=True),
        sa.Column("msg_id", sa.String(64), nullable=True),
        sa.Column("msg_data_id", sa.String(64), nullable=True),
        sa.Column("article_id", sa.String(128), nullable=True),
        sa.Column("polls", sa.Integer(), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_reason", sa.Text(), nullable=True),
        sa.Column("compose_key", sa.String(64), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claim_until", UTCDateTime(), nullable=True),
        sa.Column("submit_started_at", UTCDateTime(), nullable=True),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pushes"),
        sa.UniqueConstraint("compose_key", name="uq_pushes_compose_key"),
    )
    op.create_index("ix_pushes_planned_at", "pushes", ["planned_at"])
    op.create_index("ix_pushes_state_next_run_at", "pushes", ["state", "next_run_at"])

    op.create_table(
        "push_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("push_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(1024), nullable=True),
        sa.ForeignKeyConstraint(
            ["push_id"], ["pushes.id"], name="fk_push_articles_push_id_pushes", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name="fk_push_articles_article_id_articles"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_push_articles"),
        sa.UniqueConstraint("push_id", "position", name="uq_push_articles_push_id"),
    )
    op.create_index("ix_push_articles_push_id", "push_articles", ["push_id"])
    op.create_index("ix_push_articles_article_id", "push_articles", ["article_id"])

    op.create_table(
        "push_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("push_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(20), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["push_id"], ["pushes.id"], name="fk_push_events_push_id_pushes", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_push_events"),
    )
    op.create_index("ix_push_events_push_id", "push_events", ["push_id"])

    op.create_table(
        "push_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("push_id", sa.Integer(), nullable=False),
        sa.Column("openid", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["push_id"],
            ["pushes.id"],
            name="fk_push_notifications_push_id_pushes",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_push_notifications"),
    )
    op.create_index("ix_push_notifications_push_id", "push_notifications", ["push_id"])
    op.create_index("ix_push_notifications_status", "push_notifications", ["status"])


def downgrade() -> None:
    op.drop_table("push_notifications")
    op.drop_table("push_events")
    op.drop_table("push_articles")
    op.drop_table("pushes")
