"""Request schemas of the assistant's API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.schemas import Strict


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AskQuery(_Strict):
    q: str = Field(min_length=1, max_length=100)
    without: str | None = Field(
        default=None, max_length=200, description="comma-separated filter keys to drop"
    )


class BriefQuery(_Strict):
    format: Literal["json", "text"] = "json"


class NextProductsQuery(_Strict):
    limit: int = Field(default=5, ge=1, le=10)


class DismissalCreate(_Strict):
    product_id: int = Field(ge=1)
    reason: Literal["held_elsewhere", "no_need", "not_suitable", "timing", "other"]
    note: str | None = Field(default=None, max_length=200)


# Responses: today (今日)


class TodayItem(Strict):
    """One thing to do today; `ref` points at its source (reminder, note, visit, holding, alert or
    opportunity) and depends on `kind`."""

    kind: str
    priority: float
    title: str
    at: str | None
    customer_id: int | None
    ref: dict[str, Any]
    detail: str | None = Field(default=None, description="alerts and stale opportunities: why")
    overdue: bool | None = Field(default=None, description="next steps")
    amount_cents: int | None = Field(default=None, description="maturities")


class RouteStart(Strict):
    name: str
    latitude: float | None
    longitude: float | None


class RouteStop(Strict):
    order: int
    customer_id: int
    name: str
    latitude: float | None
    longitude: float | None
    leg_km: float
    reasons: list[str]


class UnlocatedCustomer(Strict):
    customer_id: int
    name: str


class VisitRoute(Strict):
    start: RouteStart | None
    stops: list[RouteStop]
    total_km: float
    unlocated: list[UnlocatedCustomer]


class TodayPage(Strict):
    date: str
    timezone: str
    generated_at: str | None
    items: list[TodayItem]
    counts: dict[str, int]
    visits: VisitRoute


# Responses: the admins' adoption report of next best products


class DismissalReasonCount(Strict):
    code: str
    label: str
    count: int


class DismissalCounts(Strict):
    total: int
    by_reason: list[DismissalReasonCount]


class ProductAdoption(Strict):
    product_id: int
    name: str
    shown: int
    adopted: int
    dismissed: int


class RecommenderModelInfo(Strict):
    trained_at: str
    customers: int
    holdings: int


class AdoptionReport(Strict):
    shown: int
    adopted: int = Field(description="shown, then opened by the customer on or after that day")
    adoption_rate: float | None
    dismissals: DismissalCounts
    products: list[ProductAdoption]
    model: RecommenderModelInfo | None = Field(description="the model in use; None before the first training")


class RetrainQueued(Strict):
    request_id: str
