"""Intel (情报): sources an admin configures, the items read from them (one row per distinct item,
whatever feed it came from), the alerts matched to customers, and each RM's mutes.

天时 = policy, market, industry and weather news; 地利 = tenders, contracts and large transactions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.timeutil import utcnow


class SourceKind(StrEnum):
    feed = "feed"  # RSS or Atom, polled
    json = "json"  # a JSON endpoint, polled
    upload = "upload"  # CSV or XLSX uploaded by an admin
    manual = "manual"  # items typed in by an admin


class Category(StrEnum):
    policy = "policy"  # 政策
    market = "market"  # 市场
    industry = "industry"  # 行业
    weather = "weather"  # 天气
    tender_contract = "tender_contract"  # 招投标/合同
    corporate_event = "corporate_event"  # 工商变更/司法


CATEGORY_LABELS = {
    Category.policy: "政策",
    Category.market: "市场",
    Category.industry: "行业",
    Category.weather: "天气",
    Category.tender_contract: "招投标/合同",
    Category.corporate_event: "工商变更/司法",
}


class Sentiment(StrEnum):
    favourable = "favourable"  # 利好
    unfavourable = "unfavourable"  # 利空
    neutral = "neutral"


class IntelSource(SQLModel, table=True):
    __tablename__ = "intel_source"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    kind: SourceKind = Field(sa_type=String(8))
    url: str | None = Field(default=None, max_length=500)
    category: Category = Field(sa_type=String(16), index=True)
    poll_minutes: int = Field(default=30)
    min_fetch_seconds: int = Field(default=60)  # per-source rate limit: never fetched more often
    enabled: bool = Field(default=True, index=True)
    # How to read a JSON/CSV/XLSX row: {"items": "data.list", "title": "标题", "summary": "内容", ...}
    mapping: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    etag: str | None = Field(default=None, max_length=255)
    last_modified: str | None = Field(default=None, max_length=64)
    last_fetch_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)
    error_count: int = Field(default=0)
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class IntelSourceError(SQLModel, table=True):
    """The error log of a source: what failed, at which stage, never a crashed worker."""

    __tablename__ = "intel_source_error"

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="intel_source.id", index=True, ondelete="CASCADE")
    at: datetime = Field(default_factory=utcnow)
    stage: str = Field(max_length=16)  # fetch, parse, store
    code: str = Field(max_length=32)  # timeout, too-large, http-500, hostile-xml, malformed ...
    message: str = Field(max_length=500)


class IntelItem(SQLModel, table=True):
    """One piece of news or one contract, deduplicated by `fingerprint` (normalised title, see
    server/intel/enrich.py:fingerprint) so the same item from two feeds is one row."""

    __tablename__ = "intel_item"

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(max_length=64, unique=True)
    category: Category = Field(sa_type=String(16), index=True)
    title: str = Field(max_length=300)
    summary: str = Field(default="", max_length=4000)
    url: str | None = Field(default=None, max_length=500)
    published_at: datetime | None = Field(default=None, index=True)
    source_id: int | None = Field(default=None, foreign_key="intel_source.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    # Enrichment (server/intel/enrich.py), written with matched_at in one transaction.
    companies: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    credit_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    amount_cents: int | None = Field(default=None, sa_type=BigInteger)  # the largest amount named
    dates: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    region_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    industry_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    sentiment: Sentiment = Field(default=Sentiment.neutral, sa_type=String(12))
    sentiment_terms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    event_kind: str | None = Field(default=None, max_length=24)  # tender_won, contract_signed ...
    matched_at: datetime | None = Field(default=None, index=True)  # None: still to be matched


class IntelItemSource(SQLModel, table=True):
    """Which sources carried an item (a second feed carrying it adds a row here, not an item)."""

    __tablename__ = "intel_item_source"
    __table_args__ = (UniqueConstraint("item_id", "source_id", name="uq_intel_item_source"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="intel_item.id", index=True, ondelete="CASCADE")
    source_id: int = Field(foreign_key="intel_source.id", index=True, ondelete="CASCADE")
    external_id: str | None = Field(default=None, max_length=500)
    seen_at: datetime = Field(default_factory=utcnow)


class IntelAlert(SQLModel, table=True):
    """One item for one customer, addressed to the customer's RM at match time."""

    __tablename__ = "intel_alert"
    __table_args__ = (
        UniqueConstraint("item_id", "customer_id", name="uq_intel_alert_item_customer"),
        Index("ix_intel_alert_rm_created", "rm_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="intel_item.id", ondelete="CASCADE")
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    rm_id: int = Field(foreign_key="user.id")
    category: Category = Field(sa_type=String(16))
    score: int  # relevance 0..100
    reason: str = Field(max_length=500)  # Chinese, e.g. 该客户所在行业(汽车制造业)获政策支持
    signals: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    sentiment: Sentiment = Field(sa_type=String(12))
    funding_need: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    notified: bool = Field(default=False)
    read_at: datetime | None = None
    dismissed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class IntelMute(SQLModel, table=True):
    """An RM's mute of a category or of one customer: muted alerts are neither created nor sent."""

    __tablename__ = "intel_mute"
    __table_args__ = (UniqueConstraint("rm_id", "kind", "value", name="uq_intel_mute"),)

    id: int | None = Field(default=None, primary_key=True)
    rm_id: int = Field(foreign_key="user.id", index=True)
    kind: str = Field(max_length=12)  # category, customer
    value: str = Field(max_length=32)  # a Category value or a customer id
    created_at: datetime = Field(default_factory=utcnow)
