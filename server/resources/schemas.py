"""Response schemas of the resources API (可用资源)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from server.schemas import Strict


class UpcomingSlot(Strict):
    id: int
    starts_at: str
    ends_at: str
    mine: bool
    purpose: str | None = Field(description="only on one's own bookings")


class ResourcePublic(Strict):
    id: int
    kind: str = Field(description="product_quota, pricing_authority, meeting_room, car, gift_budget, expert")
    name: str
    detail: dict[str, Any] = Field(description="what the kind adds (seats, topics, rates...)")
    bookable: bool
    amount_cents: int | None = Field(default=None, description="budgets and quotas: the year's size")
    remaining_cents: int | None = Field(
        default=None, description="budgets and quotas: what is left this year"
    )
    upcoming: list[UpcomingSlot] | None = Field(
        default=None, description="rooms, cars and experts: bookings of the next seven days"
    )


class DocumentTemplate(Strict):
    code: str
    name: str
    category: str


class Tools(Strict):
    calculators: list[str]
    document_templates: list[DocumentTemplate]


class ResourceList(Strict):
    product: list[ResourcePublic]
    office: list[ResourcePublic]
    collaboration: list[ResourcePublic]
    tools: Tools


class BookingPublic(Strict):
    id: int
    resource_id: int
    starts_at: str
    ends_at: str
    amount_cents: int | None
    purpose: str
    customer_id: int | None
    cancelled_at: str | None


class BookingCancelled(Strict):
    cancelled: bool
