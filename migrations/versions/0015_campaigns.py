"""war rooms: campaigns — bulk additions of targets from a source, each target's source note and assignee

Revision ID: 0015_campaigns
Revises: 0013_target_consent
Create Date: 2026-12-04 18:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0015_campaigns"
down_revision: str | Sequence[str] | None = "0014_assistant"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "war_room_bulk",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("client_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("source_type", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("source_label", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("first_seq", sa.Integer(), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["user.id"]),
        sa.ForeignKeyConstraint(["room_id"], ["war_room.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("room_id", "client_key", name="uq_war_room_bulk_key"),
    )
    op.create_index(op.f("ix_war_room_bulk_room_id"), "war_room_bulk", ["room_id"], unique=False)
    with op.batch_alter_table("war_room_target", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source_note", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=True)
        )
        batch_op.add_column(sa.Column("bulk_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_war_room_target_bulk_id"), ["bulk_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_war_room_target_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_foreign_key("fk_war_room_target_bulk", "war_room_bulk", ["bulk_id"], ["id"])
        batch_op.create_foreign_key("fk_war_room_target_assignee", "user", ["assignee_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("war_room_target", schema=None) as batch_op:
        batch_op.drop_constraint("fk_war_room_target_assignee", type_="foreignkey")
        batch_op.drop_constraint("fk_war_room_target_bulk", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_war_room_target_assignee_id"))
        batch_op.drop_index(batch_op.f("ix_war_room_target_bulk_id"))
        batch_op.drop_column("assignee_id")
        batch_op.drop_column("bulk_id")
        batch_op.drop_column("source_note")
    op.drop_index(op.f("ix_war_room_bulk_room_id"), table_name="war_room_bulk")
    op.drop_table("war_room_bulk")
