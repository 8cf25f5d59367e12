"""foundation: shared key/value state

Revision ID: 0001_foundation
Revises:
"""

import sqlalchemy as sa
from alembic import op

from store.db import UTCDateTime

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shared_kv",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_shared_kv"),
    )
    op.create_index("ix_shared_kv_expires_at", "shared_kv", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_shared_kv_expires_at", table_name="shared_kv")
    op.drop_table("shared_kv")
