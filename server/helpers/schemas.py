"""Request schemas of the helper-task API (助手)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from server.helpers.models import HelperTaskKind, HelperTaskStatus

MAX_CREDIT_CENTS = 10_000_000  # 10 万元: a task's credit is a token of the work, not a deal's share


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskCreate(Strict):
    helper_id: int = Field(ge=1)
    customer_id: int = Field(ge=1)
    kind: HelperTaskKind
    title: str = Field(min_length=1, max_length=128)
    note: str | None = Field(default=None, max_length=500)
    due_on: date
    credit_cents: int = Field(default=0, ge=0, le=MAX_CREDIT_CENTS)


class TaskUpdate(Strict):
    version: int | None = Field(default=None, ge=1)
    progress: int | None = Field(default=None, ge=0, le=100)
    progress_note: str | None = Field(default=None, max_length=255)
    status: HelperTaskStatus | None = None
