"""webhook: followers, keyword rules, message log

Revision ID: 0002_webhook
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from store.db import UTCDateTime

revision = "0002_webhook"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "followers",
        sa.Column("openid", sa.String(64), nullable=False),
        sa.Column("subscribed", sa.Boolean(), nullable=False),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.Column("last_message_at", UTCDateTime(), nullable=True),
        sa.Column("message_window_at", UTCDateTime(), nullable=True),
        sa.Column("message_window_used", sa.Integer(), nullable=False),
        sa.Column("event_window_at", UTCDateTime(), nullable=True),
        sa.Column("event_window_used", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=True),
        sa.Column("held", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("openid", name="pk_followers"),
    )
    op.create_table(
        "keyword_rules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("match", sa.String(16), nullable=False),
        sa.Column("pattern", sa.String(512), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("reply_type", sa.String(8), nullable=False),
        sa.Column("title", sa.String(256), nullable=False),
        sa.Column("url", sa.String(1024), nullable=False),
        sa.Column("picurl", sa.String(1024), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("seed_key", sa.String(600), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_keyword_rules"),
        sa.UniqueConstraint("seed_key", name="uq_keyword_rules_seed_key"),
    )
    op.create_index("ix_keyword_rules_revision", "keyword_rules", ["revision"])
    op.create_table(
        "message_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("openid", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(4), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("msg_type", sa.String(32), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("msg_key", sa.String(128), nullable=True),
        sa.Column("elapsed_ms", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_message_log"),
    )
    op.create_index("ix_message_log_at", "message_log", ["at"])
    op.create_index("ix_message_log_openid_at", "message_log", ["openid", "at"])


def downgrade() -> None:
    op.drop_index("ix_message_log_openid_at", table_name="message_log")
    op.drop_index("ix_message_log_at", table_name="message_log")
    op.drop_table("message_log")
    op.drop_index("ix_keyword_rules_revision", table_name="keyword_rules")
    op.drop_table("keyword_rules")
    op.drop_table("followers")
