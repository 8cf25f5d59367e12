"""members: registry, history, binding codes, bindings and their log, registry version

Revision ID: 0004_members
Revises: 0003_content
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from store.db import UTCDateTime

revision = "0004_members"
down_revision = "0003_content"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=True),
        sa.Column("grade", sa.String(4), nullable=True),
        sa.Column("grade_year", sa.Integer(), nullable=True),
        sa.Column("dues_paid_through", sa.Integer(), nullable=True),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("contact_person", sa.String(50), nullable=False),
        sa.Column("contact_phone", sa.String(50), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_members"),
        sa.UniqueConstraint("credit_code", name="uq_members_credit_code"),
    )
    op.create_table(
        "member_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name="fk_member_history_member_id_members", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_member_history"),
    )
    op.create_index("ix_member_history_member_id", "member_history", ["member_id"])
    op.create_table(
        "member_bind_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("used_by", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name="fk_member_bind_codes_member_id_members", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_member_bind_codes"),
        sa.UniqueConstraint("code_hash", name="uq_member_bind_codes_code_hash"),
    )
    op.create_index("ix_member_bind_codes_member_id", "member_bind_codes", ["member_id"])
    op.create_table(
        "member_bindings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("openid", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name="fk_member_bindings_member_id_members", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_member_bindings"),
    )
    op.create_index("ix_member_bindings_member_id", "member_bindings", ["member_id"])
    op.create_index("ix_member_bindings_openid", "member_bindings", ["openid"])
    op.create_table(
        "member_binding_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("openid", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name="fk_member_binding_events_member_id_members",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_member_binding_events"),
    )
    op.create_index("ix_member_binding_events_member_id", "member_binding_events", ["member_id"])
    op.create_index("ix_member_binding_events_openid", "member_binding_events", ["openid"])
    registry = op.create_table(
        "member_registry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_member_registry"),
    )
    # The one version row; the code also creates it if missing, but a fresh database starts with it.
    op.bulk_insert(registry, [{"id": 1, "version": 0, "updated_at": datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_table("member_registry")
    op.drop_table("member_binding_events")
    op.drop_table("member_bindings")
    op.drop_table("member_bind_codes")
    op.drop_table("member_history")
    op.drop_table("members")
