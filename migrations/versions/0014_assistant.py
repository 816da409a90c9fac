"""assistant: next-best-product model, recommendations shown, dismissals

Revision ID: 0014_assistant
Revises: 0013_target_consent
Create Date: 2026-12-04 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0014_assistant"
down_revision: str | Sequence[str] | None = "0016_conduct_contacts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recommender_model",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trained_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("holdings", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_recommender_model_trained_at", "recommender_model", ["trained_at"], unique=False)
    op.create_table(
        "recommendation_shown",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("rm_id", sa.Integer(), nullable=False),
        sa.Column("shown_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"]),
        sa.ForeignKeyConstraint(["rm_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("customer_id", "product_id", name="uq_recommendation_shown"),
    )
    op.create_index(
        "ix_recommendation_shown_customer_id", "recommendation_shown", ["customer_id"], unique=False
    )
    op.create_index(
        "ix_recommendation_shown_product_id", "recommendation_shown", ["product_id"], unique=False
    )
    op.create_index("ix_recommendation_shown_rm_id", "recommendation_shown", ["rm_id"], unique=False)
    op.create_table(
        "recommendation_dismissal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("rm_id", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("dismissed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"]),
        sa.ForeignKeyConstraint(["rm_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_recommendation_dismissal_customer_until",
        "recommendation_dismissal",
        ["customer_id", "until"],
        unique=False,
    )
    op.create_index(
        "ix_recommendation_dismissal_product_id", "recommendation_dismissal", ["product_id"], unique=False
    )
    op.create_index("ix_recommendation_dismissal_rm_id", "recommendation_dismissal", ["rm_id"], unique=False)


def downgrade() -> None:
    op.drop_table("recommendation_dismissal")
    op.drop_table("recommendation_shown")
    op.drop_index("ix_recommender_model_trained_at", table_name="recommender_model")
    op.drop_table("recommender_model")
