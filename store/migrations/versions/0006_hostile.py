"""message log: columns wide enough for every event name and dedupe key WeChat can cause

Revision ID: 0006_hostile
Revises: 0005_scheduler
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_hostile"
down_revision = "0005_scheduler"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch: SQLite rebuilds the table (it cannot alter a column); PostgreSQL alters in place.
    with op.batch_alter_table("message_log") as batch:
        batch.alter_column("msg_type", type_=sa.String(64), existing_type=sa.String(32), existing_nullable=False)
        batch.alter_column("msg_key", type_=sa.String(255), existing_type=sa.String(128), existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("message_log") as batch:
        batch.alter_column("msg_type", type_=sa.String(32), existing_type=sa.String(64), existing_nullable=False)
        batch.alter_column("msg_key", type_=sa.String(128), existing_type=sa.String(255), existing_nullable=True)
