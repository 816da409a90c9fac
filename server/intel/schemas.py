from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.intel.models import Category, SourceKind


class SourceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64)
    kind: SourceKind
    url: str | None = Field(default=None, max_length=500)
    category: Category
    poll_minutes: int = Field(default=30, ge=1, le=7 * 24 * 60)
    min_fetch_seconds: int = Field(default=60, ge=0, le=86400)
    enabled: bool = True
    mapping: dict[str, str] = Field(default_factory=dict, max_length=10)


class SourceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=64)
    url: str | None = Field(default=None, max_length=500)
    category: Category | None = None
    poll_minutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60)
    min_fetch_seconds: int | None = Field(default=None, ge=0, le=86400)
    enabled: bool | None = None
    mapping: dict[str, str] | None = Field(default=None, max_length=10)


class ManualItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=2, max_length=300)
    summary: str | None = Field(default=None, max_length=4000)
    url: str | None = Field(default=None, max_length=500, pattern=r"^https?://")
    published_at: datetime | None = None
    category: Category | None = None


class Upload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filename: str = Field(min_length=1, max_length=128)
    content_base64: str = Field(min_length=4, max_length=1_000_000)


class AlertQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: Category | None = None
    unread: bool = False
    customer_id: int | None = Field(default=None, ge=1)
    min_score: int = Field(default=0, ge=0, le=100)
    before_id: int | None = Field(default=None, ge=1)
    limit: int = Field(default=30, ge=1, le=100)


class AlertState(BaseModel):
    model_config = ConfigDict(extra="forbid")
    read: bool | None = None
    dismissed: bool | None = None


class MuteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["category", "customer"]
    value: str = Field(min_length=1, max_length=32)

    def checked(self) -> MuteCreate:
        valid = {c.value for c in Category}
        if self.kind == "category" and self.value not in valid:
            raise ValueError("category")
        if self.kind == "customer" and not self.value.isdigit():
            raise ValueError("customer")
        return self


class FailedJob(BaseModel):
    id: str
    func: str
    args: list[Any]
    error: str | None
    failed_at: str | None
