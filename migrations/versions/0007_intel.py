"""intel: sources, items, alerts, mutes

Revision ID: 0007
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "intel_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", S(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("url", S(length=500), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("poll_minutes", sa.Integer(), nullable=False),
        sa.Column("min_fetch_seconds", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("etag", S(length=255), nullable=True),
        sa.Column("last_modified", S(length=64), nullable=True),
        sa.Column("last_fetch_at", T(), nullable=True),
        sa.Column("last_success_at", T(), nullable=True),
        sa.Column("last_error", S(length=500), nullable=True),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", T(), nullable=False),
        sa.Column("updated_at", T(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("intel_source", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intel_source_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_intel_source_enabled"), ["enabled"], unique=False)

    op.create_table(
        "intel_source_error",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("at", T(), nullable=False),
        sa.Column("stage", S(length=16), nullable=False),
        sa.Column("code", S(length=32), nullable=False),
        sa.Column("message", S(length=500), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["intel_source.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("intel_source_error", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intel_source_error_source_id"), ["source_id"], unique=False)

    op.create_table(
        "intel_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", S(length=64), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("title", S(length=300), nullable=False),
        sa.Column("summary", S(length=4000), nullable=False),
        sa.Column("url", S(length=500), nullable=True),
        sa.Column("published_at", T(), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("created_at", T(), nullable=False),
        sa.Column("companies", sa.JSON(), nullable=False),
        sa.Column("credit_codes", sa.JSON(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("dates", sa.JSON(), nullable=False),
        sa.Column("region_codes", sa.JSON(), nullable=False),
        sa.Column("industry_codes", sa.JSON(), nullable=False),
        sa.Column("sentiment", sa.String(length=12), nullable=False),
        sa.Column("sentiment_terms", sa.JSON(), nullable=False),
        sa.Column("event_kind", S(length=24), nullable=True),
        sa.Column("matched_at", T(), nullable=True),
        sa.ForeignKeyConstraint(["source_id"], ["intel_source.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fingerprint"),
    )
    with op.batch_alter_table("intel_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intel_item_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_intel_item_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_intel_item_matched_at"), ["matched_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_intel_item_published_at"), ["published_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_intel_item_source_id"), ["source_id"], unique=False)

    op.create_table(
        "intel_item_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("external_id", S(length=500), nullable=True),
        sa.Column("seen_at", T(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["intel_item.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["source_id"], ["intel_source.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "source_id", name="uq_intel_item_source"),
    )
    with op.batch_alter_table("intel_item_source", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intel_item_source_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_intel_item_source_source_id"), ["source_id"], unique=False)

    op.create_table(
        "intel_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("rm_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("reason", S(length=500), nullable=False),
        sa.Column("signals", sa.JSON(), nullable=False),
        sa.Column("sentiment", sa.String(length=12), nullable=False),
        sa.Column("funding_need", sa.JSON(), nullable=True),
        sa.Column("notified", sa.Boolean(), nullable=False),
        sa.Column("read_at", T(), nullable=True),
        sa.Column("dismissed_at", T(), nullable=True),
        sa.Column("created_at", T(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["item_id"], ["intel_item.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["rm_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "customer_id", name="uq_intel_alert_item_customer"),
    )
    with op.batch_alter_table("intel_alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intel_alert_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index("ix_intel_alert_rm_created", ["rm_id", "created_at"], unique=False)

    op.create_table(
        "intel_mute",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rm_id", sa.Integer(), nullable=False),
        sa.Column("kind", S(length=12), nullable=False),
        sa.Column("value", S(length=32), nullable=False),
        sa.Column("created_at", T(), nullable=False),
        sa.ForeignKeyConstraint(["rm_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rm_id", "kind", "value", name="uq_intel_mute"),
    )
    with op.batch_alter_table("intel_mute", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intel_mute_rm_id"), ["rm_id"], unique=False)


def downgrade() -> None:
    for table in (
        "intel_mute",
        "intel_alert",
        "intel_item_source",
        "intel_item",
        "intel_source_error",
        "intel_source",
    ):
        op.drop_table(table)
