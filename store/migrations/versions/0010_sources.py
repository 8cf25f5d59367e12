"""sources: polled sources' state (validators, failures, back-off, lease) and their runs; notices about a source

Revision ID: 0010_sources
Revises: 0009_console
"""

import sqlalchemy as sa
from alembic import op

from store.db import UTCDateTime

revision = "0010_sources"
down_revision = "0009_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_states",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("etag", sa.String(255), nullable=True),
        sa.Column("last_modified", sa.String(64), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_poll_at", UTCDateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claim_until", UTCDateTime(), nullable=True),
        sa.Column("last_run_at", UTCDateTime(), nullable=True),
        sa.Column("last_ok_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_source_states"),
    )
    op.create_table(
        "source_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("worker", sa.String(64), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("not_modified", sa.Boolean(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("found", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_source_runs"),
    )
    op.create_index("ix_source_runs_source", "source_runs", ["source"])
    with op.batch_alter_table("push_notifications") as t:
        t.alter_column("push_id", existing_type=sa.Integer(), nullable=True)
        t.add_column(sa.Column("source", sa.String(64), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM push_notifications WHERE push_id IS NULL")
    with op.batch_alter_table("push_notifications") as t:
        t.drop_column("source")
        t.alter_column("push_id", existing_type=sa.Integer(), nullable=False)
    op.drop_index("ix_source_runs_source", "source_runs")
    op.drop_table("source_runs")
    op.drop_table("source_states")
