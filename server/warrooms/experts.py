"""Booking an expert from the room (预约专家): pick one of the collaboration resources (我的可用资源,
kind `expert`), see their free slots, book one under the resources' own rules (no double booking),
which in the same transaction invites the expert to the room as `remote_expert`, notes the booking
in the timeline, and sets a reminder for both the booker and the expert before the call."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from server.db import row_id
from server.errors import not_found, unprocessable
from server.notebook.models import Reminder, ReminderKind
from server.org.models import User
from server.resources import service as resources
from server.resources.models import Resource, ResourceBooking
from server.timeutil import as_utc, iso, utcnow
from server.warrooms import access, eventlog, membership
from server.warrooms.models import MemberRole

SLOT = timedelta(minutes=30)
DAYS = 5
# Office hours in the bank's zone: the slots an expert can be booked for.
HOURS = ((time(9, 0), time(12, 0)), (time(14, 0), time(18, 0)))
ZONE = ZoneInfo("Asia/Shanghai")
REMIND_BEFORE = timedelta(minutes=15)


class ExpertBooking(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resource_id: int = Field(ge=1)
    starts_at: datetime
    ends_at: datetime


def _expert_resources(session: Session, user: User) -> list[Resource]:
    return list(
        session.exec(
            select(Resource)
            .where(
                Resource.kind == "expert",
                col(Resource.expert_user_id).is_not(None),
                *resources._visible(user),
            )
            .order_by(col(Resource.name))
        ).all()
    )


def free_slots(
    busy: list[tuple[datetime, datetime]], *, now: datetime, days: int = DAYS
) -> list[dict[str, Any]]:
    """Half-hour office-hour slots in the next `days` days that start after now and overlap no booking."""
    now = as_utc(now)
    today = now.astimezone(ZONE).date()
    out = []
    for offset in range(days):
        day = today + timedelta(days=offset)
        if day.weekday() >= 5:
            continue  # weekends
        for start_t, end_t in HOURS:
            start = datetime.combine(day, start_t, ZONE).astimezone(UTC)
            end = datetime.combine(day, end_t, ZONE).astimezone(UTC)
            while start + SLOT <= end:
                stop = start + SLOT
                if start > now and not any(b0 < stop and b1 > start for b0, b1 in busy):
                    out.append({"starts_at": iso(start), "ends_at": iso(stop)})
                start = stop
    return out


def list_experts(session: Session, *, room_id: int, user: User) -> list[dict[str, Any]]:
    access.open_room_of_member(session, room_id=room_id, user=user, write=True)
    now = utcnow()
    experts = [r for r in _expert_resources(session, user) if r.expert_user_id != user.id]
    if not experts:
        return []
    busy: dict[int, list[tuple[datetime, datetime]]] = {row_id(r): [] for r in experts}
    for resource_id, starts_at, ends_at in session.exec(
        select(ResourceBooking.resource_id, ResourceBooking.starts_at, ResourceBooking.ends_at).where(
            col(ResourceBooking.resource_id).in_(list(busy)),
            col(ResourceBooking.cancelled_at).is_(None),
            ResourceBooking.ends_at > now,
        )
    ).all():
        busy[resource_id].append((as_utc(starts_at), as_utc(ends_at)))
    people = {
        u.id: u
        for u in session.exec(select(User).where(col(User.id).in_([r.expert_user_id for r in experts]))).all()
    }
    return [
        {
            "resource_id": r.id,
            "name": r.name,
            "topics": r.detail.get("topics", []),
            "expert": access.person(people[r.expert_user_id]) if r.expert_user_id in people else None,
            "slots": free_slots(busy[row_id(r)], now=now),
        }
        for r in experts
    ]


def book_expert(
    session: Session, *, room_id: int, user: User, data: ExpertBooking, ip: str | None
) -> dict[str, Any]:
    """Books the slot, invites the expert as remote_expert and sets both reminders, all or nothing."""
    room = access.get_room(session, room_id)
    access.require_owner(session, room=room, user=user)  # inviting is the owner's, as elsewhere
    access.require_open(room)
    resource = session.get(Resource, data.resource_id)
    if resource is None or resource.kind != "expert" or resource.expert_user_id is None:
        raise not_found("resource")
    expert = access.player(session, resource.expert_user_id)
    if expert is None or expert.id == user.id:
        raise unprocessable("This expert cannot be invited.", code="bad-invitee")
    booking = resources.reserve(
        session,
        user=user,
        resource_id=data.resource_id,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        amount_cents=None,
        purpose=f"作战室远程连线：{room.title}"[:200],
        customer_id=None,
        ip=ip,
        kinds=("expert",),
    )
    membership.invite_users(
        session, room=room, user=user, user_ids=[row_id(expert)], role=MemberRole.remote_expert, ip=ip
    )
    starts_at = as_utc(booking.starts_at)
    local = starts_at.astimezone(ZONE)
    when = f"{local.month}月{local.day}日 {local:%H:%M}"
    eventlog.record(
        session,
        room_id=room_id,
        kind="expert.booked",
        author=user,
        payload={
            "expert": access.person(expert),
            "starts_at": iso(starts_at),
            "ends_at": iso(booking.ends_at),
        },
    )
    for who, body in (
        (user, f"{when} 与{expert.display_name}远程连线（「{room.title}」）"),
        (expert, f"{when} {user.display_name} 约你远程连线（「{room.title}」）"),
    ):
        session.add(
            Reminder(
                user_id=row_id(who),
                kind=ReminderKind.expert_call,
                source_key=f"expert_call:{booking.id}",
                due_at=max(starts_at - REMIND_BEFORE, utcnow()),
                urgent=True,  # a call at a set time goes through quiet hours
                title=f"远程连线 · {room.title}"[:128],
                body=body,
                url=f"/war-rooms/{room_id}",
            )
        )
    session.commit()
    return {"booking": resources.booking_public(booking), "expert": access.person(expert)}
