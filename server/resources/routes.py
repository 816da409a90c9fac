from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response

from server import db
from server.api import body, idempotent, ok, spec
from server.resources import service
from server.resources.schemas import BookingCancelled, BookingPublic, ResourceList
from server.schemas import problems
from server.security import client_ip, current_user

bp = Blueprint("resources", __name__, url_prefix="/api/v1/resources")


class BookingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: datetime
    ends_at: datetime | None = Field(default=None, description="for rooms, cars and experts")
    amount_cents: int | None = Field(default=None, ge=1, le=10**12, description="for budgets and quotas")
    purpose: str = Field(min_length=1, max_length=200)
    customer_id: int | None = Field(default=None, ge=1)


@bp.get("")
@spec.validate(resp=Response(HTTP_200=ResourceList), tags=["resources"])
def list_resources():
    return ok(service.list_resources(db.session(), user=current_user()), personal=True)


@bp.post("/<int:resource_id>/bookings")
@idempotent
@spec.validate(
    json=BookingCreate, resp=Response(HTTP_201=BookingPublic, **problems(404, 409)), tags=["resources"]
)
def book(resource_id: int):
    """Book a room, car or expert for a slot, or draw on a budget; 409 when taken or exhausted."""
    data: BookingCreate = body()
    booking = service.book(
        db.session(),
        user=current_user(),
        resource_id=resource_id,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        amount_cents=data.amount_cents,
        purpose=data.purpose,
        customer_id=data.customer_id,
        ip=client_ip(),
    )
    return ok(service.booking_public(booking), 201, personal=True)


@bp.delete("/bookings/<int:booking_id>")
@spec.validate(resp=Response(HTTP_200=BookingCancelled, **problems(404)), tags=["resources"])
def cancel(booking_id: int):
    service.cancel(db.session(), user=current_user(), booking_id=booking_id)
    return ok(BookingCancelled(cancelled=True))
