"""The campaign board (作战看板): targets by stage with counts and amounts, assignment of targets to
members, each member's progress, the goal against what is won, and a daily summary in the timeline.

Moving or assigning many targets at once is one event per target (`target.updated`,
`target.assigned`) with contiguous seqs taken under the room's lock, so a replay of the timeline
rebuilds the board exactly; the client's key (a `war_room_bulk` row) makes a retry change nothing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from server.customers.models import Customer, CustomerVisit
from server.db import row_id
from server.errors import conflict, unprocessable
from server.org.models import User
from server.timeutil import utcnow
from server.warrooms.access import (
    get_room,
    open_room_of_member,
    require_member,
    require_owner,
)
from server.warrooms.board import target_public
from server.warrooms.campaign_schemas import AssignIn, AssignStrategy, MoveIn
from server.warrooms.campaigns import lock_room, take_seqs
from server.warrooms.eventlog import append, existing_event, next_seq, store_many
from server.warrooms.models import (
    MemberRole,
    MemberStatus,
    RoomStatus,
    TargetConsent,
    TargetStage,
    WarRoom,
    WarRoomBulk,
    WarRoomMember,
    WarRoomTarget,
)

STAGES = list(TargetStage)
BANK_ZONE = ZoneInfo("Asia/Shanghai")  # the room's "today" for its daily summary


def board(session: Session, *, room_id: int, user: User) -> dict[str, Any]:
    """Counts and amounts per stage, each member's load and results, and the goal against the won."""
    require_member(session, room_id=room_id, user=user)
    return figures(session, room=get_room(session, room_id))


def figures(session: Session, *, room: WarRoom) -> dict[str, Any]:
    """The board's figures (callers check access; the daily job is the system)."""
    room_id = row_id(room)
    by_stage = {
        stage: (int(n), int(amount or 0))
        for stage, n, amount in session.exec(
            select(WarRoomTarget.stage, func.count(), func.sum(WarRoomTarget.amount_cents))
            .where(WarRoomTarget.room_id == room_id)
            .group_by(col(WarRoomTarget.stage))
        ).all()
    }
    pending = session.exec(
        select(func.count()).where(
            WarRoomTarget.room_id == room_id, WarRoomTarget.consent == TargetConsent.pending
        )
    ).one()
    per_member: dict[int | None, dict[str, int]] = defaultdict(
        lambda: {"targets": 0, "reached": 0, "won": 0, "won_amount_cents": 0}
    )
    for assignee, stage, n, amount in session.exec(
        select(
            WarRoomTarget.assignee_id, WarRoomTarget.stage, func.count(), func.sum(WarRoomTarget.amount_cents)
        )
        .where(WarRoomTarget.room_id == room_id)
        .group_by(col(WarRoomTarget.assignee_id), col(WarRoomTarget.stage))
    ).all():
        row = per_member[assignee]
        row["targets"] += int(n)
        if stage != TargetStage.to_contact:
            row["reached"] += int(n)
        if stage == TargetStage.won:
            row["won"] += int(n)
            row["won_amount_cents"] += int(amount or 0)
    members = session.exec(
        select(WarRoomMember, User)
        .join(User, col(User.id) == WarRoomMember.user_id)
        .where(WarRoomMember.room_id == room_id, WarRoomMember.status == MemberStatus.active)
        .order_by(col(WarRoomMember.id))
    ).all()
    won_n, won_amount = by_stage.get(TargetStage.won, (0, 0))
    return {
        "room_id": room_id,
        "kind": room.kind,
        "stages": [
            {"stage": s, "count": by_stage.get(s, (0, 0))[0], "amount_cents": by_stage.get(s, (0, 0))[1]}
            for s in STAGES
        ],
        "total": sum(n for n, _ in by_stage.values()),
        "pending": int(pending),
        "unassigned": per_member.get(None, {"targets": 0})["targets"],
        "members": [
            {"user": {"id": u.id, "display_name": u.display_name}, "role": m.role, **per_member[u.id]}
            for m, u in members
            if m.role != MemberRole.observer or per_member.get(u.id)
        ],
        "goal": {
            "amount_cents": room.goal_amount_cents,
            "customers": room.goal_customers,
            "won_amount_cents": won_amount,
            "won_customers": won_n,
        },
        "last_seq": room.last_seq,
    }


def _begin_bulk(
    session: Session, *, room_id: int, user: User, client_key: str, kind: str, label: str
) -> tuple[WarRoom, WarRoomBulk | None, dict[str, Any] | None]:
    """Locks the room and records the client's key; returns the first result on a retry."""
    room = open_room_of_member(session, room_id=room_id, user=user, write=True)
    lock_room(session, room_id)
    earlier = session.exec(
        select(WarRoomBulk).where(WarRoomBulk.room_id == room_id, WarRoomBulk.client_key == client_key)
    ).first()
    if earlier is not None:
        session.rollback()
        return room, None, {**earlier.result, "replayed": True}
    bulk = WarRoomBulk(
        room_id=room_id, client_key=client_key, source_type=kind, source_label=label, created_by=row_id(user)
    )
    session.add(bulk)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise conflict("The same change is being applied.", code="in-progress") from None
    return room, bulk, None


def _targets(session: Session, room_id: int, target_ids: list[int]) -> list[WarRoomTarget]:
    rows = session.exec(
        select(WarRoomTarget)
        .where(WarRoomTarget.room_id == room_id, col(WarRoomTarget.id).in_(target_ids))
        .order_by(col(WarRoomTarget.id))
        .execution_options(populate_existing=True)  # read under the room's lock, not from the session
    ).all()
    return list(rows)


def _emit(
    session: Session,
    *,
    room_id: int,
    user: User,
    bulk: WarRoomBulk,
    changes: list[tuple[WarRoomTarget, dict[str, Any]]],
    kind: str,
) -> tuple[int | None, int | None]:
    """One event per changed target, numbered contiguously."""
    if not changes:
        return None, None
    first = take_seqs(session, room_id, len(changes))
    ids = [t.customer_id for t, _ in changes if t.customer_id]
    customers = (
        {c.id: c for c in session.exec(select(Customer).where(col(Customer.id).in_(ids))).all()}
        if ids
        else {}
    )
    items = [
        (
            kind,
            {
                "target": target_public(t, customers.get(t.customer_id) if t.customer_id else None),
                "bulk_id": bulk.id,
                **extra,
            },
        )
        for t, extra in changes
    ]
    store_many(session, room_id=room_id, first_seq=first, items=items, author=user)
    return first, first + len(changes) - 1


def move_targets(session: Session, *, room_id: int, user: User, data: MoveIn) -> dict[str, Any]:
    """Moves the given targets to one stage: one `target.updated` per target that changes. Pending
    requests (no consent yet) and targets already there are left alone and counted."""
    _room, bulk, replay = _begin_bulk(
        session, room_id=room_id, user=user, client_key=data.client_key, kind="move", label=data.stage
    )
    if replay is not None:
        return replay
    assert bulk is not None
    rows = _targets(session, room_id, data.target_ids)
    now = utcnow()
    changes: list[tuple[WarRoomTarget, dict[str, Any]]] = []
    pending = 0
    for target in rows:
        if target.consent == TargetConsent.pending:
            pending += 1
            continue
        if target.stage == data.stage:
            continue
        before = target.stage
        target.stage = data.stage
        target.version += 1
        target.updated_at = now
        session.add(target)
        changes.append((target, {"from_stage": before}))
    first, last = _emit(
        session, room_id=room_id, user=user, bulk=bulk, changes=changes, kind="target.updated"
    )
    bulk.first_seq, bulk.last_seq = first, last
    bulk.result = {
        "moved": len(changes),
        "unchanged": len(rows) - len(changes) - pending,
        "pending": pending,
        "missing": len(set(data.target_ids)) - len(rows),
        "stage": data.stage,
        "first_seq": first,
        "last_seq": last,
    }
    session.add(bulk)
    session.commit()
    return {**bulk.result, "replayed": False}


def _knowers(session: Session, customer_ids: list[int], members: list[int]) -> dict[int, int]:
    """Who in the room knows each customer: its own RM, else the member who visited it last."""
    if not customer_ids:
        return {}
    out: dict[int, int] = {}
    for visit in session.exec(
        select(CustomerVisit)
        .where(col(CustomerVisit.customer_id).in_(customer_ids), col(CustomerVisit.rm_id).in_(members))
        .order_by(col(CustomerVisit.occurred_at))
    ).all():
        out[visit.customer_id] = visit.rm_id
    for cid, owner in session.exec(
        select(Customer.id, Customer.owner_id).where(col(Customer.id).in_(customer_ids))
    ).all():
        if owner in members and cid is not None:
            out[cid] = owner
    return out


def assign_targets(session: Session, *, room_id: int, user: User, data: AssignIn) -> dict[str, Any]:
    """The room's owner hands targets out: to the member with the fewest open targets (balanced), or
    to whoever knows the customer (its RM, a member who visited it), the rest balanced. One
    `target.assigned` event per target whose assignee changes."""
    room, bulk, replay = _begin_bulk(
        session, room_id=room_id, user=user, client_key=data.client_key, kind="assign", label=data.strategy
    )
    if replay is not None:
        return replay
    assert bulk is not None
    require_owner(session, room=room, user=user)
    players = [
        m.user_id
        for m in session.exec(
            select(WarRoomMember).where(
                WarRoomMember.room_id == room_id,
                WarRoomMember.status == MemberStatus.active,
                WarRoomMember.role != MemberRole.observer,
            )
        ).all()
    ]
    if data.member_ids:
        chosen = [m for m in players if m in set(data.member_ids)]
        if len(chosen) != len(set(data.member_ids)):
            session.rollback()
            raise unprocessable(
                "Targets go to active members of the room.",
                errors=[{"field": "member_ids", "message": "not all are active members"}],
            )
        players = chosen
    if data.target_ids:
        rows = _targets(session, room_id, data.target_ids)
    else:  # every unassigned target still open
        rows = list(
            session.exec(
                select(WarRoomTarget)
                .where(
                    WarRoomTarget.room_id == room_id,
                    col(WarRoomTarget.assignee_id).is_(None),
                    col(WarRoomTarget.stage).not_in([TargetStage.won, TargetStage.lost]),
                )
                .order_by(col(WarRoomTarget.id))
            ).all()
        )
    open_stages = [s for s in STAGES if s not in (TargetStage.won, TargetStage.lost)]
    moving = {t.id for t in rows}
    load: Counter[int] = Counter({p: 0 for p in players})
    for assignee, n in session.exec(
        select(WarRoomTarget.assignee_id, func.count())
        .where(
            WarRoomTarget.room_id == room_id,
            col(WarRoomTarget.assignee_id).in_(players),
            col(WarRoomTarget.stage).in_(open_stages),
            col(WarRoomTarget.id).not_in(moving) if moving else True,
        )
        .group_by(col(WarRoomTarget.assignee_id))
    ).all():
        if assignee is not None:
            load[assignee] = int(n)
    knowers = (
        _knowers(session, [t.customer_id for t in rows if t.customer_id], players)
        if data.strategy == AssignStrategy.knows
        else {}
    )
    order = {p: i for i, p in enumerate(players)}
    changes: list[tuple[WarRoomTarget, dict[str, Any]]] = []
    by_knowing = 0
    now = utcnow()
    for target in rows:
        if not players:
            break
        who = knowers.get(target.customer_id) if target.customer_id else None
        if who is not None:
            by_knowing += 1
        else:
            who = min(players, key=lambda p: (load[p], order[p]))
        load[who] += 1
        if target.assignee_id == who:
            continue
        before = target.assignee_id
        target.assignee_id = who
        target.version += 1
        target.updated_at = now
        session.add(target)
        changes.append((target, {"from_assignee": before}))
    first, last = _emit(
        session, room_id=room_id, user=user, bulk=bulk, changes=changes, kind="target.assigned"
    )
    bulk.first_seq, bulk.last_seq = first, last
    bulk.result = {
        "assigned": len(changes),
        "by_knowing": by_knowing,
        "load": {str(p): load[p] for p in players},
        "first_seq": first,
        "last_seq": last,
    }
    session.add(bulk)
    session.commit()
    return {**bulk.result, "replayed": False}


def room_day(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(BANK_ZONE).date()


def summary_text(board_now: dict[str, Any]) -> str:
    stages = {s["stage"]: s for s in board_now["stages"]}
    parts = [
        f"待接触 {stages['to_contact']['count']}",
        f"已拜访 {stages['contacted']['count']}",
        f"方案 {stages['negotiating']['count']}",
        f"审批 {stages['approval']['count']}",
        f"成交 {stages['won']['count']}",
        f"放弃 {stages['lost']['count']}",
    ]
    goal = board_now["goal"]
    won = f"已成交 {goal['won_amount_cents'] / 1_000_000:,.0f} 万元"
    if goal["amount_cents"]:
        won += f" / 目标 {goal['amount_cents'] / 1_000_000:,.0f} 万元"
    return f"今日作战看板：{' · '.join(parts)}。{won}。"


def post_daily_summary(session: Session, *, room_id: int, day: date) -> int | None:
    """The room's board of the day posted in its timeline (kind `campaign.summary`), once per room
    per day (the day is the event's client id). Returns its seq, or None for a closed room."""
    room = get_room(session, room_id)
    if room.status != RoomStatus.active:
        return None
    client_id = f"daily-summary:{day.isoformat()}"
    seq = next_seq(session, room_id)
    existing = existing_event(session, room_id=room_id, client_id=client_id)
    if existing is not None:
        session.rollback()
        return existing.seq
    full = figures(session, room=room)
    board_now = {k: full[k] for k in ("stages", "total", "pending", "unassigned", "goal")}
    append(
        session,
        room_id=room_id,
        seq=seq,
        kind="campaign.summary",
        payload={"text": summary_text(board_now), "day": day.isoformat(), "board": board_now},
        client_id=client_id,
        author=None,
    )
    session.commit()
    return seq


def rooms_for_summary(session: Session) -> list[int]:
    """Active rooms with at least one target: the ones a daily summary tells something."""
    return [
        int(r)
        for r in session.exec(
            select(WarRoom.id)
            .where(WarRoom.status == RoomStatus.active)
            .where(select(WarRoomTarget.id).where(WarRoomTarget.room_id == WarRoom.id).exists())
            .order_by(col(WarRoom.id))
        ).all()
        if r is not None
    ]
