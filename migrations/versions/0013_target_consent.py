"""war rooms: customer targets enter a room by their owner's consent (pending requests)

Revision ID: 0013_target_consent
Revises: 0010nb
Create Date: 2026-12-04 17:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_target_consent"
down_revision: str | Sequence[str] | None = "0011_conduct"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Targets stored before were added by their owner or with the old rule; they stay approved.
    with op.batch_alter_table("war_room_target", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "consent",
                sa.String(length=10),
                nullable=False,
                server_default="approved",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("war_room_target", schema=None) as batch_op:
        batch_op.drop_column("consent")
