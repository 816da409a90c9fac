"""Prospects (待开发客户): firms and people the bank does not serve yet, the links that tie them to
the bank's book, where each field came from, RM claims, lookalike model versions and their scores.

The demo's planted truth lives in `prospect_truth`, which only the evaluation reads: no service,
feature or API touches it."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.timeutil import utcnow


class ProspectStatus(StrEnum):
    open = "open"  # not a customer
    converted = "converted"  # became a customer after it was a prospect (keeps its history)
    merged = "merged"  # was already a customer when it arrived (same credit code): never shown


class LinkKind(StrEnum):
    supplier = "supplier"  # the prospect supplies the other party (上游)
    buyer = "buyer"  # the prospect buys from the other party (下游)
    shareholder = "shareholder"  # the prospect holds shares in the other party
    subsidiary = "subsidiary"  # the prospect is held by the other party
    decision_maker = "decision_maker"  # a shared key decision maker
    park = "park"  # same industrial park


LINK_LABELS = {
    LinkKind.supplier: "供应商",
    LinkKind.buyer: "采购方",
    LinkKind.shareholder: "股东",
    LinkKind.subsidiary: "子公司",
    LinkKind.decision_maker: "共同决策人",
    LinkKind.park: "同园区",
}
CHAIN_KINDS = (LinkKind.supplier, LinkKind.buyer, LinkKind.shareholder, LinkKind.subsidiary)


class Prospect(SQLModel, table=True):
    __table_args__ = (
        Index("ix_prospect_region_industry", "region_code", "industry_code"),
        Index("ix_prospect_lat_lng", "latitude", "longitude"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="corporate", max_length=12)  # corporate, individual
    name: str = Field(max_length=128)
    credit_code: str | None = Field(default=None, max_length=18, unique=True)  # GB 32100, validated
    industry_code: str | None = Field(default=None, max_length=8, index=True)  # GB/T 4754
    size: str | None = Field(default=None, max_length=8)  # large, medium, small, micro
    ownership: str | None = Field(default=None, max_length=16)
    registered_capital_cents: int | None = Field(default=None, sa_type=BigInteger)
    founded_on: date | None = None
    address: str | None = Field(default=None, max_length=255)
    region_code: str | None = Field(default=None, max_length=6, index=True)  # GB/T 2260
    latitude: float | None = None
    longitude: float | None = None
    park: str | None = Field(default=None, max_length=64)
    lawful_for_marketing: bool = Field(default=True)  # PIPL: personal prospects only when the source allows
    status: ProspectStatus = Field(default=ProspectStatus.open, sa_type=String(12), index=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    converted_at: datetime | None = None
    claimed_by: int | None = Field(default=None, foreign_key="user.id", index=True)
    claimed_until: datetime | None = None
    # Per field: {"name": {"source": "工商登记", "source_id": 3, "at": "2026-12-01"}, ...}
    field_sources: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ProspectLink(SQLModel, table=True):
    """A tie from a prospect to a bank customer or to another prospect."""

    __tablename__ = "prospect_link"
    __table_args__ = (
        UniqueConstraint("prospect_id", "kind", "customer_id", "other_prospect_id", name="uq_prospect_link"),
    )

    id: int | None = Field(default=None, primary_key=True)
    prospect_id: int = Field(foreign_key="prospect.id", index=True, ondelete="CASCADE")
    kind: LinkKind = Field(sa_type=String(16))
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True, ondelete="CASCADE")
    other_prospect_id: int | None = Field(
        default=None, foreign_key="prospect.id", index=True, ondelete="CASCADE"
    )
    label: str | None = Field(default=None, max_length=64)
    source_id: int | None = Field(default=None, foreign_key="intel_source.id")
    created_at: datetime = Field(default_factory=utcnow)


class ProspectTruth(SQLModel, table=True):
    """The demo's planted propensity: read only by the evaluation (bench/prospecting.py)."""

    __tablename__ = "prospect_truth"

    prospect_id: int = Field(foreign_key="prospect.id", primary_key=True, ondelete="CASCADE")
    propensity: float
    good: bool


class ProspectClaim(SQLModel, table=True):
    """Every claim, kept after it ends (released, expired, converted)."""

    __tablename__ = "prospect_claim"
    __table_args__ = (Index("ix_prospect_claim_rm_active", "rm_id", "ended_at"),)

    id: int | None = Field(default=None, primary_key=True)
    prospect_id: int = Field(foreign_key="prospect.id", index=True, ondelete="CASCADE")
    rm_id: int = Field(foreign_key="user.id")
    claimed_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    ended_at: datetime | None = None
    end_reason: str | None = Field(default=None, max_length=16)  # released, expired, converted


class ProspectActivity(SQLModel, table=True):
    """What an RM did with a prospect: visit planned/made, shared to the pool, war room, note."""

    __tablename__ = "prospect_activity"

    id: int | None = Field(default=None, primary_key=True)
    prospect_id: int = Field(foreign_key="prospect.id", index=True, ondelete="CASCADE")
    rm_id: int = Field(foreign_key="user.id", index=True)
    kind: str = Field(max_length=16)  # visit_planned, visited, shared, war_room, note
    at: datetime = Field(default_factory=utcnow)
    note: str | None = Field(default=None, max_length=500)


class ProspectModel(SQLModel, table=True):
    """One trained version of the lookalike model: its seeds, coefficients and what it scored."""

    __tablename__ = "prospect_model"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int | None = Field(default=None, foreign_key="user.id", index=True)  # None: the bank's
    seeds_kind: str = Field(max_length=16)  # default, best_revenue, customers
    seed_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="queued", max_length=12)  # queued, running, done, failed
    error: str | None = Field(default=None, max_length=500)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    scored: int = Field(default=0)
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    trained_at: datetime | None = None


class ProspectScore(SQLModel, table=True):
    __tablename__ = "prospect_score"
    __table_args__ = (Index("ix_prospect_score_model_score", "model_id", "score"),)

    model_id: int = Field(foreign_key="prospect_model.id", primary_key=True, ondelete="CASCADE")
    prospect_id: int = Field(foreign_key="prospect.id", primary_key=True, ondelete="CASCADE")
    score: float  # 0..100, the percentile rank within the version
    raw: float  # the model's log-odds


class ProspectImport(SQLModel, table=True):
    """One uploaded registry extract, keyed by (source, SHA-256): the same file imports once."""

    __tablename__ = "prospect_import"
    __table_args__ = (UniqueConstraint("source_id", "digest", name="uq_prospect_import_digest"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="intel_source.id", index=True)
    digest: str = Field(max_length=64)
    filename: str = Field(max_length=128)
    content: bytes | None = None  # held until the job has read it
    status: str = Field(default="queued", max_length=12)  # queued, running, done, failed
    rows: int = Field(default=0)
    processed: int = Field(default=0)
    created: int = Field(default=0)
    updated: int = Field(default=0)
    unchanged: int = Field(default=0)
    merged: int = Field(default=0)
    errors: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
