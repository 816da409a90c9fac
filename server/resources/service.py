"""Available resources (我的可用资源): what the RM can draw on, and booking without double booking.

A booking first bumps the resource's `lock_version` with an UPDATE: that takes the row lock
(PostgreSQL) or the write lock (SQLite), so concurrent bookings of one resource run one after the
other, and the overlap / remaining-amount check that follows sees every committed booking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, func, or_, select

from server.audit import service as audit
from server.customers import service as customers
from server.db import row_id
from server.errors import conflict, not_found, unprocessable
from server.org.models import User
from server.resources.models import Resource, ResourceBooking
from server.timeutil import as_utc, iso, utcnow

TIMED = ("meeting_room", "car", "expert")  # booked for a time slot
AMOUNTS = ("gift_budget", "product_quota")  # drawn down by an amount within the year
GROUPS = {
    "product": ("product_quota", "pricing_authority"),
    "office": ("meeting_room", "car", "gift_budget"),
    "collaboration": ("expert",),
}
MAX_SLOT = timedelta(hours=12)

DOCUMENT_TEMPLATES = [
    {"code": "credit_application", "name": "授信申请书", "category": "loan"},
    {"code": "due_diligence", "name": "尽职调查报告", "category": "loan"},
    {"code": "visit_report", "name": "客户拜访报告", "category": "general"},
    {"code": "account_opening", "name": "对公开户资料清单", "category": "deposit"},
    {"code": "payroll_agreement", "name": "代发工资协议", "category": "payroll"},
    {"code": "wealth_suitability", "name": "理财适当性评估表", "category": "wealth"},
]


def _visible(user: User):
    return (
        col(Resource.is_active),
        or_(col(Resource.branch_id).is_(None), Resource.branch_id == user.branch_id),
    )


def _year_window(now: datetime) -> tuple[datetime, datetime]:
    return datetime(now.year, 1, 1, tzinfo=UTC), datetime(now.year + 1, 1, 1, tzinfo=UTC)


def _used_amounts(session: Session, resource_ids: list[int], now: datetime) -> dict[int, int]:
    if not resource_ids:
        return {}
    start, end = _year_window(now)
    return {
        rid: int(total or 0)
        for rid, total in session.exec(
            select(ResourceBooking.resource_id, func.sum(ResourceBooking.amount_cents))
            .where(
                col(ResourceBooking.resource_id).in_(resource_ids),
                col(ResourceBooking.cancelled_at).is_(None),
                ResourceBooking.starts_at >= start,
                ResourceBooking.starts_at < end,
            )
            .group_by(col(ResourceBooking.resource_id))
        ).all()
    }


def list_resources(session: Session, *, user: User, days: int = 7) -> dict[str, Any]:
    now = utcnow()
    rows = session.exec(select(Resource).where(*_visible(user)).order_by(Resource.kind, Resource.name)).all()
    used = _used_amounts(session, [row_id(r) for r in rows if r.kind in AMOUNTS], now)
    timed_ids = [row_id(r) for r in rows if r.kind in TIMED]
    bookings: dict[int, list[dict[str, Any]]] = {rid: [] for rid in timed_ids}
    if timed_ids:
        for b in session.exec(
            select(ResourceBooking)
            .where(
                col(ResourceBooking.resource_id).in_(timed_ids),
                col(ResourceBooking.cancelled_at).is_(None),
                ResourceBooking.ends_at > now,
                ResourceBooking.starts_at < now + timedelta(days=days),
            )
            .order_by(col(ResourceBooking.starts_at))
        ).all():
            bookings[b.resource_id].append(
                {
                    "id": b.id,
                    "starts_at": iso(b.starts_at),
                    "ends_at": iso(b.ends_at),
                    "mine": b.user_id == user.id,
                    "purpose": b.purpose if b.user_id == user.id else None,
                }
            )
    out: dict[str, Any] = {group: [] for group in GROUPS}
    for r in rows:
        item: dict[str, Any] = {
            "id": r.id,
            "kind": r.kind,
            "name": r.name,
            "detail": r.detail,
            "bookable": r.kind in TIMED or r.kind in AMOUNTS,
        }
        if r.kind in AMOUNTS:
            item["amount_cents"] = r.amount_cents
            item["remaining_cents"] = (r.amount_cents or 0) - used.get(row_id(r), 0)
        if r.kind in TIMED:
            item["upcoming"] = bookings.get(row_id(r), [])
        group = (
            next(g for g, kinds in GROUPS.items() if r.kind in kinds)
            if any(r.kind in kinds for kinds in GROUPS.values())
            else "product"
        )
        out[group].append(item)
    out["tools"] = {"calculators": ["loan", "deposit", "fx"], "document_templates": DOCUMENT_TEMPLATES}
    return out


def book(
    session: Session,
    *,
    user: User,
    resource_id: int,
    starts_at: datetime,
    ends_at: datetime | None,
    amount_cents: int | None,
    purpose: str,
    customer_id: int | None,
    ip: str | None,
) -> ResourceBooking:
    booking = reserve(
        session,
        user=user,
        resource_id=resource_id,
        starts_at=starts_at,
        ends_at=ends_at,
        amount_cents=amount_cents,
        purpose=purpose,
        customer_id=customer_id,
        ip=ip,
    )
    session.commit()
    return booking


def reserve(
    session: Session,
    *,
    user: User,
    resource_id: int,
    starts_at: datetime,
    ends_at: datetime | None,
    amount_cents: int | None,
    purpose: str,
    customer_id: int | None,
    ip: str | None,
    kinds: tuple[str, ...] = TIMED + AMOUNTS,
) -> ResourceBooking:
    """`book` without the commit, for a caller that does more in the same transaction (booking an
    expert from a war room also invites them). On a clash it rolls back and raises."""
    resource = session.exec(select(Resource).where(Resource.id == resource_id, *_visible(user))).first()
    if resource is None or resource.kind not in kinds:
        raise not_found("resource")
    if customer_id is not None:
        customers.get_customer_for(session, user=user, customer_id=customer_id, write=True)
    starts_at = as_utc(starts_at)
    if resource.kind in TIMED:
        if ends_at is None or as_utc(ends_at) <= starts_at or as_utc(ends_at) - starts_at > MAX_SLOT:
            raise unprocessable(
                "A booking needs an end after its start (12 h at most).",
                errors=[{"field": "ends_at", "message": "after starts_at, ≤ 12 h"}],
            )
        ends_at = as_utc(ends_at)
        amount_cents = None
    else:
        if not amount_cents or amount_cents <= 0:
            raise unprocessable(
                "Say how much to draw.", errors=[{"field": "amount_cents", "message": "a positive amount"}]
            )
        ends_at = starts_at
    # Serialise bookings of this resource (see the module docstring), then check and insert.
    session.exec(
        update(Resource).where(col(Resource.id) == resource_id).values(lock_version=Resource.lock_version + 1)
    )
    if resource.kind in TIMED:
        clash = session.exec(
            select(ResourceBooking.id).where(
                ResourceBooking.resource_id == resource_id,
                col(ResourceBooking.cancelled_at).is_(None),
                ResourceBooking.starts_at < ends_at,
                ResourceBooking.ends_at > starts_at,
            )
        ).first()
        if clash is not None:
            session.rollback()
            raise conflict("This slot is already booked.", code="slot-taken")
    else:
        used = _used_amounts(session, [resource_id], starts_at).get(resource_id, 0)
        if used + amount_cents > (resource.amount_cents or 0):  # type: ignore[operator]
            session.rollback()
            raise conflict(
                "Not enough left in this budget.",
                code="insufficient",
                remaining_cents=(resource.amount_cents or 0) - used,
            )
    booking = ResourceBooking(
        resource_id=resource_id,
        user_id=row_id(user),
        starts_at=starts_at,
        ends_at=ends_at,
        amount_cents=amount_cents,
        purpose=purpose,
        customer_id=customer_id,
    )
    session.add(booking)
    audit.record(
        session,
        actor_id=user.id,
        action="resource.book",
        object_type="resource",
        object_id=resource_id,
        ip=ip,
        detail={"amount_cents": amount_cents},
    )
    session.flush()
    return booking


def cancel(session: Session, *, user: User, booking_id: int) -> None:
    booking = session.get(ResourceBooking, booking_id)
    if booking is None or booking.user_id != user.id:
        raise not_found("booking")
    if booking.cancelled_at is None:
        booking.cancelled_at = utcnow()
        session.add(booking)
        session.commit()


def booking_public(b: ResourceBooking) -> dict[str, Any]:
    return {
        "id": b.id,
        "resource_id": b.resource_id,
        "starts_at": iso(b.starts_at),
        "ends_at": iso(b.ends_at),
        "amount_cents": b.amount_cents,
        "purpose": b.purpose,
        "customer_id": b.customer_id,
        "cancelled_at": iso(b.cancelled_at),
    }
