"""Helper tasks (助手): a super RM hands a colleague (newcomers first) a task on one of the super RM's
customers; the task lends the helper that customer, and nothing else, for its life."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index, String
from sqlmodel import Field, SQLModel

from server.timeutil import utcnow


class HelperTaskKind(StrEnum):
    collect_documents = "collect_documents"  # 收集资料
    book_meeting = "book_meeting"  # 预约会面
    prepare_proposal = "prepare_proposal"  # 准备方案


class HelperTaskStatus(StrEnum):
    open = "open"
    doing = "doing"
    done = "done"
    cancelled = "cancelled"


LIVE_STATUSES = (HelperTaskStatus.open, HelperTaskStatus.doing)


class HelperTask(SQLModel, table=True):
    __tablename__ = "helper_task"
    __table_args__ = (
        Index("ix_helper_task_owner_status", "owner_id", "status"),
        Index("ix_helper_task_helper_status", "helper_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user.id")  # the super RM who owns the customer
    helper_id: int = Field(foreign_key="user.id")
    customer_id: int = Field(foreign_key="customer.id", ondelete="CASCADE")
    kind: HelperTaskKind = Field(sa_type=String(20))
    title: str = Field(max_length=128)
    note: str | None = Field(default=None, max_length=500)
    due_on: date
    status: HelperTaskStatus = Field(default=HelperTaskStatus.open, sa_type=String(12))
    progress: int = Field(default=0, ge=0, le=100)  # percent, set by the helper
    progress_note: str | None = Field(default=None, max_length=255)
    credit_cents: int = Field(default=0, sa_type=BigInteger)  # benefit credit booked when done
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
