"""Membership: invitations, answers, leaving and removal; a member who goes loses the room's grants."""

from __future__ import annotations

from sqlmodel import Session

from server import events
from server.audit import service as audit
from server.db import row_id
from server.errors import Problem, conflict, unprocessable
from server.org.models import User
from server.timeutil import utcnow
from server.warrooms.access import (
    get_room,
    grant_customer,
    member_row,
    person,
    player,
    require_member,
    require_open,
    require_owner,
    revoke_grants,
    room_closed,
    room_customers,
)
from server.warrooms.consent import withhold_owner_targets
from server.warrooms.eventlog import append, next_seq, notify, record
from server.warrooms.models import (
    MemberRole,
    MemberStatus,
    RoomStatus,
    WarRoom,
    WarRoomMember,
)
from server.warrooms.schemas import (
    InviteIn,
)

INVITED_KIND = "warroom.invited"  # payload: room_id, user_id, title; tells the invitee


LEFT_KIND = "warroom.left"  # payload: room_id, user_id; live sockets leave the room


def add_member(
    session: Session,
    *,
    room: WarRoom,
    user: User,
    role: MemberRole,
    status: MemberStatus,
    invited_by: int | None,
) -> WarRoomMember:
    row = member_row(session, room_id=row_id(room), user_id=row_id(user))
    now = utcnow()
    if row is None:
        row = WarRoomMember(
            room_id=row_id(room),
            user_id=row_id(user),
            role=role,
            status=status,
            invited_by=invited_by,
        )
    else:
        row.role, row.status, row.invited_by, row.invited_at, row.ended_at = (
            role,
            status,
            invited_by,
            now,
            None,
        )
    if status == MemberStatus.active:
        row.joined_at = now
    session.add(row)
    session.flush()
    return row


def invite_users(
    session: Session, *, room: WarRoom, user: User, user_ids: list[int], role: MemberRole, ip: str | None
) -> list[int]:
    invited = []
    for user_id in dict.fromkeys(user_ids):
        invitee = player(session, user_id)
        if invitee is None:
            raise unprocessable(f"User {user_id} cannot be invited.", code="bad-invitee")
        row = member_row(session, room_id=row_id(room), user_id=user_id)
        if row is not None and row.status in (MemberStatus.active, MemberStatus.invited):
            continue
        the_role = role
        if role == MemberRole.member and invitee.branch_id != room.branch_id:
            the_role = MemberRole.remote_expert
        add_member(
            session, room=room, user=invitee, role=the_role, status=MemberStatus.invited, invited_by=user.id
        )
        audit.record(
            session,
            actor_id=user.id,
            action="warroom.invite",
            object_type="war_room",
            object_id=room.id,
            ip=ip,
            detail={"user_id": user_id, "role": the_role},
        )
        invitation = record(
            session,
            room_id=row_id(room),
            kind="member.invited",
            author=user,
            payload={"user": person(invitee), "role": the_role},
        )
        events.publish(session, INVITED_KIND, {"room_id": room.id, "user_id": user_id, "title": room.title})
        notify(
            session,
            user_id=user_id,
            room=room,
            title="作战室邀请",
            body=f"{user.display_name} 邀请你加入「{room.title}」",
            key=f"invite:{invitation['seq']}",
        )
        invited.append(user_id)
    return invited


def invite(session: Session, *, room_id: int, user: User, data: InviteIn, ip: str | None) -> list[int]:
    room = get_room(session, room_id)
    require_owner(session, room=room, user=user)
    require_open(room)
    invited = invite_users(session, room=room, user=user, user_ids=data.user_ids, role=data.role, ip=ip)
    session.commit()
    return invited


def respond(session: Session, *, room_id: int, user: User, accept: bool, ip: str | None) -> WarRoomMember:
    room = get_room(session, room_id)
    seq = next_seq(session, room_id)  # lock the room first: a removal cannot interleave
    row = member_row(session, room_id=room_id, user_id=row_id(user))
    if row is None or row.status != MemberStatus.invited:
        session.rollback()
        raise conflict("There is no open invitation for you.", code="no-invitation")
    if accept and room.status != RoomStatus.active:
        session.rollback()
        raise room_closed()
    row.status = MemberStatus.active if accept else MemberStatus.declined
    now = utcnow()
    row.joined_at, row.ended_at = (now, None) if accept else (None, now)
    session.add(row)
    if accept:
        for customer in room_customers(session, room_id):
            grant_customer(
                session, room_id=room_id, user_id=row_id(user), customer=customer, actor_id=user.id, ip=ip
            )
    audit.record(
        session,
        actor_id=user.id,
        action="warroom.accept" if accept else "warroom.decline",
        object_type="war_room",
        object_id=room_id,
        ip=ip,
    )
    append(
        session,
        room_id=room_id,
        seq=seq,
        kind="member.joined" if accept else "member.declined",
        author=user,
        payload={"user": person(user), "role": row.role},
    )
    session.commit()
    return row


def end_membership(
    session: Session,
    *,
    room_id: int,
    seq: int,
    member: WarRoomMember,
    status: MemberStatus,
    actor: User,
    ip: str | None,
) -> None:
    member.status = status
    member.ended_at = utcnow()
    session.add(member)
    revoke_grants(
        session,
        room_id=room_id,
        user_id=member.user_id,
        actor_id=actor.id,
        ip=ip,
        reason=f"member_{status.value}",
    )
    audit.record(
        session,
        actor_id=actor.id,
        action=f"warroom.{status.value}",
        object_type="war_room",
        object_id=room_id,
        ip=ip,
        detail={"user_id": member.user_id},
    )
    gone = session.get(User, member.user_id)
    append(
        session,
        room_id=room_id,
        seq=seq,
        kind=f"member.{status.value}",
        author=actor,
        payload={"user": person(gone) if gone else {"id": member.user_id}},
    )
    # Their customers were in the room by their consent, which goes with them.
    withhold_owner_targets(
        session, room_id=room_id, owner_id=member.user_id, actor=actor, ip=ip, reason=f"owner_{status.value}"
    )
    # After commit the member's live sockets leave the room at once.
    events.publish(session, LEFT_KIND, {"room_id": room_id, "user_id": member.user_id})


def remove_member(session: Session, *, room_id: int, user: User, member_user_id: int, ip: str | None) -> None:
    room = get_room(session, room_id)
    require_owner(session, room=room, user=user)
    if member_user_id == user.id:
        raise conflict("The owner cannot remove themselves.", code="owner-stays")
    seq = next_seq(session, room_id)
    member = member_row(session, room_id=room_id, user_id=member_user_id)
    if member is None or member.status not in (MemberStatus.active, MemberStatus.invited):
        session.rollback()
        raise Problem(404, "Not Found", "No such member.", code="not-found")
    end_membership(
        session, room_id=room_id, seq=seq, member=member, status=MemberStatus.removed, actor=user, ip=ip
    )
    session.commit()


def leave(session: Session, *, room_id: int, user: User, ip: str | None) -> None:
    member = require_member(session, room_id=room_id, user=user)
    if member.role == MemberRole.owner:
        raise conflict("The owner closes the room instead of leaving.", code="owner-stays")
    seq = next_seq(session, room_id)
    session.refresh(member)
    end_membership(
        session, room_id=room_id, seq=seq, member=member, status=MemberStatus.left, actor=user, ip=ip
    )
    session.commit()
