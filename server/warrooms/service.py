"""War room rules: rooms, membership with audited customer grants, targets, tasks, chat, timeline.

Every change to a room takes the room's next sequence number first, with one atomic
`UPDATE war_room SET last_seq = last_seq + 1 ... RETURNING last_seq`. That row stays locked until the
transaction ends, so changes to one room are serialised, numbers have no gaps, and they are in commit
order on SQLite and PostgreSQL alike. The stored event is then published (`warroom.event`); the
realtime layer broadcasts it only after the commit."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import case, update
from sqlmodel import Session, col, func, select

from server import events
from server.audit import service as audit
from server.customers import grants
from server.customers.models import Customer
from server.customers.service import get_customer_for
from server.db import row_id
from server.errors import Problem, forbidden
from server.inbox import service as inbox
from server.intel import service as intel
from server.intel.models import IntelItem
from server.opportunities import access as opportunity_access
from server.opportunities.models import Opportunity
from server.org.models import RmProfile, Role, Team, User
from server.products.models import Product
from server.reference import industry_name
from server.timeutil import iso, utcnow
from server.warrooms.models import (
    MemberRole,
    MemberStatus,
    RoomMode,
    RoomStatus,
    TargetStage,
    TaskStatus,
    WarRoom,
    WarRoomEvent,
    WarRoomMember,
    WarRoomOpportunity,
    WarRoomTarget,
    WarRoomTask,
)
from server.warrooms.schemas import (
    MAX_TEXT_BYTES,
    InviteIn,
    MessageIn,
    QuickCreate,
    QuickSource,
    RoomCreate,
    RoomScope,
    RoomUpdate,
    TargetIn,
    TargetRemove,
    TargetUpdate,
    TaskIn,
    TaskUpdate,
)

EVENT_KIND = "warroom.event"  # payload: one serialised event, broadcast to the room
LEFT_KIND = "warroom.left"  # payload: room_id, user_id; live sockets leave the room
INVITED_KIND = "warroom.invited"  # payload: room_id, user_id, title; tells the invitee
PLAYERS = (Role.rm, Role.team_lead)


# --- errors ----------------------------------------------------------------------------------------


def unknown_room() -> Problem:
    return Problem(404, "Not Found", "No such war room.", code="unknown-room")


def not_a_member() -> Problem:
    return Problem(403, "Forbidden", "You are not a member of this war room.", code="not-a-member")


def _closed() -> Problem:
    return Problem(409, "Conflict", "This war room is closed.", code="room-closed")


def _stale(what: str, current: dict[str, Any]) -> Problem:
    return Problem(
        412,
        "Precondition Failed",
        f"The {what} was changed by someone else.",
        code="stale-version",
        current=current,
    )


# --- access ----------------------------------------------------------------------------------------


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


def _leads_team(session: Session, *, user: User, team_id: int | None) -> bool:
    if team_id is None or user.role != Role.team_lead:
        return False
    team = session.get(Team, team_id)
    return team is not None and team.lead_id == user.id


def require_member(session: Session, *, room_id: int, user: User, write: bool = False) -> WarRoomMember:
    """The caller's active membership, or an error with a code (unknown-room, not-a-member).
    Observers read and chat but do not change the board."""
    return _room_and_membership(session, room_id=room_id, user=user, write=write)[1]


def _room_and_membership(
    session: Session, *, room_id: int, user: User, write: bool = False
) -> tuple[WarRoom, WarRoomMember]:
    """The room and the caller's active membership, read together: this runs before every chat
    message and board change, and each statement is a round trip to the database."""
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
        raise forbidden("Observers follow the room; members change the board.")
    return room, member


def _require_owner(session: Session, *, room: WarRoom, user: User) -> None:
    member = active_member(session, room_id=room.id, user_id=user.id)  # type: ignore[arg-type]
    if member is None:
        raise not_a_member()
    if member.role != MemberRole.owner:
        raise forbidden("Only the room's owner may do this.")


def can_view(session: Session, *, room: WarRoom, user: User) -> bool:
    row = member_row(session, room_id=room.id, user_id=user.id)  # type: ignore[arg-type]
    if row is not None and row.status in (MemberStatus.active, MemberStatus.invited):
        return True
    return _leads_team(session, user=user, team_id=room.team_id)


def active_member_ids(session: Session, room_id: int) -> list[int]:
    return list(
        session.exec(
            select(WarRoomMember.user_id).where(
                WarRoomMember.room_id == room_id, WarRoomMember.status == MemberStatus.active
            )
        ).all()
    )


def _active_among(session: Session, room_id: int, user_ids: list[int]) -> list[int]:
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


# --- the sequence and the event log ----------------------------------------------------------------


def _next_seq(session: Session, room_id: int) -> int:
    """Bumps the room's counter and locks its row until commit (see the module docstring)."""
    seq = session.execute(
        update(WarRoom)
        .where(col(WarRoom.id) == room_id)
        .values(last_seq=col(WarRoom.last_seq) + 1)
        .returning(col(WarRoom.last_seq))
    ).scalar_one_or_none()
    if seq is None:
        raise unknown_room()
    return int(seq)


def _existing_event(session: Session, *, room_id: int, client_id: str | None) -> WarRoomEvent | None:
    if not client_id:
        return None
    return session.exec(
        select(WarRoomEvent).where(WarRoomEvent.room_id == room_id, WarRoomEvent.client_id == client_id)
    ).first()


def _append(
    session: Session,
    *,
    room_id: int,
    seq: int,
    kind: str,
    payload: dict[str, Any],
    author: User | None,
    client_id: str | None = None,
) -> WarRoomEvent:
    event = WarRoomEvent(
        room_id=room_id,
        seq=seq,
        kind=kind,
        payload=payload,
        client_id=client_id,
        author_id=author.id if author else None,
    )
    session.add(event)
    session.flush()
    events.publish(session, EVENT_KIND, serialize_event(event, author))
    return event


def _record(
    session: Session,
    *,
    room_id: int,
    kind: str,
    payload: dict[str, Any],
    author: User | None,
    client_id: str | None = None,
) -> WarRoomEvent:
    return _append(
        session,
        room_id=room_id,
        seq=_next_seq(session, room_id),
        kind=kind,
        payload=payload,
        author=author,
        client_id=client_id,
    )


def serialize_event(event: WarRoomEvent, author: User | None) -> dict[str, Any]:
    return {
        "room_id": event.room_id,
        "seq": event.seq,
        "kind": event.kind,
        "payload": event.payload,
        "client_id": event.client_id,
        "author": {"id": author.id, "display_name": author.display_name} if author else None,
        "created_at": iso(event.created_at),
    }


def _replayed(session: Session, event: WarRoomEvent) -> tuple[dict[str, Any], bool]:
    author = session.get(User, event.author_id) if event.author_id else None
    return serialize_event(event, author), False


def events_after(session: Session, *, room_id: int, after_seq: int, limit: int = 200) -> list[dict[str, Any]]:
    rows = session.exec(
        select(WarRoomEvent)
        .where(WarRoomEvent.room_id == room_id, WarRoomEvent.seq > after_seq)
        .order_by(col(WarRoomEvent.seq))
        .limit(limit)
    ).all()
    author_ids = {r.author_id for r in rows if r.author_id}
    authors = (
        {u.id: u for u in session.exec(select(User).where(col(User.id).in_(author_ids))).all()}
        if author_ids
        else {}
    )
    return [serialize_event(r, authors.get(r.author_id)) for r in rows]  # type: ignore[arg-type]


def last_seq(session: Session, room_id: int) -> int:
    return int(session.exec(select(WarRoom.last_seq).where(WarRoom.id == room_id)).one())


# --- customer grants -------------------------------------------------------------------------------


def _grant(
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


def _revoke(
    session: Session,
    *,
    room_id: int,
    user_id: int | None,
    actor_id: int | None,
    ip: str | None,
    reason: str,
    customer_id: int | None = None,
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
        customer_ids=None if customer_id is None else [customer_id],
        ip=ip,
    )


def _room_customers(session: Session, room_id: int) -> list[Customer]:
    return list(
        session.exec(
            select(Customer)
            .join(WarRoomTarget, col(WarRoomTarget.customer_id) == Customer.id)
            .where(WarRoomTarget.room_id == room_id)
        ).all()
    )


# --- rooms -----------------------------------------------------------------------------------------


def _user(session: Session, user_id: int) -> User | None:
    user = session.get(User, user_id)
    return user if user is not None and user.is_active and user.role in PLAYERS else None


def _add_member(
    session: Session,
    *,
    room: WarRoom,
    user: User,
    role: MemberRole,
    status: MemberStatus,
    invited_by: int | None,
) -> WarRoomMember:
    row = member_row(session, room_id=room.id, user_id=user.id)  # type: ignore[arg-type]
    now = utcnow()
    if row is None:
        row = WarRoomMember(
            room_id=row_id(room),
            user_id=row_id(user),
            role=role,
            status=status,  # type: ignore[arg-type]
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


def create_room(
    session: Session,
    *,
    user: User,
    data: RoomCreate,
    ip: str | None,
    source: tuple[str, int, str] | None = None,
    opportunity_id: int | None = None,
) -> WarRoom:
    if user.role not in PLAYERS:
        raise forbidden("Only relationship managers and team leads open war rooms.")
    customers = [
        get_customer_for(session, user=user, customer_id=cid) for cid in dict.fromkeys(data.customer_ids)
    ]
    room = WarRoom(
        title=data.title.strip(),
        kind=data.kind,
        mode=data.mode,
        goal_amount_cents=data.goal_amount_cents,
        goal_customers=data.goal_customers,
        deadline=data.deadline,
        owner_id=user.id,  # type: ignore[arg-type]
        branch_id=user.branch_id,
        team_id=user.team_id,
        source_type=source[0] if source else None,
        source_id=source[1] if source else None,
        source_title=source[2][:128] if source else None,
    )
    session.add(room)
    session.flush()
    room_id: int = room.id  # type: ignore[assignment]
    _add_member(
        session, room=room, user=user, role=MemberRole.owner, status=MemberStatus.active, invited_by=None
    )
    audit.record(
        session,
        actor_id=user.id,
        action="warroom.create",
        object_type="war_room",
        object_id=room_id,
        ip=ip,
        detail={"kind": room.kind, "mode": room.mode},
    )
    _record(
        session,
        room_id=room_id,
        kind="room.created",
        author=user,
        payload={
            "title": room.title,
            "kind": room.kind,
            "mode": room.mode,
            "source": {"type": source[0], "id": source[1], "title": source[2]} if source else None,
        },
    )
    # The owner's team lead follows the room as an observer (the lead's live board).
    team = session.get(Team, user.team_id) if user.team_id else None
    if team is not None and team.lead_id and team.lead_id != user.id:
        lead = _user(session, team.lead_id)
        if lead is not None:
            _add_member(
                session,
                room=room,
                user=lead,
                role=MemberRole.observer,
                status=MemberStatus.active,
                invited_by=user.id,
            )
            _record(
                session,
                room_id=room_id,
                kind="member.joined",
                author=None,
                payload={"user": _person(lead), "role": MemberRole.observer},
            )
    for customer in customers:
        _add_target_row(
            session,
            room=room,
            user=user,
            customer=customer,
            prospect_name=None,
            amount_cents=0,
            ip=ip,
            client_id=None,
        )
    if opportunity_id is not None:  # a room opened from an opportunity works on it from the start
        _add_opportunity(session, room_id=room_id, user=user, opportunity_id=opportunity_id, seq=None)
    _invite(session, room=room, user=user, user_ids=data.invite_user_ids, role=MemberRole.member, ip=ip)
    session.commit()
    session.refresh(room)
    return room


def _person(user: User) -> dict[str, Any]:
    return {"id": user.id, "display_name": user.display_name}


def _notify(session: Session, *, user_id: int, room: WarRoom, title: str, body: str, key: str) -> None:
    """An inbox notification that opens the room. The inbox carries it to the live socket and to
    push after commit, so an invitee or a mentioned RM who is not in the room still hears of it;
    the source key makes it once-only (a re-sent message does not notify twice)."""
    inbox.notify(
        session,
        user_id=user_id,
        kind="warroom",
        title=title,
        body=body,
        url=f"/war-rooms/{room.id}",
        source_key=f"warroom:{room.id}:{user_id}:{key}",
    )


def suggest_members(
    session: Session, *, user: User, customer: Customer | None, product: Product | None
) -> list[dict[str, Any]]:
    """The customer's RM and the product experts: RMs of the branch holding the product's
    qualification (a branch has tens of RMs, so the JSON list is filtered here)."""
    out: dict[int, dict[str, Any]] = {}
    if customer is not None and customer.owner_id != user.id:
        owner = _user(session, customer.owner_id)
        if owner is not None:
            out[owner.id] = {**_person(owner), "reason": "customer_rm", "role": MemberRole.member}  # type: ignore[index]
    qualification = product.required_qualification if product is not None else None
    branch_id = (customer.branch_id if customer is not None else None) or user.branch_id
    if qualification and branch_id is not None:
        rows = session.exec(
            select(User, RmProfile)
            .join(RmProfile, col(RmProfile.user_id) == User.id)
            .where(
                User.branch_id == branch_id,
                User.role == Role.rm,
                col(User.is_active).is_(True),
                User.id != user.id,
            )
            .order_by(col(User.id))
        ).all()
        for expert, profile in rows:
            if qualification in (profile.qualifications or []) and expert.id not in out:
                out[row_id(expert)] = {
                    **_person(expert),
                    "reason": "product_expert",  # type: ignore[index]
                    "qualification": qualification,
                    "role": MemberRole.remote_expert
                    if expert.branch_id != user.branch_id
                    else MemberRole.member,
                }
    return list(out.values())


def quick_create(
    session: Session, *, user: User, data: QuickCreate, ip: str | None
) -> tuple[WarRoom, list[dict[str, Any]]]:
    """快速搭建: a room pre-filled from a customer, an opportunity or an intel alert, each of which the
    caller must be able to open (otherwise 404). The source names the room unless the client does,
    and brings its customer as the first target (an opportunity's only if the caller may see it);
    a room from an opportunity links it and takes its product to find experts."""
    customer_id, default_title, product_id = data.customer_id, None, data.product_id
    opportunity = None
    if data.source_type == QuickSource.customer:
        customer_id = data.source_id
    elif data.source_type == QuickSource.opportunity:
        opportunity = opportunity_access.get_for(session, user=user, opportunity_id=data.source_id)
        default_title, product_id = opportunity.title, product_id or opportunity.product_id
        if customer_id is None and opportunity.customer_id is not None:
            try:
                get_customer_for(session, user=user, customer_id=opportunity.customer_id)
                customer_id = opportunity.customer_id
            except Problem:
                pass  # a pooled opportunity's customer stays hidden until claimed
    else:
        alert = intel.get_alert_for(session, user=user, alert_id=data.source_id)
        item = session.get(IntelItem, alert.item_id)
        customer_id = customer_id or alert.customer_id
        default_title = item.title if item is not None else None
    customer = get_customer_for(session, user=user, customer_id=customer_id) if customer_id else None
    product = session.get(Product, product_id) if product_id else None
    if product_id and product is None:
        raise Problem(404, "Not Found", "No such product.", code="not-found")
    if data.source_type == QuickSource.intel_alert and customer is not None and default_title:
        default_title = f"{customer.name}：{default_title}"
    title = (data.title or default_title or f"{customer.name} 作战室")[:128]  # type: ignore[union-attr]
    source_title = customer.name if data.source_type == QuickSource.customer else title  # type: ignore[union-attr]
    suggested = suggest_members(session, user=user, customer=customer, product=product)
    invite_ids = [s["id"] for s in suggested] if data.invite_suggested else []
    remote = any(s["role"] == MemberRole.remote_expert for s in suggested)
    room = create_room(
        session,
        user=user,
        ip=ip,
        data=RoomCreate(
            title=title,
            kind=data.kind,
            mode=RoomMode.remote if remote else RoomMode.joint,
            customer_ids=[row_id(customer)] if customer else [],
            invite_user_ids=invite_ids,
        ),  # type: ignore[list-item]
        source=(data.source_type.value, data.source_id, source_title),
        opportunity_id=opportunity.id if opportunity is not None else None,
    )
    return room, suggested


def update_room(
    session: Session,
    *,
    room_id: int,
    user: User,
    data: RoomUpdate,
    expected_version: int | None,
    ip: str | None,
) -> WarRoom:
    room = get_room(session, room_id)
    _require_owner(session, room=room, user=user)
    seq = _next_seq(session, room_id)
    session.refresh(room)
    if expected_version is not None and room.version != expected_version:
        version = room.version
        session.rollback()
        raise _stale("room", {"version": version})
    changes = data.model_dump(exclude_unset=True, exclude={"version"}, mode="json")
    for name, value in data.model_dump(exclude_unset=True, exclude={"version"}).items():
        setattr(room, name, value)
    room.version += 1
    room.updated_at = utcnow()
    session.add(room)
    if data.status is not None and data.status != RoomStatus.active:
        _revoke(session, room_id=room_id, user_id=None, actor_id=user.id, ip=ip, reason="room_closed")
    elif data.status == RoomStatus.active:  # reopened: members see the targets again
        for member_id in active_member_ids(session, room_id):
            for customer in _room_customers(session, room_id):
                _grant(
                    session, room_id=room_id, user_id=member_id, customer=customer, actor_id=user.id, ip=ip
                )
    audit.record(
        session,
        actor_id=user.id,
        action="warroom.update",
        object_type="war_room",
        object_id=room_id,
        ip=ip,
        detail=changes,
    )
    _append(
        session,
        room_id=room_id,
        seq=seq,
        kind="room.updated",
        author=user,
        payload={**changes, "version": room.version},
    )
    session.commit()
    return room


def _require_open(room: WarRoom) -> None:
    if room.status != RoomStatus.active:
        raise _closed()


def _open_room_of_member(session: Session, *, room_id: int, user: User, write: bool = False) -> WarRoom:
    """The room, open, with the caller an active member. Callers keep the room it returns: the
    session holds loaded rows only while something references them, so a later `get_room` of a
    dropped room would be another SELECT."""
    room, _member = _room_and_membership(session, room_id=room_id, user=user, write=write)
    _require_open(room)
    return room


# --- membership ------------------------------------------------------------------------------------


def _invite(
    session: Session, *, room: WarRoom, user: User, user_ids: list[int], role: MemberRole, ip: str | None
) -> list[int]:
    invited = []
    for user_id in dict.fromkeys(user_ids):
        invitee = _user(session, user_id)
        if invitee is None:
            raise Problem(
                422, "Unprocessable Content", f"User {user_id} cannot be invited.", code="bad-invitee"
            )
        row = member_row(session, room_id=room.id, user_id=user_id)  # type: ignore[arg-type]
        if row is not None and row.status in (MemberStatus.active, MemberStatus.invited):
            continue
        the_role = role
        if role == MemberRole.member and invitee.branch_id != room.branch_id:
            the_role = MemberRole.remote_expert
        _add_member(
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
        invitation = _record(
            session,
            room_id=row_id(room),
            kind="member.invited",
            author=user,  # type: ignore[arg-type]
            payload={"user": _person(invitee), "role": the_role},
        )
        events.publish(session, INVITED_KIND, {"room_id": room.id, "user_id": user_id, "title": room.title})
        _notify(
            session,
            user_id=user_id,
            room=room,
            title="作战室邀请",
            body=f"{user.display_name} 邀请你加入「{room.title}」",
            key=f"invite:{invitation.seq}",
        )
        invited.append(user_id)
    return invited


def invite(session: Session, *, room_id: int, user: User, data: InviteIn, ip: str | None) -> list[int]:
    room = get_room(session, room_id)
    _require_owner(session, room=room, user=user)
    _require_open(room)
    invited = _invite(session, room=room, user=user, user_ids=data.user_ids, role=data.role, ip=ip)
    session.commit()
    return invited


def respond(session: Session, *, room_id: int, user: User, accept: bool, ip: str | None) -> WarRoomMember:
    room = get_room(session, room_id)
    seq = _next_seq(session, room_id)  # lock the room first: a removal cannot interleave
    row = member_row(session, room_id=room_id, user_id=user.id)  # type: ignore[arg-type]
    if row is None or row.status != MemberStatus.invited:
        session.rollback()
        raise Problem(409, "Conflict", "There is no open invitation for you.", code="no-invitation")
    if accept and room.status != RoomStatus.active:
        session.rollback()
        raise _closed()
    row.status = MemberStatus.active if accept else MemberStatus.declined
    now = utcnow()
    row.joined_at, row.ended_at = (now, None) if accept else (None, now)
    session.add(row)
    if accept:
        for customer in _room_customers(session, room_id):
            _grant(session, room_id=room_id, user_id=user.id, customer=customer, actor_id=user.id, ip=ip)  # type: ignore[arg-type]
    audit.record(
        session,
        actor_id=user.id,
        action="warroom.accept" if accept else "warroom.decline",
        object_type="war_room",
        object_id=room_id,
        ip=ip,
    )
    _append(
        session,
        room_id=room_id,
        seq=seq,
        kind="member.joined" if accept else "member.declined",
        author=user,
        payload={"user": _person(user), "role": row.role},
    )
    session.commit()
    return row


def _end_membership(
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
    _revoke(
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
    _append(
        session,
        room_id=room_id,
        seq=seq,
        kind=f"member.{status.value}",
        author=actor,
        payload={"user": _person(gone) if gone else {"id": member.user_id}},
    )
    # After commit the member's live sockets leave the room at once.
    events.publish(session, LEFT_KIND, {"room_id": room_id, "user_id": member.user_id})


def remove_member(session: Session, *, room_id: int, user: User, member_user_id: int, ip: str | None) -> None:
    room = get_room(session, room_id)
    _require_owner(session, room=room, user=user)
    if member_user_id == user.id:
        raise Problem(409, "Conflict", "The owner cannot remove themselves.", code="owner-stays")
    seq = _next_seq(session, room_id)
    member = member_row(session, room_id=room_id, user_id=member_user_id)
    if member is None or member.status not in (MemberStatus.active, MemberStatus.invited):
        session.rollback()
        raise Problem(404, "Not Found", "No such member.", code="not-found")
    _end_membership(
        session, room_id=room_id, seq=seq, member=member, status=MemberStatus.removed, actor=user, ip=ip
    )
    session.commit()


def leave(session: Session, *, room_id: int, user: User, ip: str | None) -> None:
    member = require_member(session, room_id=room_id, user=user)
    if member.role == MemberRole.owner:
        raise Problem(409, "Conflict", "The owner closes the room instead of leaving.", code="owner-stays")
    seq = _next_seq(session, room_id)
    session.refresh(member)
    _end_membership(
        session, room_id=room_id, seq=seq, member=member, status=MemberStatus.left, actor=user, ip=ip
    )
    session.commit()


def mark_read(session: Session, *, room_id: int, user: User, seq: int) -> int:
    member = require_member(session, room_id=room_id, user=user)
    session.execute(
        update(WarRoomMember)
        .where(col(WarRoomMember.id) == member.id, col(WarRoomMember.last_read_seq) < seq)
        .values(last_read_seq=min(seq, last_seq(session, room_id)))
    )
    session.commit()
    session.refresh(member)
    return member.last_read_seq


# --- targets, opportunities, tasks -----------------------------------------------------------------


def _target_public(target: WarRoomTarget, customer_name: str | None) -> dict[str, Any]:
    return {
        "id": target.id,
        "customer_id": target.customer_id,
        "name": customer_name if target.customer_id else target.prospect_name,
        "prospect": target.customer_id is None,
        "stage": target.stage,
        "amount_cents": target.amount_cents,
        "added_by": target.added_by,  # who may take it off besides the owner
        "version": target.version,
        "updated_at": iso(target.updated_at),
    }


def _add_target_row(
    session: Session,
    *,
    room: WarRoom,
    user: User,
    customer: Customer | None,
    prospect_name: str | None,
    amount_cents: int,
    ip: str | None,
    client_id: str | None,
    seq: int | None = None,
) -> WarRoomTarget:
    room_id: int = room.id  # type: ignore[assignment]
    if customer is not None:
        dup = session.exec(
            select(WarRoomTarget.id).where(
                WarRoomTarget.room_id == room_id, WarRoomTarget.customer_id == customer.id
            )
        ).first()
        if dup is not None:
            raise Problem(409, "Conflict", "This customer is already a target.", code="duplicate-target")
    target = WarRoomTarget(
        room_id=room_id,
        customer_id=customer.id if customer else None,
        prospect_name=prospect_name,
        amount_cents=amount_cents,
        added_by=row_id(user),
    )  # type: ignore[arg-type]
    session.add(target)
    session.flush()
    if customer is not None:
        for member_id in active_member_ids(session, room_id):
            _grant(session, room_id=room_id, user_id=member_id, customer=customer, actor_id=user.id, ip=ip)
    _append(
        session,
        room_id=room_id,
        seq=seq or _next_seq(session, room_id),
        kind="target.added",
        author=user,
        client_id=client_id,
        payload={"target": _target_public(target, customer.name if customer else None)},
    )
    return target


def add_target(
    session: Session, *, room_id: int, user: User, data: TargetIn, ip: str | None
) -> dict[str, Any]:
    room = _open_room_of_member(session, room_id=room_id, user=user, write=True)
    seq = _next_seq(session, room_id)
    existing = _existing_event(session, room_id=room_id, client_id=data.client_id)
    if existing is not None:
        session.rollback()
        return existing.payload["target"]
    customer = None
    if data.customer_id is not None:
        customer = session.get(Customer, data.customer_id)
        # From a member's book, or one the caller may see; otherwise as if it did not exist.
        if customer is None or customer.owner_id not in active_member_ids(session, room_id):
            customer = get_customer_for(session, user=user, customer_id=data.customer_id)
    target = _add_target_row(
        session,
        room=room,
        user=user,
        customer=customer,
        prospect_name=data.prospect_name,
        amount_cents=data.amount_cents,
        ip=ip,
        client_id=data.client_id,
        seq=seq,
    )
    session.commit()
    return _target_public(target, customer.name if customer else None)


def _begin_board_change(
    session: Session, *, room_id: int, user: User, client_id: str | None, key: str
) -> tuple[int, dict[str, Any] | None]:
    """A member's change to an open room: locks the room by taking its next seq, and returns the
    first result instead when this client id was already applied (an idempotent re-send)."""
    _open_room_of_member(session, room_id=room_id, user=user, write=True)
    seq = _next_seq(session, room_id)
    existing = _existing_event(session, room_id=room_id, client_id=client_id)
    if existing is not None:
        session.rollback()
        return seq, existing.payload[key]
    return seq, None


def update_target(session: Session, *, room_id: int, user: User, data: TargetUpdate) -> dict[str, Any]:
    seq, resent = _begin_board_change(
        session, room_id=room_id, user=user, client_id=data.client_id, key="target"
    )
    if resent is not None:
        return resent
    target = session.get(WarRoomTarget, data.target_id) if data.target_id else None
    if target is None or target.room_id != room_id:
        session.rollback()
        raise Problem(404, "Not Found", "No such target in this room.", code="not-found")
    session.refresh(target)
    customer = session.get(Customer, target.customer_id) if target.customer_id else None
    if data.version is not None and data.version != target.version:
        current = _target_public(target, customer.name if customer else None)
        session.rollback()
        raise _stale("target", current)
    before = target.stage
    if data.stage is not None:
        target.stage = data.stage
    if data.amount_cents is not None:
        target.amount_cents = data.amount_cents
    target.version += 1
    target.updated_at = utcnow()
    session.add(target)
    public = _target_public(target, customer.name if customer else None)
    _append(
        session,
        room_id=room_id,
        seq=seq,
        kind="target.updated",
        author=user,
        client_id=data.client_id,
        payload={"target": public, "from_stage": before},
    )
    session.commit()
    return public


def remove_target(
    session: Session, *, room_id: int, user: User, data: TargetRemove, ip: str | None
) -> dict[str, Any]:
    """Takes a target off the list: the owner, or the member who added it. A customer target's
    grants through this room end with it (audited), and the change is numbered like any other."""
    seq, resent = _begin_board_change(
        session, room_id=room_id, user=user, client_id=data.client_id, key="target"
    )
    if resent is not None:
        return resent
    target = session.get(WarRoomTarget, data.target_id)
    if target is None or target.room_id != room_id:
        session.rollback()
        raise Problem(404, "Not Found", "No such target in this room.", code="not-found")
    session.refresh(target)
    me = active_member(session, room_id=room_id, user_id=user.id)  # type: ignore[arg-type]
    if target.added_by != user.id and (me is None or me.role != MemberRole.owner):
        session.rollback()
        raise forbidden("Only the room's owner or the member who added a target may remove it.")
    customer = session.get(Customer, target.customer_id) if target.customer_id else None
    public = _target_public(target, customer.name if customer else None)
    if data.version is not None and data.version != target.version:
        session.rollback()
        raise _stale("target", public)
    session.delete(target)
    if customer is not None:
        _revoke(
            session,
            room_id=room_id,
            user_id=None,
            actor_id=user.id,
            ip=ip,
            reason="target_removed",
            customer_id=customer.id,
        )
        audit.record(
            session,
            actor_id=user.id,
            action="warroom.untarget",
            object_type="customer",
            object_id=customer.id,
            ip=ip,
            detail={"room_id": room_id},
        )
    _append(
        session,
        room_id=room_id,
        seq=seq,
        kind="target.removed",
        author=user,
        client_id=data.client_id,
        payload={"target": public},
    )
    session.commit()
    return public


def _add_opportunity(
    session: Session, *, room_id: int, user: User, opportunity_id: int, seq: int | None
) -> None:
    opp = session.get(Opportunity, opportunity_id)
    session.add(WarRoomOpportunity(room_id=room_id, opportunity_id=opportunity_id, linked_by=user.id))  # type: ignore[arg-type]
    _append(
        session,
        room_id=room_id,
        seq=seq or _next_seq(session, room_id),
        kind="opportunity.linked",
        author=user,
        payload={"opportunity_id": opportunity_id, "title": opp.title if opp else None},
    )


def link_opportunity(session: Session, *, room_id: int, user: User, opportunity_id: int) -> None:
    _open_room_of_member(session, room_id=room_id, user=user, write=True)
    opportunity_access.get_for(session, user=user, opportunity_id=opportunity_id)  # one the linker may see
    seq = _next_seq(session, room_id)
    if session.get(WarRoomOpportunity, (room_id, opportunity_id)) is not None:
        session.rollback()
        return
    _add_opportunity(session, room_id=room_id, user=user, opportunity_id=opportunity_id, seq=seq)
    session.commit()


def _task_public(task: WarRoomTask, names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": task.id,
        "item": task.item,
        "assignee": {"id": task.assignee_id, "display_name": names.get(task.assignee_id, "")}  # type: ignore[arg-type]
        if task.assignee_id
        else None,
        "due_on": task.due_on.isoformat() if task.due_on else None,
        "status": task.status,
        "version": task.version,
        "updated_at": iso(task.updated_at),
    }


def _check_assignee(session: Session, room_id: int, assignee_id: int | None) -> dict[int, str]:
    if assignee_id is None:
        return {}
    if active_member(session, room_id=room_id, user_id=assignee_id) is None:
        session.rollback()
        raise Problem(
            422,
            "Unprocessable Content",
            "The assignee must be a member of the room.",
            code="validation",
            errors=[{"field": "assignee_id", "message": "not a member"}],
        )
    assignee = session.get(User, assignee_id)
    return {assignee_id: assignee.display_name if assignee else ""}


def create_task(session: Session, *, room_id: int, user: User, data: TaskIn) -> dict[str, Any]:
    seq, resent = _begin_board_change(
        session, room_id=room_id, user=user, client_id=data.client_id, key="task"
    )
    if resent is not None:
        return resent
    names = _check_assignee(session, room_id, data.assignee_id)
    task = WarRoomTask(
        room_id=room_id,
        item=data.item.strip(),
        assignee_id=data.assignee_id,
        due_on=data.due_on,
        status=data.status,
        created_by=row_id(user),
    )  # type: ignore[arg-type]
    session.add(task)
    session.flush()
    public = _task_public(task, names)
    _append(
        session,
        room_id=room_id,
        seq=seq,
        kind="task.created",
        author=user,
        client_id=data.client_id,
        payload={"task": public},
    )
    session.commit()
    return public


def update_task(session: Session, *, room_id: int, user: User, data: TaskUpdate) -> dict[str, Any]:
    seq, resent = _begin_board_change(
        session, room_id=room_id, user=user, client_id=data.client_id, key="task"
    )
    if resent is not None:
        return resent
    task = session.get(WarRoomTask, data.task_id) if data.task_id else None
    if task is None or task.room_id != room_id:
        session.rollback()
        raise Problem(404, "Not Found", "No such task in this room.", code="not-found")
    session.refresh(task)
    fields = data.model_dump(exclude_unset=True, exclude={"task_id", "version", "client_id"})
    assignee_id = fields.get("assignee_id", task.assignee_id)
    names = _check_assignee(session, room_id, assignee_id)
    if data.version is not None and data.version != task.version:
        current = _task_public(task, names)
        session.rollback()
        raise _stale("task", current)
    before = task.status
    for name, value in fields.items():
        setattr(task, name, value)
    task.version += 1
    task.updated_at = utcnow()
    session.add(task)
    public = _task_public(task, names)
    _append(
        session,
        room_id=room_id,
        seq=seq,
        kind="task.updated",
        author=user,
        client_id=data.client_id,
        payload={"task": public, "from_status": before},
    )
    session.commit()
    return public


# --- chat ------------------------------------------------------------------------------------------


def _card(session: Session, *, room_id: int, user: User, kind: str, object_id: int) -> dict[str, Any]:
    """What a chat card shows: checked against what the sender may see (a customer from their book
    or shared with them, any product, an opportunity they can see or that is linked to the room)."""
    if kind == "customer":
        customer = get_customer_for(session, user=user, customer_id=object_id)
        subtitle = industry_name(customer.industry_code) or customer.industry_code
        return {"type": kind, "id": object_id, "title": customer.name, "subtitle": subtitle}
    if kind == "product":
        product = session.get(Product, object_id)
        if product is None:
            raise Problem(404, "Not Found", "No such product.", code="not-found")
        return {"type": kind, "id": object_id, "title": product.name, "subtitle": product.category}
    opp = session.get(Opportunity, object_id)
    linked = session.get(WarRoomOpportunity, (room_id, object_id)) is not None
    if opp is None or not (linked or opportunity_access.can_view(session, user=user, opp=opp)):
        raise Problem(404, "Not Found", "No such opportunity.", code="not-found")
    return {"type": kind, "id": object_id, "title": opp.title, "subtitle": opp.status}


def check_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise Problem(
            422,
            "Unprocessable Content",
            "A message needs text.",
            code="validation",
            errors=[{"field": "text", "message": "empty"}],
        )
    if len(text.encode()) > MAX_TEXT_BYTES:
        raise Problem(
            413, "Content Too Large", f"A message is at most {MAX_TEXT_BYTES} bytes.", code="too-large"
        )
    return text


def post_message(
    session: Session, *, room_id: int, user: User, data: MessageIn
) -> tuple[dict[str, Any], bool]:
    """Stores one chat message; returns (event, created). A re-sent client_id returns the first one."""
    text = check_text(data.text)
    room = _open_room_of_member(session, room_id=room_id, user=user)
    cards = [
        _card(session, room_id=room_id, user=user, kind=c.type.value, object_id=c.id) for c in data.cards
    ]
    mentions = _active_among(session, room_id, list(dict.fromkeys(data.mentions)))
    seq = _next_seq(session, room_id)
    existing = _existing_event(session, room_id=room_id, client_id=data.client_id)
    if existing is not None:
        session.rollback()
        return _replayed(session, existing)
    event = _append(
        session,
        room_id=room_id,
        seq=seq,
        kind="message",
        author=user,
        client_id=data.client_id,
        payload={"text": text, "mentions": mentions, "cards": cards},
    )
    for mentioned in mentions:
        if mentioned != user.id:
            _notify(
                session,
                user_id=mentioned,
                room=room,
                title=f"{user.display_name} 在作战室提到了你",
                body=f"「{room.title}」:{text[:200]}",
                key=f"mention:{seq}",
            )
    session.commit()
    return serialize_event(event, user), True


def post_system_message(
    session: Session, *, room_id: int, text: str, client_id: str | None = None
) -> tuple[dict[str, Any], bool]:
    """A message from the bank's systems (an intel alert, a reminder), posted by a background job."""
    text = check_text(text)
    get_room(session, room_id)
    seq = _next_seq(session, room_id)
    existing = _existing_event(session, room_id=room_id, client_id=client_id)
    if existing is not None:
        session.rollback()
        return _replayed(session, existing)
    event = _append(
        session,
        room_id=room_id,
        seq=seq,
        kind="system",
        author=None,
        client_id=client_id,
        payload={"text": text},
    )
    session.commit()
    return serialize_event(event, None), True


# --- reading ---------------------------------------------------------------------------------------


def _progress(session: Session, rooms: list[WarRoom]) -> dict[int, dict[str, Any]]:
    ids = [r.id for r in rooms]
    out: dict[int, dict[str, Any]] = {}
    if not ids:
        return out
    won = case((col(WarRoomTarget.stage) == TargetStage.won, 1), else_=0)
    targets = {
        room_id: (total, won_count, won_amount)
        for room_id, total, won_count, won_amount in session.exec(
            select(
                WarRoomTarget.room_id,
                func.count(),
                func.sum(won),
                func.sum(
                    case((col(WarRoomTarget.stage) == TargetStage.won, WarRoomTarget.amount_cents), else_=0)
                ),
            )
            .where(col(WarRoomTarget.room_id).in_(ids))
            .group_by(col(WarRoomTarget.room_id))
        ).all()
    }
    done = case((col(WarRoomTask.status) == TaskStatus.done, 1), else_=0)
    tasks = {
        room_id: (total, done_count)
        for room_id, total, done_count in session.exec(
            select(WarRoomTask.room_id, func.count(), func.sum(done))
            .where(col(WarRoomTask.room_id).in_(ids))
            .group_by(col(WarRoomTask.room_id))
        ).all()
    }
    for room in rooms:
        t_total, t_won, amount = targets.get(room.id, (0, 0, 0))  # type: ignore[arg-type]
        k_total, k_done = tasks.get(room.id, (0, 0))  # type: ignore[arg-type]
        amount, t_won = int(amount or 0), int(t_won or 0)
        parts = []
        if room.goal_amount_cents:
            parts.append(min(amount / room.goal_amount_cents, 1.0))
        if room.goal_customers:
            parts.append(min(t_won / room.goal_customers, 1.0))
        out[room.id] = {  # type: ignore[index]
            "won_amount_cents": amount,
            "won_customers": t_won,
            "targets": int(t_total),
            "tasks_done": int(k_done or 0),
            "tasks": int(k_total),
            "percent": round(100 * sum(parts) / len(parts)) if parts else None,
        }
    return out


def room_summary(room: WarRoom, progress: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": room.id,
        "title": room.title,
        "kind": room.kind,
        "mode": room.mode,
        "status": room.status,
        "goal_amount_cents": room.goal_amount_cents,
        "goal_customers": room.goal_customers,
        "deadline": room.deadline.isoformat() if isinstance(room.deadline, date) else None,
        "owner_id": room.owner_id,
        "source": {"type": room.source_type, "id": room.source_id, "title": room.source_title}
        if room.source_type
        else None,
        "last_seq": room.last_seq,
        "version": room.version,
        "progress": progress,
        "updated_at": iso(room.updated_at),
        **extra,
    }


def list_rooms(session: Session, *, user: User, scope: RoomScope) -> list[dict[str, Any]]:
    if scope == RoomScope.team:
        return board(session, user=user)
    status = MemberStatus.active if scope == RoomScope.mine else MemberStatus.invited
    rows = session.exec(
        select(WarRoom, WarRoomMember)
        .join(WarRoomMember, col(WarRoomMember.room_id) == WarRoom.id)
        .where(WarRoomMember.user_id == user.id, WarRoomMember.status == status)
        .order_by(col(WarRoom.status), col(WarRoom.updated_at).desc(), col(WarRoom.id).desc())
    ).all()
    progress = _progress(session, [room for room, _ in rows])
    return [
        room_summary(
            room,
            progress[row_id(room)],
            my_role=member.role,  # type: ignore[index]
            unread=max(room.last_seq - member.last_read_seq, 0) if scope == RoomScope.mine else 0,
        )
        for room, member in rows
    ]


def board(session: Session, *, user: User) -> list[dict[str, Any]]:
    """The team lead's live board: every room of the teams they lead, with progress."""
    if user.role != Role.team_lead:
        raise forbidden("The live board is for team leads.")
    team_ids = select(Team.id).where(Team.lead_id == user.id)
    rooms = list(
        session.exec(
            select(WarRoom)
            .where(col(WarRoom.team_id).in_(team_ids))
            .order_by(col(WarRoom.status), col(WarRoom.updated_at).desc())
        ).all()
    )
    progress = _progress(session, rooms)
    counts = (
        dict(
            session.exec(
                select(WarRoomMember.room_id, func.count())
                .where(
                    col(WarRoomMember.room_id).in_([r.id for r in rooms]),
                    WarRoomMember.status == MemberStatus.active,
                )
                .group_by(col(WarRoomMember.room_id))
            ).all()
        )
        if rooms
        else {}
    )
    return [room_summary(r, progress[row_id(r)], members=counts.get(row_id(r), 0)) for r in rooms]


def room_detail(session: Session, *, room_id: int, user: User) -> dict[str, Any]:
    room = get_room(session, room_id)
    if not can_view(session, room=room, user=user):
        raise not_a_member()
    me = member_row(session, room_id=room_id, user_id=user.id)  # type: ignore[arg-type]
    members = session.exec(
        select(WarRoomMember, User)
        .join(User, col(User.id) == WarRoomMember.user_id)
        .where(
            WarRoomMember.room_id == room_id,
            col(WarRoomMember.status).in_([MemberStatus.active, MemberStatus.invited]),
        )
        .order_by(col(WarRoomMember.id))
    ).all()
    names = {u.id: u.display_name for _, u in members}
    active = me is not None and me.status == MemberStatus.active
    out = room_summary(
        room,
        _progress(session, [room])[room_id],
        my_role=me.role if me else None,
        my_status=me.status if me else None,
        unread=max(room.last_seq - me.last_read_seq, 0) if me is not None and active else 0,
    )
    out["members"] = [
        {
            "user": {"id": u.id, "display_name": u.display_name},
            "role": m.role,
            "status": m.status,
            "branch_id": u.branch_id,
        }
        for m, u in members
    ]
    if not active and not _leads_team(session, user=user, team_id=room.team_id):
        return out  # an invitee sees the room's outline before accepting
    targets = session.exec(
        select(WarRoomTarget, Customer.name)
        .join(Customer, col(Customer.id) == WarRoomTarget.customer_id, isouter=True)
        .where(WarRoomTarget.room_id == room_id)
        .order_by(col(WarRoomTarget.id))
    ).all()
    out["targets"] = [_target_public(t, name) for t, name in targets]
    tasks = session.exec(
        select(WarRoomTask).where(WarRoomTask.room_id == room_id).order_by(col(WarRoomTask.id))
    ).all()
    extra_names = {t.assignee_id for t in tasks if t.assignee_id and t.assignee_id not in names}
    if extra_names:
        names.update(
            {
                u.id: u.display_name
                for u in session.exec(select(User).where(col(User.id).in_(extra_names))).all()
            }
        )
    out["tasks"] = [_task_public(t, names) for t in tasks]  # type: ignore[arg-type]
    linked = session.exec(
        select(WarRoomOpportunity.opportunity_id, Opportunity.title, Opportunity.status)
        .join(Opportunity, col(Opportunity.id) == WarRoomOpportunity.opportunity_id, isouter=True)
        .where(WarRoomOpportunity.room_id == room_id)
        .order_by(col(WarRoomOpportunity.linked_at))
    ).all()
    out["opportunity_ids"] = [opp_id for opp_id, _, _ in linked]
    out["opportunities"] = [{"id": i, "title": title, "status": status} for i, title, status in linked]
    return out


def rooms_of_user(session: Session, *, user_id: int) -> list[int]:
    return list(
        session.exec(
            select(WarRoomMember.room_id).where(
                WarRoomMember.user_id == user_id, WarRoomMember.status == MemberStatus.active
            )
        ).all()
    )


def find_people(session: Session, *, q: str, limit: int = 20) -> list[dict[str, Any]]:
    """Colleagues to invite (RMs and team leads), by name or username."""
    pattern = f"%{q.strip()}%"
    rows = session.exec(
        select(User)
        .where(
            col(User.role).in_(PLAYERS),
            col(User.is_active).is_(True),
            col(User.display_name).like(pattern) | col(User.username).like(pattern),
        )
        .order_by(col(User.display_name))
        .limit(limit)
    ).all()
    return [{**_person(u), "role": u.role, "branch_id": u.branch_id} for u in rows]
