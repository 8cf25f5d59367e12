"""registry stats: registration date, 参评资格 and evaluations taken; history by time (the registry as of a date)

Revision ID: 0008_registry_stats
Revises: 0007_notices
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_registry_stats"
down_revision = "0007_notices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as t:
        t.add_column(sa.Column("registered_on", sa.Date(), nullable=True))
        t.add_column(sa.Column("eligible", sa.Boolean(), nullable=True))
        t.add_column(sa.Column("evaluations", sa.Integer(), nullable=True))
    op.create_index("ix_member_history_changed_at", "member_history", ["changed_at"])


def downgrade() -> None:
    op.drop_index("ix_member_history_changed_at", "member_history")
    with op.batch_alter_table("members") as t:
        for column in ("evaluations", "eligible", "registered_on"):
            t.drop_column(column)
