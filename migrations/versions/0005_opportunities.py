"""opportunity pool: opportunities, transitions, activity, claim policy, imports, benefit
adjustments and the live feed's event stream

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-29 07:10:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "opportunity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", S(length=128), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("prospect_name", S(length=128), nullable=True),
        sa.Column("customer_kind", S(length=12), nullable=False),
        sa.Column("region_code", S(length=6), nullable=True),
        sa.Column("industry_code", S(length=8), nullable=True),
        sa.Column("size", S(length=8), nullable=True),
        sa.Column("tier", S(length=8), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("required_qualification", S(length=32), nullable=True),
        sa.Column("estimated_amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("expected_date", sa.Date(), nullable=True),
        sa.Column("source", S(length=16), nullable=False),
        sa.Column("source_ref", S(length=64), nullable=True),
        sa.Column("note", S(length=500), nullable=True),
        sa.Column("originator_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("visibility", S(length=8), nullable=False),
        sa.Column("quality_score", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("shared_at", T(), nullable=True),
        sa.Column("claimed_at", T(), nullable=True),
        sa.Column("last_activity_at", T(), nullable=True),
        sa.Column("recycle_warned_at", T(), nullable=True),
        sa.Column("recycle_count", sa.Integer(), nullable=False),
        sa.Column("originator_share_bp", sa.Integer(), nullable=True),
        sa.Column("closer_share_bp", sa.Integer(), nullable=True),
        sa.Column("won_amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("revenue_cents", sa.BigInteger(), nullable=True),
        sa.Column("closed_at", T(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", T(), nullable=False),
        sa.Column("updated_at", T(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"]),
        sa.ForeignKeyConstraint(["originator_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["owner_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["branch_id"], ["branch.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("opportunity", schema=None) as batch_op:
        batch_op.create_index("ix_opportunity_status_shared", ["status", "shared_at"], unique=False)
        batch_op.create_index("ix_opportunity_owner_status", ["owner_id", "status"], unique=False)
        batch_op.create_index("ix_opportunity_originator", ["originator_id", "created_at"], unique=False)
        batch_op.create_index("ix_opportunity_region_code", ["region_code"], unique=False)
        batch_op.create_index("ix_opportunity_industry_code", ["industry_code"], unique=False)
        batch_op.create_index("ix_opportunity_branch_id", ["branch_id"], unique=False)
        batch_op.create_index("ix_opportunity_team_id", ["team_id"], unique=False)

    op.create_table(
        "opportunity_transition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("from_status", S(length=12), nullable=True),
        sa.Column("to_status", S(length=12), nullable=False),
        sa.Column("reason", S(length=255), nullable=True),
        sa.Column("at", T(), nullable=False),
        sa.ForeignKeyConstraint(["opportunity_id"], ["opportunity.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["actor_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("opportunity_transition", schema=None) as batch_op:
        batch_op.create_index("ix_opportunity_transition_opportunity_id", ["opportunity_id"], unique=False)

    op.create_table(
        "opportunity_activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("kind", S(length=16), nullable=False),
        sa.Column("note", S(length=500), nullable=True),
        sa.Column("at", T(), nullable=False),
        sa.ForeignKeyConstraint(["opportunity_id"], ["opportunity.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["actor_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("opportunity_activity", schema=None) as batch_op:
        batch_op.create_index("ix_opportunity_activity_opportunity_id", ["opportunity_id"], unique=False)

    policy = op.create_table(
        "claim_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("require_qualification", sa.Boolean(), nullable=False),
        sa.Column("max_open_claims", sa.Integer(), nullable=False),
        sa.Column("priority_window_minutes", sa.Integer(), nullable=False),
        sa.Column("recycle_days", sa.JSON(), nullable=True),
        sa.Column("originator_share_bp", sa.JSON(), nullable=True),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", T(), nullable=False),
        sa.ForeignKeyConstraint(["updated_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    sources = (
        "rm_referral",
        "branch_referral",
        "intel_alert",
        "contract_signal",
        "prospecting",
        "war_room",
        "import",
    )
    op.bulk_insert(
        policy,
        [
            {
                "id": 1,
                "require_qualification": True,
                "max_open_claims": 5,
                "priority_window_minutes": 30,
                "recycle_days": {"vip": 14, "high": 10, "mid": 7, "mass": 5},
                "originator_share_bp": {s: 3000 for s in sources},
                "updated_by": None,
                "updated_at": datetime(2026, 11, 29, tzinfo=UTC),
            }
        ],
    )

    op.create_table(
        "opportunity_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", S(length=64), nullable=False),
        sa.Column("filename", S(length=128), nullable=False),
        sa.Column("importer_id", sa.Integer(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("created_count", sa.Integer(), nullable=False),
        sa.Column("created_at", T(), nullable=False),
        sa.ForeignKeyConstraint(["importer_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("digest"),
    )

    op.create_table(
        "benefit_adjustment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("from_originator_cents", sa.BigInteger(), nullable=False),
        sa.Column("to_originator_cents", sa.BigInteger(), nullable=False),
        sa.Column("reason", S(length=255), nullable=False),
        sa.Column("at", T(), nullable=False),
        sa.ForeignKeyConstraint(["opportunity_id"], ["opportunity.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["actor_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("benefit_adjustment", schema=None) as batch_op:
        batch_op.create_index("ix_benefit_adjustment_opportunity_id", ["opportunity_id"], unique=False)

    op.create_table(
        "feed_event",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", S(length=16), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("visibility", S(length=8), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("required_qualification", S(length=32), nullable=True),
        sa.Column("originator_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("at", T(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("feed_event", schema=None) as batch_op:
        batch_op.create_index("ix_feed_event_opportunity", ["opportunity_id"], unique=False)


def downgrade() -> None:
    op.drop_table("feed_event")
    op.drop_table("benefit_adjustment")
    op.drop_table("opportunity_import")
    op.drop_table("claim_policy")
    op.drop_table("opportunity_activity")
    op.drop_table("opportunity_transition")
    op.drop_table("opportunity")
