"""Timestamps are timezone-aware UTC in code and in the database (SQLModel's UTCDateTime), and
sent to clients as ISO 8601 with a trailing Z."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import overload


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@overload
def iso(value: datetime | date) -> str: ...
@overload
def iso(value: None) -> None: ...
@overload
def iso(value: datetime | date | None) -> str | None: ...
def iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    return value.isoformat()


def month_key(value: date) -> str:
    return f"{value.year:04d}-{value.month:02d}"


def month_start(month: str) -> date:
    """The first day of a month key ("2026-05")."""
    year, mon = (int(p) for p in month.split("-"))
    return date(year, mon, 1)


def shift_month(month: str, delta: int) -> str:
    start = month_start(month)
    index = start.year * 12 + start.month - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_bounds(month: str) -> tuple[date, date]:
    """[first day of the month, first day of the next)."""
    return month_start(month), month_start(shift_month(month, 1))


def current_month() -> str:
    return month_key(utcnow().date())
