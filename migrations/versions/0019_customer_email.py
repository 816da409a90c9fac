"""conduct: customers' and decision makers' e-mail addresses, matched against staff e-mails

Revision ID: 0019_customer_email
Revises: 0018_learning
Create Date: 2026-12-05 08:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_customer_email"
down_revision: str | Sequence[str] | None = "0018_learning"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_column("email")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_column("email")
