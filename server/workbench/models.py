"""Tables of the workbench: admin-tunable scoring configuration, and the visit/call log (拜访记录)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from server.timeutil import utcnow


class WorkbenchConfig(SQLModel, table=True):
    """An admin's overrides of a scoring model's defaults (name: knowledge, mirror). The defaults live
    in code; this row holds only what was changed, so new defaults reach every bank."""

    __tablename__ = "workbench_config"

    name: str = Field(primary_key=True, max_length=32)
    value: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    version: int = Field(default=1)
    updated_by: int | None = Field(default=None, foreign_key="user.id")
    updated_at: datetime = Field(default_factory=utcnow)


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
    reminder_id: int | None = None  # the notebook reminder, when that feature is installed
    facts_learned: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow)
