"""Request schemas of the workbench API."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Channel(StrEnum):
    visit = "visit"
    call = "call"
    meeting = "meeting"
    wechat = "wechat"


class FactIn(Strict):
    key: str = Field(min_length=1, max_length=32, description="a fact key of the knowledge catalogue")
    value: str | None = Field(default=None, max_length=200, description="what was learned, in brief")


class VisitCreate(Strict):
    channel: Channel
    occurred_at: datetime = Field(description="ISO 8601; without a zone it is UTC")
    location: str | None = Field(default=None, max_length=128)
    attendees: str | None = Field(default=None, max_length=255, description="who was met")
    outcome: str = Field(min_length=1, max_length=500)
    next_step: str | None = Field(default=None, max_length=255)
    next_step_at: datetime | None = None
    facts: list[FactIn] = Field(default_factory=list, max_length=30)

    @field_validator("outcome")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the outcome is empty")
        return value.strip()


class ConfigUpdate(Strict):
    value: dict[str, Any]
    version: int = Field(ge=0, description="the version read; 0 when nothing was configured yet")
