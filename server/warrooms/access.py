"""Who may do what in a war room: the room, the caller's membership, and the customer grants a room lends."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlmodel import Session, col, select

from server import ratelimit
from server.customers import grants
from server.customers.models import Customer
from server.db import row_id
from server.errors import Problem, conflict, forbidden, stale, too_many_requests
from server.org.models import Role, Team, User
from server.redis_client import get_redis
from server.warrooms.models import (
    MemberRole,
    MemberStatus,
    RoomStatus,
    TargetConsent,
    WarRoom,
    WarRoomMember,
    WarRoomTarget,
)

PLAYERS = (Role.rm, Role.team_lead)


def limit_rate(user: User, *, bucket: str = "changes") -> None:
    """One more message or board change by this user (`changes`), or one more target added
    (`targets`), or one more call signal (`signals`): counted across every process in Redis; past the setting's limit, 429 `rate-limited`.
    Called by the domain functions, so the socket and the HTTP paths share one budget."""
    settings = current_app.config["SETTINGS"]
    if bucket == "targets":
        key = f"warroom-targets:{user.id}"
        limit, window = settings.WARROOM_TARGET_RATE_LIMIT, settings.WARROOM_TARGET_RATE_WINDOW_SECONDS
    elif bucket == "signals":  # call signalling: offers, answers, ICE candidates, mute, stage pages
        key = f"warroom-signals:{user.id}"
        limit, window = settings.WARROOM_SIGNAL_RATE_LIMIT, settings.WARROOM_SIGNAL_RATE_WINDOW_SECONDS
    else:
        key = f"warroom:{user.id}"
        limit, window = settings.WARROOM_RATE_LIMIT, settings.WARROOM_RATE_WINDOW_SECONDS
    allowed, retry_after = ratelimit.hit(get_redis(), key, limit=limit, window_seconds=window)
    if not allowed:
        raise too_many_requests("Too many changes; slow down.", retry_after=retry_after)


def unknown_room() -> Problem:
    return Problem(404, "Not Found", "No such war room.", code="unknown-room")


def not_a_member() -> Problem:
    return Problem(403, "Forbidden", "You are not a member of this war room.", code="not-a-member")


def room_closed() -> Problem:
    return conflict("This war room is closed.", code="room-closed")


def stale_version(what: str, current: dict[str, Any]) -> Problem:
    return stale(f"The {what} was changed by someone else.", current=current)


def get_room(session: Session, room_id: int) -> WarRoom:
    room = session.get(WarRoom, room_id)
    if room is None:
        raise unknown_room()
    return room


def member_row(session: Session, *, room_id: int, user_id: int) -> WarRoomMember | None:
    return session.exec(
        select(WarRoomMember).where(WarRoomMember.room_id == room_id, WarRoomMember.user_id == user_id)
    ).first()


def active_member(session: Session, *, room_id: int, user_id: int) -> WarRoomMember | None:
    row = member_row(session, room_id=room_id, user_id=user_id)
    return row if row is not None and row.status == MemberStatus.active else None


def leads_team(session: Session, *, user: User, team_id: int | None) -> bool:
    if team_id is None or user.role != Role.team_lead:
        return False
    team = session.get(Team, team_id)
    return team is not None and team.lead_id == user.id


def require_member(session: Session, *, room_id: int, user: User, write: bool = False) -> WarRoomMember:
    """The caller's active membership, or an error with a code (unknown-room, not-a-member).
    Observers read and chat but do not change the live_board."""
    return room_and_membership(session, room_id=room_id, user=user, write=write)[1]


def room_and_membership(
    session: Session, *, room_id: int, user: User, write: bool = False
) -> tuple[WarRoom, WarRoomMember]:
    """The room and the caller's active membership, read together: this runs before every chat
    message and live_board change, and each statement is a round trip to the database."""
    found = session.exec(
        select(WarRoom, WarRoomMember)
        .outerjoin(
            WarRoomMember,
            (col(WarRoomMember.room_id) == WarRoom.id) & (col(WarRoomMember.user_id) == user.id),
        )
        .where(WarRoom.id == room_id)
    ).first()
    if found is None:
        raise unknown_room()
    room, member = found
    if member is None or member.status != MemberStatus.active:
        raise not_a_member()
    if write and member.role == MemberRole.observer:
        raise forbidden("Observers follow the room; members change the live_board.")
    return room, member


def require_owner(session: Session, *, room: WarRoom, user: User) -> None:
    member = active_member(session, room_id=row_id(room), user_id=row_id(user))
    if member is None:
        raise not_a_member()
    if member.role != MemberRole.owner:
        raise forbidden("Only the room's owner may do this.")


def can_view(session: Session, *, room: WarRoom, user: User) -> bool:
    row = member_row(session, room_id=row_id(room), user_id=row_id(user))
    if row is not None and row.status in (MemberStatus.active, MemberStatus.invited):
        return True
    return leads_team(session, user=user, team_id=room.team_id)


def active_member_ids(session: Session, room_id: int) -> list[int]:
    return list(
        session.exec(
            select(WarRoomMember.user_id).where(
                WarRoomMember.room_id == room_id, WarRoomMember.status == MemberStatus.active
            )
        ).all()
    )


def active_among(session: Session, room_id: int, user_ids: list[int]) -> list[int]:
    """The given users who are active members, in the given order. Asks only about those users: a
    message is posted far more often than it mentions anyone, in rooms of up to a thousand members."""
    if not user_ids:
        return []
    active = set(
        session.exec(
            select(WarRoomMember.user_id).where(
                WarRoomMember.room_id == room_id,
                col(WarRoomMember.user_id).in_(user_ids),
                WarRoomMember.status == MemberStatus.active,
            )
        ).all()
    )
    return [u for u in user_ids if u in active]


def require_open(room: WarRoom) -> None:
    if room.status != RoomStatus.active:
        raise room_closed()


def open_room_of_member(session: Session, *, room_id: int, user: User, write: bool = False) -> WarRoom:
    """The room, open, with the caller an active member. Callers keep the room it returns: the
    session holds loaded rows only while something references them, so a later `get_room` of a
    dropped room would be another SELECT."""
    room, _member = room_and_membership(session, room_id=room_id, user=user, write=write)
    require_open(room)
    return room


def player(session: Session, user_id: int) -> User | None:
    user = session.get(User, user_id)
    return user if user is not None and user.is_active and user.role in PLAYERS else None


def person(user: User) -> dict[str, Any]:
    return {"id": user.id, "display_name": user.display_name}


def grant_customer(
    session: Session, *, room_id: int, user_id: int, customer: Customer, actor_id: int | None, ip: str | None
) -> None:
    grants.grant(
        session,
        customer_id=row_id(customer),
        owner_id=customer.owner_id,
        user_id=user_id,
        source_type=grants.SOURCE_WAR_ROOM,
        source_id=room_id,
        actor_id=actor_id,
        ip=ip,
    )


def revoke_grants(
    session: Session,
    *,
    room_id: int,
    user_id: int | None,
    actor_id: int | None,
    ip: str | None,
    reason: str,
    customer_id: int | None = None,
    customer_ids: list[int] | None = None,
) -> int:
    """Ends the room's grants (of one user, or of everyone when user_id is None; of one customer
    when customer_id is given, e.g. a target taken off the list)."""
    return grants.revoke(
        session,
        source_type=grants.SOURCE_WAR_ROOM,
        source_ids=[room_id],
        reason=reason,
        actor_id=actor_id,
        user_id=user_id,
        customer_ids=[customer_id] if customer_id is not None else customer_ids,
        ip=ip,
    )


def room_customers(session: Session, room_id: int) -> list[Customer]:
    """The customers the room lends to its members: targets their owners approved (pending
    requests lend nothing)."""
    return list(
        session.exec(
            select(Customer)
            .join(WarRoomTarget, col(WarRoomTarget.customer_id) == Customer.id)
            .where(WarRoomTarget.room_id == room_id, WarRoomTarget.consent == TargetConsent.approved)
        ).all()
    )
