"""notebook: recurrence anchor on notes; recoverable delivery state on inbox notifications

Revision ID: 0010nb
Revises: 0009
Create Date: 2026-11-29 10:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0010nb"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("note", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("recurrence_anchor", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dispatched_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("dispatch_token", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        batch_op.add_column(sa.Column("delivered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_index("ix_notification_undelivered", ["delivered_at", "dispatched_at"], unique=False)
    # What was stored before counts as delivered (nothing old is sent again); recurring notes count
    # from their next occurrence.
    op.execute("UPDATE notification SET dispatched_at = created_at, delivered_at = created_at")
    op.execute("UPDATE note SET recurrence_anchor = remind_at WHERE recurrence IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_undelivered")
        batch_op.drop_column("delivered_at")
        batch_op.drop_column("dispatch_token")
        batch_op.drop_column("dispatched_at")
    with op.batch_alter_table("note", schema=None) as batch_op:
        batch_op.drop_column("recurrence_anchor")
