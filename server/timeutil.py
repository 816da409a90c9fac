"""Timestamps are timezone-aware UTC in code and in the database (SQLModel's UTCDateTime), and
sent to clients as ISO 8601 with a trailing Z."""

from __future__ import annotations

from datetime import UTC, date, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    return value.isoformat()


def month_key(value: date) -> str:
    return f"{value.year:04d}-{value.month:02d}"
