"""Web push subscriptions (one per device and browser) and the record of every delivery attempt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from server.timeutil import utcnow


class PushSubscription(SQLModel, table=True):
    __tablename__ = "push_subscription"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    endpoint: str = Field(sa_type=Text)
    endpoint_hash: str = Field(max_length=64, unique=True)  # sha256 of the endpoint, for lookups
    p256dh: str = Field(max_length=128)
    auth: str = Field(max_length=64)
    user_agent: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow)
    last_success_at: datetime | None = None


class PushAttempt(SQLModel, table=True):
    """Every attempt on every channel: what was sent where, and what came back."""

    __tablename__ = "push_attempt"
    __table_args__ = (Index("ix_push_attempt_notification", "notification_id", "subscription_id"),)

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int  # plain ids: the attempt log outlives deleted subscriptions
    subscription_id: int | None = None
    user_id: int = Field(index=True)
    channel: str = Field(max_length=16)  # webpush, webhook ...
    attempt: int = 1
    status_code: int | None = None
    outcome: str = Field(max_length=16)  # sent, gone, rate_limited, retry, failed
    retry_after_s: int | None = None
    detail: str | None = Field(default=None, max_length=255)
    at: datetime = Field(default_factory=utcnow, index=True)
