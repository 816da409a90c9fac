"""Customers, corporate (对公) and individual (对私), each owned by one RM, with the facts an RM
learns about them. Common columns live on `customer` so lists and searches touch one table."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.timeutil import utcnow


class CustomerKind(StrEnum):
    corporate = "corporate"
    individual = "individual"


class EnterpriseSize(StrEnum):
    large = "large"
    medium = "medium"
    small = "small"
    micro = "micro"


class Ownership(StrEnum):
    government = "government"  # 政府机关/事业单位
    central_soe = "central_soe"  # 央企
    local_soe = "local_soe"  # 地方国企
    private = "private"  # 民营
    foreign = "foreign"  # 外资


class Tier(StrEnum):
    """Value tier by assets or contribution."""

    vip = "vip"
    high = "high"
    mid = "mid"
    mass = "mass"


class Customer(SQLModel, table=True):
    __table_args__ = (
        Index("ix_customer_owner_name", "owner_id", "name"),
        Index("ix_customer_owner_updated", "owner_id", "updated_at"),
        # Covers the list's search, filters and count for an owner's book (migration 0002).
        Index(
            "ix_customer_owner_search",
            "owner_id",
            "name",
            "name_initials",
            "kind",
            "tier",
            "size",
            "industry_code",
            "region_code",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: CustomerKind = Field(sa_type=String(16), index=True)
    name: str = Field(max_length=128)
    name_initials: str = Field(max_length=64, index=True)  # pinyin initials, e.g. 张伟 -> zw
    owner_id: int = Field(foreign_key="user.id", index=True)
    branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)
    region_code: str | None = Field(default=None, max_length=6, index=True)
    region_name: str | None = Field(default=None, max_length=32)
    industry_code: str | None = Field(default=None, max_length=8, index=True)  # GB/T 4754
    size: EnterpriseSize | None = Field(default=None, sa_type=String(8))
    ownership: Ownership | None = Field(default=None, sa_type=String(16))
    gender: str | None = Field(default=None, max_length=1)  # M/F for individuals
    tier: Tier = Field(default=Tier.mass, sa_type=String(8), index=True)
    phone: str | None = Field(default=None, max_length=20)  # never sent unmasked
    email: str | None = Field(default=None, max_length=254)  # never sent unmasked (conduct matches it)
    latitude: float | None = None
    longitude: float | None = None
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CorporateProfile(SQLModel, table=True):
    __tablename__ = "corporate_profile"

    customer_id: int = Field(foreign_key="customer.id", primary_key=True, ondelete="CASCADE")
    credit_code: str = Field(max_length=18, unique=True)  # 统一社会信用代码, checksum-validated
    short_name: str | None = Field(default=None, max_length=32)
    registered_capital_cents: int | None = Field(default=None, sa_type=BigInteger)
    revenue_cents: int | None = Field(default=None, sa_type=BigInteger)
    employees: int | None = None
    founded_on: date | None = None
    business_scope: str | None = Field(default=None, max_length=500)
    main_products: str | None = Field(default=None, max_length=255)
    address: str | None = Field(default=None, max_length=255)


class IndividualProfile(SQLModel, table=True):
    __tablename__ = "individual_profile"

    customer_id: int = Field(foreign_key="customer.id", primary_key=True, ondelete="CASCADE")
    birth_date: date | None = None
    id_number_encrypted: str = Field(max_length=128)  # AES-GCM, see server/crypto.py
    id_number_digest: str = Field(max_length=64, unique=True)  # keyed hash, for duplicate checks
    occupation: str | None = Field(default=None, max_length=64)
    employer: str | None = Field(default=None, max_length=128)
    income_band: str | None = Field(default=None, max_length=16)  # e.g. 10-30万
    risk_appetite: str | None = Field(default=None, max_length=4)  # C1..C5
    interests: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Contact(SQLModel, table=True):
    """A key decision maker (关键决策人) at a corporate customer."""

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=64)
    title: str = Field(max_length=64)  # 董事长, 财务总监 ...
    role: str = Field(max_length=16)  # decision_maker, influencer, user, gatekeeper
    influence: int = Field(default=3, ge=1, le=5)
    preferences: str | None = Field(default=None, max_length=255)
    phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=254)  # never sent unmasked


class CustomerEvent(SQLModel, table=True):
    """Company history (企业历史) or life event (成长历史)."""

    __tablename__ = "customer_event"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    occurred_on: date
    kind: str = Field(max_length=24)  # founded, financing, expansion, marriage, child, retirement ...
    title: str = Field(max_length=128)
    detail: str | None = Field(default=None, max_length=500)


class CustomerLink(SQLModel, table=True):
    """Supply chain (supplier/buyer) between companies, or family/colleague/referral between people."""

    __tablename__ = "customer_link"
    __table_args__ = (UniqueConstraint("from_customer_id", "to_customer_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    from_customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    to_customer_id: int | None = Field(
        default=None, foreign_key="customer.id", index=True, ondelete="CASCADE"
    )
    to_name: str | None = Field(default=None, max_length=128)  # a party that is not our customer
    kind: str = Field(max_length=16)  # supplier, buyer, family, colleague, referral, shareholder
    label: str | None = Field(default=None, max_length=64)


class Tag(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=32, unique=True)
    category: str = Field(max_length=16)  # value, behaviour, industry, risk ...


class CustomerTag(SQLModel, table=True):
    __tablename__ = "customer_tag"

    customer_id: int = Field(foreign_key="customer.id", primary_key=True, ondelete="CASCADE")
    tag_id: int = Field(foreign_key="tag.id", primary_key=True, index=True)


class OwnershipChange(SQLModel, table=True):
    """Who owned a customer when (客户归属历史)."""

    __tablename__ = "ownership_change"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    rm_id: int = Field(foreign_key="user.id", index=True)
    started_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    reason: str = Field(max_length=64)


class CustomerGrant(SQLModel, table=True):
    """Access to a customer that is not one's own, granted by a war room or an opportunity and
    ended with it (revoked_at). Every grant and revocation is audited by the granting service."""

    __tablename__ = "customer_grant"
    __table_args__ = (Index("ix_customer_grant_user_customer", "user_id", "customer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True)
    source_type: str = Field(max_length=16)  # war_room, opportunity
    source_id: int
    granted_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class CustomerVisit(SQLModel, table=True):
    """A visit or call with a customer: who, when, where, outcome and the next step."""

    __tablename__ = "customer_visit"
    __table_args__ = (
        Index("ix_customer_visit_customer_occurred", "customer_id", "occurred_at"),
        Index("ix_customer_visit_rm_next_step", "rm_id", "next_step_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", ondelete="CASCADE")
    rm_id: int = Field(foreign_key="user.id")
    channel: str = Field(max_length=12)  # visit, call, meeting, wechat
    occurred_at: datetime
    location: str | None = Field(default=None, max_length=128)
    attendees: str | None = Field(default=None, max_length=255)  # who was met
    outcome: str = Field(max_length=500)
    next_step: str | None = Field(default=None, max_length=255)
    next_step_at: datetime | None = None
    reminder_id: int | None = None  # the notebook reminder made from the next step
    facts_learned: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow)
