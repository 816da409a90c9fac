"""war rooms: rooms, members, targets, linked opportunities, tasks and the per-room event log

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-29 06:58:30.667622
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "war_room",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("mode", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("goal_amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("goal_customers", sa.Integer(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("source_type", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("source_title", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("war_room", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_war_room_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_war_room_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_war_room_team_id"), ["team_id"], unique=False)

    op.create_table(
        "war_room_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(["room_id"], ["war_room.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("room_id", "client_id", name="uq_war_room_event_client"),
        sa.UniqueConstraint("room_id", "seq", name="uq_war_room_event_seq"),
    )
    with op.batch_alter_table("war_room_event", schema=None) as batch_op:
        batch_op.create_index("ix_war_room_event_room_kind", ["room_id", "kind"], unique=False)

    op.create_table(
        "war_room_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=True),
        sa.Column("last_read_seq", sa.Integer(), nullable=False),
        sa.Column("invited_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("joined_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["invited_by"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(["room_id"], ["war_room.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("room_id", "user_id", name="uq_war_room_member"),
    )
    with op.batch_alter_table("war_room_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_war_room_member_room_id"), ["room_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_war_room_member_user_id"), ["user_id"], unique=False)

    op.create_table(
        "war_room_opportunity",
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("linked_by", sa.Integer(), nullable=False),
        sa.Column("linked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["linked_by"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(["room_id"], ["war_room.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("room_id", "opportunity_id"),
    )
    op.create_table(
        "war_room_target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("prospect_name", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("stage", sa.String(length=12), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.ForeignKeyConstraint(["room_id"], ["war_room.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("war_room_target", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_war_room_target_room_id"), ["room_id"], unique=False)

    op.create_table(
        "war_room_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("item", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(["room_id"], ["war_room.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("war_room_task", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_war_room_task_room_id"), ["room_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("war_room_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_war_room_task_room_id"))

    op.drop_table("war_room_task")
    with op.batch_alter_table("war_room_target", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_war_room_target_room_id"))

    op.drop_table("war_room_target")
    op.drop_table("war_room_opportunity")
    with op.batch_alter_table("war_room_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_war_room_member_user_id"))
        batch_op.drop_index(batch_op.f("ix_war_room_member_room_id"))

    op.drop_table("war_room_member")
    with op.batch_alter_table("war_room_event", schema=None) as batch_op:
        batch_op.drop_index("ix_war_room_event_room_kind")

    op.drop_table("war_room_event")
    with op.batch_alter_table("war_room", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_war_room_team_id"))
        batch_op.drop_index(batch_op.f("ix_war_room_status"))
        batch_op.drop_index(batch_op.f("ix_war_room_owner_id"))

    op.drop_table("war_room")
