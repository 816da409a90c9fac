"""learning and helpers: quiz cards and answers (FSRS), case-card consent, helper tasks

Revision ID: 0018_learning
Revises: 0017_personas
Create Date: 2026-12-05 07:25:25.067311
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0018_learning"
down_revision: str | Sequence[str] | None = "0017_personas"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_consent",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("share_name", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "quiz_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("question_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("due", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reps", sa.Integer(), nullable=False),
        sa.Column("lapses", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "question_key", name="uq_quiz_card_user_question"),
    )
    with op.batch_alter_table("quiz_card", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quiz_card_product_id"), ["product_id"], unique=False)
        batch_op.create_index("ix_quiz_card_user_due", ["user_id", "due"], unique=False)

    op.create_table(
        "quiz_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("question_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("reviewed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("quiz_review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quiz_review_user_id"), ["user_id"], unique=False)

    op.create_table(
        "helper_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("helper_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("progress_note", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("credit_cents", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["helper_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("helper_task", schema=None) as batch_op:
        batch_op.create_index("ix_helper_task_helper_status", ["helper_id", "status"], unique=False)
        batch_op.create_index("ix_helper_task_owner_status", ["owner_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("helper_task", schema=None) as batch_op:
        batch_op.drop_index("ix_helper_task_owner_status")
        batch_op.drop_index("ix_helper_task_helper_status")

    op.drop_table("helper_task")
    with op.batch_alter_table("quiz_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quiz_review_user_id"))

    op.drop_table("quiz_review")
    with op.batch_alter_table("quiz_card", schema=None) as batch_op:
        batch_op.drop_index("ix_quiz_card_user_due")
        batch_op.drop_index(batch_op.f("ix_quiz_card_product_id"))

    op.drop_table("quiz_card")
    op.drop_table("case_consent")
