from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from server.intel.models import Category, Sentiment, SourceKind
from server.schemas import Strict


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


class FailedJob(Strict):
    id: str
    queue: str
    func: str
    args: list[Any]
    error: str | None
    failed_at: str | None


# Responses


class CategoryOption(Strict):
    value: Category
    label: str


class CategoryList(RootModel[list[CategoryOption]]):
    pass


class AlertCustomer(Strict):
    id: int
    name: str
    industry_name: str | None
    region_name: str | None


class AlertPublic(Strict):
    id: int
    item_id: int
    category: Category
    category_label: str
    title: str
    summary: str
    url: str | None
    published_at: str | None
    customer: AlertCustomer
    rm_id: int
    score: int
    reason: str
    signals: list[str]
    sentiment: Sentiment
    sentiment_label: str
    has_funding_need: bool
    read: bool
    created_at: str | None


class AlertFeed(Strict):
    items: list[AlertPublic]
    next_before_id: int | None


class AlertList(Strict):
    items: list[AlertPublic]


class UnreadByCategory(Strict):
    unread: dict[str, int]


class ItemEnrichment(Strict):
    companies: list[str]
    credit_codes: list[str]
    amount_cents: int | None
    dates: list[str]
    region_codes: list[str]
    industry_codes: list[str]
    event_kind: str | None
    sentiment_terms: list[str]


class MatchedCustomer(Strict):
    alert_id: int
    customer_id: int
    name: str
    score: int
    reason: str
    sentiment: Sentiment


class AlertAction(Strict):
    """A request the PWA sends as is (the opportunity and war-room APIs own the rules)."""

    action: str
    label: str
    available: bool
    method: str
    url: str
    body: dict[str, Any]


class AlertDetail(AlertPublic):
    funding_need: dict[str, Any] | None
    funding_need_text: str | None
    enrichment: ItemEnrichment
    sources: list[str]
    matched_customers: list[MatchedCustomer]
    actions: list[AlertAction]


class AlertStateResult(Strict):
    id: int
    read: bool
    dismissed: bool


class MutePublic(Strict):
    id: int
    kind: str
    value: str
    label: str | None = None
    created_at: str | None = None


class MuteList(Strict):
    items: list[MutePublic]


class Removed(Strict):
    ok: bool


class SourcePublic(Strict):
    id: int
    name: str
    kind: SourceKind
    url: str | None
    category: Category
    category_label: str
    poll_minutes: int
    min_fetch_seconds: int
    enabled: bool
    mapping: dict[str, Any]
    etag: str | None
    last_modified: str | None
    last_fetch_at: str | None
    last_success_at: str | None
    last_error: str | None
    error_count: int
    created_at: str | None
    updated_at: str | None


class SourceList(Strict):
    items: list[SourcePublic]


class FailedJobList(Strict):
    items: list[FailedJob]


class SourceError(Strict):
    """One entry of a source's error log: what failed, at which stage."""

    id: int
    source_id: int
    at: str
    stage: str = Field(description="fetch, parse or store")
    code: str = Field(description="timeout, too-large, http-500, hostile-xml, malformed ...")
    message: str


class SourceErrorList(Strict):
    items: list[SourceError] = Field(description="the latest 50, newest first")


class PollQueued(Strict):
    queued: bool


class ItemsAdded(Strict):
    new_items: int = Field(description="0 when the item was already known (deduplicated)")


class UploadResult(Strict):
    rows: int
    new_items: int


class JobRequeued(Strict):
    requeued: str = Field(description="the job id")
