"""Request and response schemas of the notebook API."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import Field, field_validator, model_validator

from server.notebook.models import Recurrence
from server.schemas import Strict


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _clean_tags(tags: list[str] | None) -> list[str] | None:
    if tags is None:
        return None
    out: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if not tag:
            continue
        if len(tag) > 32:
            raise ValueError("a tag is at most 32 characters")
        if tag not in out:
            out.append(tag)
    return out


class NoteCreate(Strict):
    body: str = Field(min_length=1, max_length=4000)
    customer_id: int | None = Field(default=None, ge=1)
    tags: list[str] = Field(default_factory=list, max_length=20)
    remind_at: datetime | None = Field(default=None, description="ISO 8601; without a zone it is UTC")
    todo: bool = False
    recurrence: Recurrence | None = None
    urgent: bool = Field(default=False, description="urgent reminders ignore quiet hours")

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return _clean_tags(value)

    @field_validator("remind_at")
    @classmethod
    def _remind(cls, value: datetime | None) -> datetime | None:
        return _utc(value)

    @field_validator("body")
    @classmethod
    def _body(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the note is empty")
        return value

    @model_validator(mode="after")
    def _recurs_needs_time(self) -> NoteCreate:
        if self.recurrence and self.remind_at is None:
            raise ValueError("a recurring note needs remind_at")
        return self


class NoteUpdate(Strict):
    body: str | None = Field(default=None, min_length=1, max_length=4000)
    customer_id: int | None = Field(default=None, ge=1)
    tags: list[str] | None = Field(default=None, max_length=20)
    remind_at: datetime | None = None
    todo: bool | None = None
    done: bool | None = None
    recurrence: Recurrence | None = None
    urgent: bool | None = None
    version: int | None = Field(default=None, ge=1, description="or send If-Match")

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return _clean_tags(value)

    @field_validator("remind_at")
    @classmethod
    def _remind(cls, value: datetime | None) -> datetime | None:
        return _utc(value)


class SnoozeRequest(Strict):
    minutes: int | None = Field(default=None, ge=1, le=60 * 24 * 30)
    until: datetime | None = None

    @field_validator("until")
    @classmethod
    def _until(cls, value: datetime | None) -> datetime | None:
        return _utc(value)

    @model_validator(mode="after")
    def _one(self) -> SnoozeRequest:
        if (self.minutes is None) == (self.until is None):
            raise ValueError("send either minutes or until")
        return self


class DoneRequest(Strict):
    done: bool = True


class NoteListQuery(Strict):
    customer_id: int | None = Field(default=None, ge=1)
    tag: str | None = Field(default=None, max_length=32)
    todo: bool | None = None
    done: bool | None = None
    q: str | None = Field(default=None, max_length=64)
    upcoming: bool | None = Field(default=None, description="only notes with a future reminder")
    page: int = Field(default=1, ge=1, le=100000)
    page_size: int = Field(default=20, ge=1, le=100)


class NotePublic(Strict):
    id: int
    body: str
    customer_id: int | None
    tags: list[str]
    remind_at: str | None
    todo: bool
    done: bool
    recurrence: Recurrence | None
    urgent: bool
    created_at: str
    updated_at: str
    version: int


class NotePage(Strict):
    items: list[NotePublic]
    total: int
    page: int
    page_size: int


_HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


class ReminderSettingsUpdate(Strict):
    birthdays: bool | None = None
    birthday_days_ahead: int | None = Field(default=None, ge=0, le=30)
    maturities: bool | None = None
    maturity_days_ahead: int | None = Field(default=None, ge=0, le=60)
    follow_ups: bool | None = None
    follow_up_days: int | None = Field(default=None, ge=1, le=365)
    war_room_tasks: bool | None = None
    quiet_start: str | None = Field(default=None, pattern=_HHMM)
    quiet_end: str | None = Field(default=None, pattern=_HHMM)
    timezone: str | None = Field(default=None, max_length=40)
    channels: dict[str, bool] | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(value)
        except Exception:
            raise ValueError("unknown time zone") from None
        return value

    @model_validator(mode="after")
    def _quiet_pair(self) -> ReminderSettingsUpdate:
        fields = self.model_fields_set
        if ("quiet_start" in fields) != ("quiet_end" in fields):
            raise ValueError("send quiet_start and quiet_end together (both null to turn quiet hours off)")
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValueError("quiet_start and quiet_end are both set or both null")
        return self


class ReminderSettingsPublic(Strict):
    birthdays: bool
    birthday_days_ahead: int
    maturities: bool
    maturity_days_ahead: int
    follow_ups: bool
    follow_up_days: int
    war_room_tasks: bool
    quiet_start: str | None
    quiet_end: str | None
    timezone: str
    channels: dict[str, bool]
    updated_at: datetime
