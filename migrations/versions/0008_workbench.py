"""workbench: knowledge degree, visits, mirror, resources, sellable products, scoring config

Revision ID: 0008
Revises: 0001
Create Date: 2026-11-29 06:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("performance_entry", schema=None) as batch_op:
        batch_op.create_index("ix_performance_entry_customer", ["customer_id"], unique=False)
    op.create_table(
        "product_branch",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
        ),
        sa.PrimaryKeyConstraint("product_id", "branch_id"),
    )
    op.create_table(
        "product_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("customer_label", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("story", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("result", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("product_case", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_case_product_id"), ["product_id"], unique=False)

    op.create_table(
        "product_fit",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.Column("sizes", sa.JSON(), nullable=False),
        sa.Column("industry_prefixes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
        ),
        sa.PrimaryKeyConstraint("product_id"),
    )
    op.create_table(
        "mirror_evaluation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rm_id", sa.Integer(), nullable=False),
        sa.Column("month", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("evaluator_kind", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("evaluator_id", sa.Integer(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("average", sa.Float(), nullable=False),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rm_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rm_id", "month", "evaluator_kind", "evaluator_id", name="uq_mirror_eval_once"),
    )
    with op.batch_alter_table("mirror_evaluation", schema=None) as batch_op:
        batch_op.create_index("ix_mirror_evaluation_rm_month", ["rm_id", "month"], unique=False)

    op.create_table(
        "resource",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("expert_user_id", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["expert_user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resource_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_resource_kind"), ["kind"], unique=False)

    op.create_table(
        "workbench_config",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "customer_fact",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("fact_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("value_summary", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("learned_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("learned_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["learned_by"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("customer_id", "fact_key"),
        sqlite_with_rowid=False,  # clustered by customer: the batch score reads it sequentially
    )
    op.create_table(
        "customer_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("rm_id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("occurred_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("location", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("attendees", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("next_step", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("next_step_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("reminder_id", sa.Integer(), nullable=True),
        sa.Column("facts_learned", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["rm_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("customer_visit", schema=None) as batch_op:
        batch_op.create_index(
            "ix_customer_visit_customer_occurred", ["customer_id", "occurred_at"], unique=False
        )
        batch_op.create_index("ix_customer_visit_rm_next_step", ["rm_id", "next_step_at"], unique=False)

    op.create_table(
        "knowledge_score",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("dims", sa.JSON(), nullable=False),
        sa.Column("computed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    op.create_table(
        "mirror_rating_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("rm_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("month", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["rm_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("mirror_rating_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mirror_rating_link_rm_id"), ["rm_id"], unique=False)

    op.create_table(
        "resource_booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ends_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resource.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("resource_booking", schema=None) as batch_op:
        batch_op.create_index(
            "ix_resource_booking_resource_starts", ["resource_id", "starts_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_resource_booking_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("performance_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_performance_entry_customer")
    with op.batch_alter_table("resource_booking", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resource_booking_user_id"))
        batch_op.drop_index("ix_resource_booking_resource_starts")

    op.drop_table("resource_booking")
    with op.batch_alter_table("mirror_rating_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mirror_rating_link_rm_id"))

    op.drop_table("mirror_rating_link")
    op.drop_table("knowledge_score")
    with op.batch_alter_table("customer_visit", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_visit_rm_next_step")
        batch_op.drop_index("ix_customer_visit_customer_occurred")

    op.drop_table("customer_visit")
    op.drop_table("customer_fact")
    op.drop_table("workbench_config")
    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resource_kind"))
        batch_op.drop_index(batch_op.f("ix_resource_branch_id"))

    op.drop_table("resource")
    with op.batch_alter_table("mirror_evaluation", schema=None) as batch_op:
        batch_op.drop_index("ix_mirror_evaluation_rm_month")

    op.drop_table("mirror_evaluation")
    op.drop_table("product_fit")
    with op.batch_alter_table("product_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_case_product_id"))

    op.drop_table("product_case")
    op.drop_table("product_branch")
    # ### end Alembic commands ###
