"""Monthly targets and the performance ledger (业绩台账) of each RM."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.timeutil import utcnow


class PerformanceTarget(SQLModel, table=True):
    __tablename__ = "performance_target"
    __table_args__ = (UniqueConstraint("rm_id", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    rm_id: int = Field(foreign_key="user.id", index=True)
    month: str = Field(max_length=7)  # YYYY-MM
    revenue_target_cents: int = Field(sa_type=BigInteger)
    new_business_target_cents: int = Field(sa_type=BigInteger)
    new_customers_target: int


class PerformanceEntry(SQLModel, table=True):
    """One credited result. Kinds: revenue, new_business, existing_business, new_customer,
    shared_credit (from the opportunity pool)."""

    __tablename__ = "performance_entry"
    __table_args__ = (
        Index("ix_performance_entry_rm_booked", "rm_id", "booked_on"),
        Index("ix_performance_entry_customer", "customer_id"),  # the customer 360's transactions
    )

    id: int | None = Field(default=None, primary_key=True)
    rm_id: int = Field(foreign_key="user.id")
    booked_on: date
    kind: str = Field(max_length=20)
    amount_cents: int = Field(sa_type=BigInteger)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", ondelete="SET NULL")
    product_id: int | None = Field(default=None, foreign_key="product.id")
    source: str = Field(default="core", max_length=24)  # core banking, opportunity, adjustment
    source_ref: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
