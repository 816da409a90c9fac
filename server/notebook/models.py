"""Notes (记事本) an RM keeps on customers or free-standing, the reminders that fire from them or from
the bank's data (birthdays, maturities, follow-ups, war-room tasks), and each RM's reminder settings."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.timeutil import utcnow


class Recurrence(StrEnum):
    yearly = "yearly"  # a birthday, an anniversary
    monthly = "monthly"  # a monthly review


class ReminderKind(StrEnum):
    note = "note"
    birthday = "birthday"
    maturity = "maturity"
    follow_up = "follow_up"
    war_room_task = "war_room_task"
    mentor_checkin = "mentor_checkin"  # the weekly mentor/newcomer check-in (personas)
    expert_call = "expert_call"  # a booked expert's call from a war room (server/warrooms/experts.py)


class Note(SQLModel, table=True):
    __table_args__ = (
        Index("ix_note_owner_updated", "owner_id", "updated_at"),
        Index("ix_note_customer_created", "customer_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user.id")
    customer_id: int | None = Field(default=None, foreign_key="customer.id", ondelete="CASCADE")
    body: str = Field(max_length=4000)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    todo: bool = False
    done: bool = False
    done_at: datetime | None = None
    remind_at: datetime | None = None
    recurrence: Recurrence | None = Field(default=None, sa_type=String(8))
    # The time the RM chose for a recurring note: every occurrence is counted from it, so a monthly
    # reminder on the 31st is on the 30th in April and back on the 31st in May (remind_at, the next
    # occurrence, cannot carry that alone). Snoozing moves remind_at, never the anchor.
    recurrence_anchor: datetime | None = None
    urgent: bool = False  # urgent reminders ignore quiet hours
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Reminder(SQLModel, table=True):
    """One scheduled firing. `fired_at` is set by the single conditional UPDATE that claims it, so a
    reminder fires once however many scanners run; a recurring one moves `due_at` on instead."""

    __table_args__ = (
        UniqueConstraint("user_id", "source_key"),
        Index("ix_reminder_pending", "fired_at", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    kind: ReminderKind = Field(sa_type=String(16))
    source_key: str = Field(max_length=96)  # e.g. note:12, birthday:55:2026, maturity:9:2026-12-01
    note_id: int | None = Field(default=None, foreign_key="note.id", ondelete="CASCADE", index=True)
    customer_id: int | None = None  # what it is about (no FK: a reminder outlives nothing it needs)
    due_at: datetime
    deferred_from: datetime | None = None  # the original time when quiet hours moved it
    fired_at: datetime | None = None
    urgent: bool = False
    title: str = Field(default="", max_length=128)
    body: str = Field(default="", max_length=500)
    url: str = Field(default="", max_length=255)
    created_at: datetime = Field(default_factory=utcnow)


class ReminderSetting(SQLModel, table=True):
    """Per-RM switches for generated reminders, quiet hours and delivery channels."""

    __tablename__ = "reminder_setting"

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    birthdays: bool = True
    birthday_days_ahead: int = 3
    maturities: bool = True
    maturity_days_ahead: int = 7
    follow_ups: bool = True
    follow_up_days: int = 30
    war_room_tasks: bool = True
    quiet_start: str | None = Field(default=None, max_length=5)  # "22:00" local; None: no quiet hours
    quiet_end: str | None = Field(default=None, max_length=5)  # "07:30"
    timezone: str = Field(default="Asia/Shanghai", max_length=40)
    channels: dict[str, bool] = Field(
        default_factory=lambda: {"webpush": True, "webhook": False}, sa_column=Column(JSON, nullable=False)
    )
    updated_at: datetime = Field(default_factory=utcnow)
