"""Knowledge degree (知彼度): each fact the RM knows about a customer with when it was learned or last
verified, and the computed score per customer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from server.timeutil import utcnow


class CustomerFact(SQLModel, table=True):
    """Keyed (customer_id, fact_key) and, on SQLite, stored WITHOUT ROWID: the table is clustered by
    customer, so the batch score reads it in one sequential pass."""

    __tablename__ = "customer_fact"
    __table_args__ = ({"sqlite_with_rowid": False},)

    customer_id: int = Field(foreign_key="customer.id", primary_key=True, ondelete="CASCADE")
    fact_key: str = Field(max_length=32, primary_key=True)
    value_summary: str | None = Field(default=None, max_length=200)  # never an ID number or full phone
    learned_at: datetime = Field(default_factory=utcnow)  # learned or last verified
    source: str = Field(default="profile", max_length=12)  # profile, visit
    learned_by: int | None = Field(default=None, foreign_key="user.id")


class KnowledgeScore(SQLModel, table=True):
    __tablename__ = "knowledge_score"

    customer_id: int = Field(foreign_key="customer.id", primary_key=True, ondelete="CASCADE")
    total: float = 0.0  # 0-100
    dims: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # dimension -> 0-100
    computed_at: datetime = Field(default_factory=utcnow)
