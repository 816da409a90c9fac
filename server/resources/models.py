"""Available resources (我的可用资源): product quotas and pricing authority, office resources (meeting
rooms, cars, gift budget) that are booked, and experts who can be called in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from server.timeutil import utcnow


class Resource(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, index=True)  # product_quota, pricing_authority, meeting_room, car,
    # gift_budget, expert
    name: str = Field(max_length=64)
    branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)  # None: all branches
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    amount_cents: int | None = Field(default=None, sa_type=BigInteger)  # budget or quota size
    expert_user_id: int | None = Field(default=None, foreign_key="user.id")
    is_active: bool = True
    lock_version: int = Field(default=0)  # bumped by every booking: serialises bookings per resource


class ResourceBooking(SQLModel, table=True):
    __tablename__ = "resource_booking"
    __table_args__ = (Index("ix_resource_booking_resource_starts", "resource_id", "starts_at"),)

    id: int | None = Field(default=None, primary_key=True)
    resource_id: int = Field(foreign_key="resource.id")
    user_id: int = Field(foreign_key="user.id", index=True)
    starts_at: datetime
    ends_at: datetime
    amount_cents: int | None = Field(default=None, sa_type=BigInteger)  # for budgets and quotas
    purpose: str = Field(max_length=200)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", ondelete="SET NULL")
    cancelled_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
