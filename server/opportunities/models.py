"""The opportunity sharing pool (商机共享池): opportunities, their lifecycle transitions and activity,
the admin's claim and benefit policy, import batches, and the live feed's event stream."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, String
from sqlmodel import Field, SQLModel

from server.timeutil import utcnow


class OpportunityStatus(StrEnum):
    draft = "draft"
    shared = "shared"
    claimed = "claimed"
    in_progress = "in_progress"
    won = "won"
    lost = "lost"
    expired = "expired"
    recycled = "recycled"  # passing state: a stale claim on its way back to the pool


OPEN_CLAIM_STATUSES = (OpportunityStatus.claimed, OpportunityStatus.in_progress)


class OpportunitySource(StrEnum):
    rm_referral = "rm_referral"  # 客户经理推荐
    branch_referral = "branch_referral"  # 网点/柜员转介
    intel_alert = "intel_alert"  # 情报提醒
    contract_signal = "contract_signal"  # 合同/交易信号
    prospecting = "prospecting"  # 智能获客模型
    war_room = "war_room"  # 作战室
    import_ = "import"  # CSV/XLSX 导入


class Visibility(StrEnum):
    private = "private"  # the originator only; never in the pool's feed
    team = "team"
    branch = "branch"
    bank = "bank"


class Opportunity(SQLModel, table=True):
    __table_args__ = (
        Index("ix_opportunity_status_shared", "status", "shared_at"),
        Index("ix_opportunity_owner_status", "owner_id", "status"),
        Index("ix_opportunity_originator", "originator_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=128)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", ondelete="SET NULL")
    prospect_name: str | None = Field(default=None, max_length=128)  # not yet our customer
    customer_kind: str = Field(default="corporate", max_length=12)
    region_code: str | None = Field(default=None, max_length=6, index=True)
    industry_code: str | None = Field(default=None, max_length=8, index=True)
    size: str | None = Field(default=None, max_length=8)  # enterprise size, for the fit ranking
    tier: str = Field(default="mass", max_length=8)  # customer tier: sets the recycle period
    product_id: int | None = Field(default=None, foreign_key="product.id")
    # Copied from the product when shared, so the feed filters without a join.
    required_qualification: str | None = Field(default=None, max_length=32)
    estimated_amount_cents: int | None = Field(default=None, sa_type=BigInteger)
    expected_date: date | None = None
    source: str = Field(max_length=16)
    source_ref: str | None = Field(default=None, max_length=64)  # e.g. war room id, alert id
    note: str | None = Field(default=None, max_length=500)
    originator_id: int = Field(foreign_key="user.id")
    owner_id: int | None = Field(default=None, foreign_key="user.id")
    branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    visibility: str = Field(default=Visibility.branch, max_length=8)
    quality_score: int = 50
    status: str = Field(default=OpportunityStatus.draft, sa_type=String(12))
    shared_at: datetime | None = None
    claimed_at: datetime | None = None
    last_activity_at: datetime | None = None
    recycle_warned_at: datetime | None = None
    recycle_count: int = 0
    # Benefit split in basis points, fixed at claim time (later policy changes don't rewrite it).
    originator_share_bp: int | None = None
    closer_share_bp: int | None = None
    won_amount_cents: int | None = Field(default=None, sa_type=BigInteger)
    revenue_cents: int | None = Field(default=None, sa_type=BigInteger)
    closed_at: datetime | None = None
    import_id: int | None = None
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class OpportunityTransition(SQLModel, table=True):
    """Every lifecycle step: who (None for the system), when, from, to, why."""

    __tablename__ = "opportunity_transition"

    id: int | None = Field(default=None, primary_key=True)
    opportunity_id: int = Field(foreign_key="opportunity.id", index=True, ondelete="CASCADE")
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    from_status: str | None = Field(default=None, max_length=12)
    to_status: str = Field(max_length=12)
    reason: str | None = Field(default=None, max_length=255)
    at: datetime = Field(default_factory=utcnow)


class OpportunityActivity(SQLModel, table=True):
    """Work recorded on a claimed opportunity (call, visit, proposal ...): resets the recycle clock."""

    __tablename__ = "opportunity_activity"

    id: int | None = Field(default=None, primary_key=True)
    opportunity_id: int = Field(foreign_key="opportunity.id", index=True, ondelete="CASCADE")
    actor_id: int = Field(foreign_key="user.id")
    kind: str = Field(max_length=16)
    note: str | None = Field(default=None, max_length=500)
    at: datetime = Field(default_factory=utcnow)


def default_recycle_days() -> dict[str, int]:
    return {"vip": 14, "high": 10, "mid": 7, "mass": 5}


def default_split() -> dict[str, int]:
    """Originator's share in basis points by source; the closer gets the rest."""
    return {source.value: 3000 for source in OpportunitySource}


class ClaimPolicy(SQLModel, table=True):
    """The admin's rules of the pool: one row (id 1)."""

    __tablename__ = "claim_policy"

    id: int | None = Field(default=None, primary_key=True)
    require_qualification: bool = True
    max_open_claims: int = 5
    priority_window_minutes: int = 30
    recycle_days: dict[str, int] = Field(default_factory=default_recycle_days, sa_column=Column(JSON))
    originator_share_bp: dict[str, int] = Field(default_factory=default_split, sa_column=Column(JSON))
    updated_by: int | None = Field(default=None, foreign_key="user.id")
    updated_at: datetime = Field(default_factory=utcnow)


class OpportunityImport(SQLModel, table=True):
    """One imported file, keyed by its SHA-256: the same file never imports twice."""

    __tablename__ = "opportunity_import"

    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(max_length=64, unique=True)
    filename: str = Field(max_length=128)
    importer_id: int = Field(foreign_key="user.id")
    row_count: int = 0
    created_count: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class BenefitAdjustment(SQLModel, table=True):
    """A team lead's change to a won opportunity's split; the ledger gets offsetting entries."""

    __tablename__ = "benefit_adjustment"

    id: int | None = Field(default=None, primary_key=True)
    opportunity_id: int = Field(foreign_key="opportunity.id", index=True, ondelete="CASCADE")
    actor_id: int = Field(foreign_key="user.id")
    from_originator_cents: int = Field(sa_type=BigInteger)
    to_originator_cents: int = Field(sa_type=BigInteger)
    reason: str = Field(max_length=255)
    at: datetime = Field(default_factory=utcnow)


class FeedEvent(SQLModel, table=True):
    """The pool's live stream: `seq` orders it; a reconnecting client replays from its last seq.
    Audience columns let the replay filter in SQL exactly as the live rooms do."""

    __tablename__ = "feed_event"
    __table_args__ = (Index("ix_feed_event_opportunity", "opportunity_id"),)

    seq: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # shared, claimed, recycled, withdrawn
    opportunity_id: int
    visibility: str = Field(max_length=8)
    branch_id: int | None = None
    team_id: int | None = None
    required_qualification: str | None = Field(default=None, max_length=32)
    originator_id: int | None = None
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(default_factory=utcnow)
