"""Rooms: opening (also 快速搭建), changing and closing them, and reading them (lists, the lead's live board, the detail)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import case
from sqlmodel import Session, col, func, select

from server.audit import service as audit
from server.customers.models import Customer
from server.customers.service import get_customer_for
from server.db import row_id
from server.errors import Problem, forbidden
from server.intel import alerts as intel_alerts
from server.intel.models import IntelItem
from server.opportunities import access as opportunity_access
from server.opportunities.models import Opportunity
from server.org.models import RmProfile, Role, Team, User
from server.products.models import Product
from server.timeutil import iso, utcnow
from server.warrooms.access import (
    PLAYERS,
    active_member_ids,
    can_view,
    get_room,
    grant_customer,
    leads_team,
    member_row,
    not_a_member,
    person,
    player,
    require_owner,
    revoke_grants,
    room_customers,
    stale_version,
)
from server.warrooms.board import add_opportunity, add_target_row, target_public, task_public
from server.warrooms.eventlog import append, next_seq, record
from server.warrooms.membership import add_member, invite_users
from server.warrooms.models import (
    MemberRole,
    MemberStatus,
    RoomMode,
    RoomStatus,
    TargetStage,
    TaskStatus,
    WarRoom,
    WarRoomMember,
    WarRoomOpportunity,
    WarRoomTarget,
    WarRoomTask,
)
from server.warrooms.outcome import settle
from server.warrooms.schemas import (
    QuickCreate,
    QuickSource,
    RoomCreate,
    RoomScope,
    RoomUpdate,
)


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
        owner_id=row_id(user),
        branch_id=user.branch_id,
        team_id=user.team_id,
        source_type=source[0] if source else None,
        source_id=source[1] if source else None,
        source_title=source[2][:128] if source else None,
    )
    session.add(room)
    session.flush()
    room_id = row_id(room)
    add_member(
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
    record(
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
    # The owner's team lead follows the room as an observer (the lead's live live_board).
    team = session.get(Team, user.team_id) if user.team_id else None
    if team is not None and team.lead_id and team.lead_id != user.id:
        lead = player(session, team.lead_id)
        if lead is not None:
            add_member(
                session,
                room=room,
                user=lead,
                role=MemberRole.observer,
                status=MemberStatus.active,
                invited_by=user.id,
            )
            record(
                session,
                room_id=room_id,
                kind="member.joined",
                author=None,
                payload={"user": person(lead), "role": MemberRole.observer},
            )
    for customer in customers:
        add_target_row(
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
        add_opportunity(session, room_id=room_id, user=user, opportunity_id=opportunity_id, seq=None)
    invite_users(session, room=room, user=user, user_ids=data.invite_user_ids, role=MemberRole.member, ip=ip)
    session.commit()
    session.refresh(room)
    return room


def suggest_members(
    session: Session, *, user: User, customer: Customer | None, product: Product | None
) -> list[dict[str, Any]]:
    """The customer's RM and the product experts: RMs of the branch holding the product's
    qualification (a branch has tens of RMs, so the JSON list is filtered here)."""
    out: dict[int, dict[str, Any]] = {}
    if customer is not None and customer.owner_id != user.id:
        owner = player(session, customer.owner_id)
        if owner is not None:
            out[row_id(owner)] = {**person(owner), "reason": "customer_rm", "role": MemberRole.member}
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
                    **person(expert),
                    "reason": "product_expert",
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
        alert = intel_alerts.get_alert_for(session, user=user, alert_id=data.source_id)
        item = session.get(IntelItem, alert.item_id)
        customer_id = customer_id or alert.customer_id
        default_title = item.title if item is not None else None
    customer = get_customer_for(session, user=user, customer_id=customer_id) if customer_id else None
    product = session.get(Product, product_id) if product_id else None
    if product_id and product is None:
        raise Problem(404, "Not Found", "No such product.", code="not-found")
    if data.source_type == QuickSource.intel_alert and customer is not None and default_title:
        default_title = f"{customer.name}：{default_title}"
    customer_name = customer.name if customer is not None else ""
    title = (data.title or default_title or f"{customer_name} 作战室".strip())[:128]
    source_title = customer_name if data.source_type == QuickSource.customer else title
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
        ),
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
    require_owner(session, room=room, user=user)
    seq = next_seq(session, room_id)
    session.refresh(room)
    if expected_version is not None and room.version != expected_version:
        version = room.version
        session.rollback()
        raise stale_version("room", {"version": version})
    changes = data.model_dump(exclude_unset=True, exclude={"version"}, mode="json")
    for name, value in data.model_dump(exclude_unset=True, exclude={"version"}).items():
        setattr(room, name, value)
    room.version += 1
    room.updated_at = utcnow()
    session.add(room)
    if data.status is not None and data.status != RoomStatus.active:
        revoke_grants(session, room_id=room_id, user_id=None, actor_id=user.id, ip=ip, reason="room_closed")
        settle(session, room=room, actor_id=row_id(user), ip=ip)  # the shared opportunities it won
    elif data.status == RoomStatus.active:  # reopened: members see the targets again
        for member_id in active_member_ids(session, room_id):
            for customer in room_customers(session, room_id):
                grant_customer(
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
    append(
        session,
        room_id=room_id,
        seq=seq,
        kind="room.updated",
        author=user,
        payload={**changes, "version": room.version},
    )
    session.commit()
    return room


def room_progress(session: Session, rooms: list[WarRoom]) -> dict[int, dict[str, Any]]:
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
        t_total, t_won, amount = targets.get(row_id(room), (0, 0, 0))
        k_total, k_done = tasks.get(row_id(room), (0, 0))
        amount, t_won = int(amount or 0), int(t_won or 0)
        parts = []
        if room.goal_amount_cents:
            parts.append(min(amount / room.goal_amount_cents, 1.0))
        if room.goal_customers:
            parts.append(min(t_won / room.goal_customers, 1.0))
        out[row_id(room)] = {
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
        return live_board(session, user=user)
    status = MemberStatus.active if scope == RoomScope.mine else MemberStatus.invited
    rows = session.exec(
        select(WarRoom, WarRoomMember)
        .join(WarRoomMember, col(WarRoomMember.room_id) == WarRoom.id)
        .where(WarRoomMember.user_id == user.id, WarRoomMember.status == status)
        .order_by(col(WarRoom.status), col(WarRoom.updated_at).desc(), col(WarRoom.id).desc())
    ).all()
    progress = room_progress(session, [room for room, _ in rows])
    return [
        room_summary(
            room,
            progress[row_id(room)],
            my_role=member.role,
            unread=max(room.last_seq - member.last_read_seq, 0) if scope == RoomScope.mine else 0,
        )
        for room, member in rows
    ]


def live_board(session: Session, *, user: User) -> list[dict[str, Any]]:
    """The team lead's live live_board: every room of the teams they lead, with progress."""
    if user.role != Role.team_lead:
        raise forbidden("The live live_board is for team leads.")
    team_ids = select(Team.id).where(Team.lead_id == user.id)
    rooms = list(
        session.exec(
            select(WarRoom)
            .where(col(WarRoom.team_id).in_(team_ids))
            .order_by(col(WarRoom.status), col(WarRoom.updated_at).desc())
        ).all()
    )
    progress = room_progress(session, rooms)
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
    me = member_row(session, room_id=room_id, user_id=row_id(user))
    members = session.exec(
        select(WarRoomMember, User)
        .join(User, col(User.id) == WarRoomMember.user_id)
        .where(
            WarRoomMember.room_id == room_id,
            col(WarRoomMember.status).in_([MemberStatus.active, MemberStatus.invited]),
        )
        .order_by(col(WarRoomMember.id))
    ).all()
    names = {row_id(u): u.display_name for _, u in members}
    active = me is not None and me.status == MemberStatus.active
    out = room_summary(
        room,
        room_progress(session, [room])[room_id],
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
    if not active and not leads_team(session, user=user, team_id=room.team_id):
        return out  # an invitee sees the room's outline before accepting
    targets = session.exec(
        select(WarRoomTarget, Customer)
        .join(Customer, col(Customer.id) == WarRoomTarget.customer_id, isouter=True)
        .where(WarRoomTarget.room_id == room_id)
        .order_by(col(WarRoomTarget.id))
    ).all()
    out["targets"] = []
    for target, customer in targets:
        public = target_public(target, customer)
        # A pending request's customer is named only to its RM (who decides) and to the requester
        # (who could already see it).
        if customer is not None and user.id in (customer.owner_id, target.added_by):
            public["name"] = customer.name
        out["targets"].append(public)
    tasks = session.exec(
        select(WarRoomTask).where(WarRoomTask.room_id == room_id).order_by(col(WarRoomTask.id))
    ).all()
    extra_names = {t.assignee_id for t in tasks if t.assignee_id and t.assignee_id not in names}
    if extra_names:
        names.update(
            {
                row_id(u): u.display_name
                for u in session.exec(select(User).where(col(User.id).in_(extra_names))).all()
            }
        )
    out["tasks"] = [task_public(t, names) for t in tasks]
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
    return [{**person(u), "role": u.role, "branch_id": u.branch_id} for u in rows]
