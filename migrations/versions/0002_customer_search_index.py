"""customer search: a covering index for searching and filtering an owner's book

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 07:30:00

The customer list filters by owner (one RM, or a team lead's team), matches `name LIKE '%q%' OR
name_initials LIKE 'q%'` and the kind/tier/size/industry/region filters, counts, and sorts by name.
With every one of those columns in one index, led by owner and name, SQLite answers the count and
finds the page's ids from the index alone instead of reading every row of the book; a single RM's
book even comes out in name order.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("owner_id", "name", "name_initials", "kind", "tier", "size", "industry_code", "region_code")


def upgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.create_index("ix_customer_owner_search", list(COLUMNS), unique=False)


def downgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_owner_search")
