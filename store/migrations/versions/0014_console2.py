"""console part 2: the custom menu as editors keep it (saved versions, synced time); followers by latest contact

Revision ID: 0014_console2
Revises: 0011_reading
"""

import sqlalchemy as sa
from alembic import op

from store.db import UTCDateTime

revision = "0014_console2"
down_revision = "0011_reading"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "custom_menus",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("saved_by", sa.String(64), nullable=False),
        sa.Column("saved_at", UTCDateTime(), nullable=False),
        sa.Column("synced_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_followers_last_seen", "followers", ["last_seen"])


def downgrade() -> None:
    op.drop_index("ix_followers_last_seen", "followers")
    op.drop_table("custom_menus")
