"""Response schemas of the room's call: experts booked from the room and the shared stage (共享展台)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from server.schemas import PersonRef, Strict


class ExpertSlot(Strict):
    starts_at: str
    ends_at: str


class BookableExpert(Strict):
    resource_id: int
    name: str
    topics: list[str]
    expert: PersonRef | None
    slots: list[ExpertSlot] = Field(description="free half-hour office-hour slots, the next 5 days")


class BookableExpertList(Strict):
    items: list[BookableExpert]


class ExpertCallBooking(Strict):
    """The booking of the expert's resource (its own rules: no double booking)."""

    id: int
    resource_id: int
    starts_at: str
    ends_at: str
    amount_cents: int | None
    purpose: str
    customer_id: int | None
    cancelled_at: str | None


class ExpertBooked(Strict):
    booking: ExpertCallBooking
    expert: PersonRef


class StageLine(Strict):
    label: str
    value: str


class StagePage(Strict):
    title: str
    lines: list[StageLine]


class StageShow(Strict):
    """What is on the room's shared stage: a product, a calculator result, a customer card or a PDF
    (whose pages are drawn from `/stage/pdf/{share_id}`)."""

    room_id: int
    share_id: str
    kind: Literal["product", "calculator", "customer", "pdf"]
    title: str
    pages: list[StagePage]
    page: int
    downloadable: bool
    presenter: PersonRef
    shared_at: str
