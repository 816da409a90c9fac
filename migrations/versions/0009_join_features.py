"""join the feature branches

Revision ID: 0009
Revises: 0002, 0004, 0005, 0006, 0007, 0008
Create Date: 2026-11-29 08:31:28.054021
"""

from collections.abc import Sequence

revision: str = "0009"
down_revision: str | Sequence[str] | None = ("0002", "0004", "0005", "0006", "0007", "0008")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # the features were built side by side off the foundation; this joins them into one head


def downgrade() -> None:
    pass
