"""notices: per-recipient previews; notices that know what they report, why they wait, who acknowledged

Revision ID: 0007_notices
Revises: 0005_scheduler
"""

import sqlalchemy as sa
from alembic import op

from store.db import UTCDateTime

revision = "0007_notices"
down_revision = "0006_hostile"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "push_previews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("push_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("openid", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_reason", sa.Text(), nullable=True),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["push_id"], ["pushes.id"], name="fk_push_previews_push_id_pushes", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_push_previews"),
    )
    op.create_index("ix_push_previews_push_id", "push_previews", ["push_id"])
    with op.batch_alter_table("push_notifications") as t:
        t.add_column(sa.Column("push_state", sa.String(20), nullable=True))
        t.add_column(sa.Column("push_revision", sa.Integer(), nullable=True))
        t.add_column(sa.Column("push_planned_at", UTCDateTime(), nullable=True))
        t.add_column(sa.Column("detail", sa.Text(), nullable=True))
        t.add_column(sa.Column("acked_at", UTCDateTime(), nullable=True))
        t.add_column(sa.Column("acked_by", sa.String(64), nullable=True))
    # Notices of the previous version that went into an editor's held replies arrive with the
    # editor's next message, outside the scheduler's sight: neither undelivered nor re-sent.
    op.execute("UPDATE push_notifications SET status = 'handed' WHERE status = 'held'")


def downgrade() -> None:
    op.execute("UPDATE push_notifications SET status = 'held' WHERE status = 'handed'")
    op.execute("UPDATE push_notifications SET status = 'held' WHERE status = 'waiting'")
    with op.batch_alter_table("push_notifications") as t:
        for column in ("acked_by", "acked_at", "detail", "push_planned_at", "push_revision", "push_state"):
            t.drop_column(column)
    op.drop_table("push_previews")
