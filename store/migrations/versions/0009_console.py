"""console: editors' accounts, the audit log, and the approval's own states on pushes

Revision ID: 0009_console
Revises: 0008_registry_stats
"""

import sqlalchemy as sa
from alembic import op

from store.db import UTCDateTime

revision = "0009_console"
down_revision = "0008_registry_stats"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "editors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("openid", sa.String(64), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_login_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_editors"),
        sa.UniqueConstraint("name", name="uq_editors_name"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("action", sa.String(48), nullable=False),
        sa.Column("target_type", sa.String(24), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_actor_at", "audit_log", ["actor", "at"])
    op.create_index("ix_audit_log_target", "audit_log", ["target_type", "target_id"])
    with op.batch_alter_table("pushes") as t:
        t.add_column(sa.Column("review", sa.String(16), nullable=False, server_default="draft"))
        t.add_column(sa.Column("review_comment", sa.Text(), nullable=True))
        t.add_column(sa.Column("created_by", sa.String(64), nullable=True))
        t.add_column(sa.Column("submitted_by", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pushes") as t:
        for column in ("submitted_by", "created_by", "review_comment", "review"):
            t.drop_column(column)
    op.drop_table("audit_log")
    op.drop_table("editors")
