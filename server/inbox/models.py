"""The in-app inbox: every notification lands here first. It is the source of truth (unread counts,
history); the live socket, web push and other channels only carry hints of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.timeutil import utcnow


class Notification(SQLModel, table=True):
    __table_args__ = (
        # One notification per source per user: a fired reminder re-run cannot deliver twice.
        UniqueConstraint("user_id", "source_key"),
        Index("ix_notification_user_read", "user_id", "read_at"),
        # the minute scan looks for handed-out deliveries that never finished
        Index("ix_notification_undelivered", "delivered_at", "dispatched_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    kind: str = Field(max_length=24)  # reminder kind, or another feature's (war_room, opportunity ...)
    title: str = Field(max_length=128)  # the inbox may hold more than a push payload ever carries
    body: str = Field(default="", max_length=1000)
    url: str = Field(default="/", max_length=255)  # deep link inside the PWA
    urgency: str = Field(default="normal", sa_type=String(8))  # very-low, low, normal, high
    source_key: str = Field(max_length=96)
    due_at: datetime | None = None
    late: bool = False  # fired after its time (the worker was down)
    created_at: datetime = Field(default_factory=utcnow)
    read_at: datetime | None = None
    # Delivery (live socket + channels) is recoverable: a notification is stored with
    # `dispatched_at` set and `delivered_at` empty; the delivery job that finishes it sets
    # `delivered_at`. One still empty a lease after `dispatched_at` (its job was never queued because
    # Redis failed, or died) is handed out again under a new `dispatch_token`, and only the job
    # holding the current token may deliver it (see server/inbox/service.py).
    dispatched_at: datetime | None = None
    dispatch_token: str | None = Field(default=None, max_length=16)
    delivered_at: datetime | None = None
