"""Tables of the assistant: the trained next-best-product model, the recommendations shown (for the
adoption rate) and the RMs' dismissals with their reasons."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.timeutil import utcnow


class RecommenderModel(SQLModel, table=True):
    """One trained model (item co-occurrence with time decay + segment shares). The newest row is
    the one served; the retrain job adds a row and keeps the last few."""

    __tablename__ = "recommender_model"

    id: int | None = Field(default=None, primary_key=True)
    trained_at: datetime = Field(default_factory=utcnow, index=True)
    customers: int = 0
    holdings: int = 0
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class RecommendationShown(SQLModel, table=True):
    """The first time a product was recommended for a customer: adopted when the customer opens it
    afterwards."""

    __tablename__ = "recommendation_shown"
    __table_args__ = (UniqueConstraint("customer_id", "product_id", name="uq_recommendation_shown"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    product_id: int = Field(foreign_key="product.id", index=True)
    rm_id: int = Field(foreign_key="user.id", index=True)
    shown_at: datetime = Field(default_factory=utcnow)


class RecommendationDismissal(SQLModel, table=True):
    """An RM's "not this one" with a reason; respected until `until`."""

    __tablename__ = "recommendation_dismissal"
    __table_args__ = (Index("ix_recommendation_dismissal_customer_until", "customer_id", "until"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", ondelete="CASCADE")
    product_id: int = Field(foreign_key="product.id", index=True)
    rm_id: int = Field(foreign_key="user.id", index=True)
    reason: str = Field(max_length=24)  # held_elsewhere, no_need, not_suitable, timing, other
    note: str | None = Field(default=None, max_length=200)
    dismissed_at: datetime = Field(default_factory=utcnow)
    until: datetime
