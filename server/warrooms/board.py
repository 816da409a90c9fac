"""The board: target customers, linked opportunities and tasks. Every change is numbered like any other event."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session, select

from server.audit import service as audit
from server.customers.models import Customer
from server.customers.service import get_customer_for
from server.db import row_id
from server.errors import Problem, conflict, forbidden, unprocessable
from server.opportunities import access as opportunity_access
from server.opportunities.models import Opportunity
from server.org.models import User
from server.timeutil import iso, utcnow
from server.warrooms.access import (
    active_member,
    active_member_ids,
    grant_customer,
    limit_rate,
    open_room_of_member,
    revoke_grants,
    stale_version,
)
from server.warrooms.eventlog import append, existing_event, next_seq, notify
from server.warrooms.models import (
    MemberRole,
    TargetConsent,
    TargetStage,
    WarRoom,
    WarRoomOpportunity,
    WarRoomTarget,
    WarRoomTask,
)
from server.warrooms.schemas import (
    TargetIn,
    TargetRemove,
    TargetUpdate,
    TaskIn,
    TaskUpdate,
)


class TargetFields(Protocol):
    """What `target_public` reads: a stored target, or a row a bulk inserted without the ORM."""

    id: int | None
    customer_id: int | None
    prospect_name: str | None
    stage: TargetStage
    amount_cents: int
    added_by: int
    consent: TargetConsent
    source_note: str | None
    assignee_id: int | None
    version: int
    updated_at: datetime


def target_public(target: TargetFields, customer: Customer | None) -> dict[str, Any]:
    """What the room sees of a target. A pending request shows no customer detail: only its id (which
    the requester typed) and whose approval it awaits; `room_detail` shows its name to those two."""
    approved = target.consent == TargetConsent.approved
    return {
        "id": target.id,
        "customer_id": target.customer_id,
        "name": (customer.name if customer is not None and approved else None)
        if target.customer_id
        else target.prospect_name,
        "prospect": target.customer_id is None,
        "consent": target.consent,
        "owner_id": customer.owner_id if customer is not None else None,  # who approves a request
        "stage": target.stage,
        "amount_cents": target.amount_cents,
        "source_note": target.source_note,  # how a bulk source found it (the chain link, the list)
        "assignee_id": target.assignee_id,
        "added_by": target.added_by,  # who may take it off besides the owner
        "version": target.version,
        "updated_at": iso(target.updated_at),
    }


def add_target_row(
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
    room_id = row_id(room)
    if customer is not None:
        dup = session.exec(
            select(WarRoomTarget.id).where(
                WarRoomTarget.room_id == room_id, WarRoomTarget.customer_id == customer.id
            )
        ).first()
        if dup is not None:
            raise conflict("This customer is already a target.", code="duplicate-target")
    # Only the customer's own RM brings its data in; anyone else's addition is a request to that RM.
    pending = customer is not None and customer.owner_id != user.id
    target = WarRoomTarget(
        room_id=room_id,
        customer_id=customer.id if customer else None,
        prospect_name=prospect_name,
        amount_cents=amount_cents,
        added_by=row_id(user),
        consent=TargetConsent.pending if pending else TargetConsent.approved,
    )
    session.add(target)
    session.flush()
    if customer is not None and not pending:
        for member_id in active_member_ids(session, room_id):
            grant_customer(
                session, room_id=room_id, user_id=member_id, customer=customer, actor_id=user.id, ip=ip
            )
    added = append(
        session,
        room_id=room_id,
        seq=seq or next_seq(session, room_id),
        kind="target.added",
        author=user,
        client_id=client_id,
        payload={"target": target_public(target, customer)},
    )
    if customer is not None and pending:
        audit.record(
            session,
            actor_id=user.id,
            action="warroom.target_request",
            object_type="customer",
            object_id=customer.id,
            ip=ip,
            detail={"room_id": room_id, "target_id": target.id, "owner_id": customer.owner_id},
        )
        notify(
            session,
            user_id=customer.owner_id,
            room=room,
            title="目标客户待你审批",
            body=f"{user.display_name} 申请把你的客户「{customer.name}」列为「{room.title}」的目标客户",
            key=f"target-request:{added['seq']}",
            query=f"?approve={target.id}",
        )
    return target


def add_target(
    session: Session, *, room_id: int, user: User, data: TargetIn, ip: str | None
) -> dict[str, Any]:
    limit_rate(user, bucket="targets")  # every id tried counts, found or not
    room = open_room_of_member(session, room_id=room_id, user=user, write=True)
    seq = next_seq(session, room_id)
    existing = existing_event(session, room_id=room_id, client_id=data.client_id)
    if existing is not None:
        session.rollback()
        return existing.payload["target"]
    customer = None
    if data.customer_id is not None:
        # One the caller may see (their own is added, anyone else's requested from its RM); any other
        # id answers exactly like one that does not exist.
        customer = get_customer_for(session, user=user, customer_id=data.customer_id)
    target = add_target_row(
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
    return target_public(target, customer)


def begin_board_change(
    session: Session, *, room_id: int, user: User, client_id: str | None, key: str
) -> tuple[int, dict[str, Any] | None]:
    """A member's change to an open room: locks the room by taking its next seq, and returns the
    first result instead when this client id was already applied (an idempotent re-send)."""
    open_room_of_member(session, room_id=room_id, user=user, write=True)
    seq = next_seq(session, room_id)
    existing = existing_event(session, room_id=room_id, client_id=client_id)
    if existing is not None:
        session.rollback()
        return seq, existing.payload[key]
    return seq, None


def update_target(session: Session, *, room_id: int, user: User, data: TargetUpdate) -> dict[str, Any]:
    seq, resent = begin_board_change(
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
        current = target_public(target, customer)
        session.rollback()
        raise stale_version("target", current)
    before = target.stage
    if data.stage is not None:
        target.stage = data.stage
    if data.amount_cents is not None:
        target.amount_cents = data.amount_cents
    target.version += 1
    target.updated_at = utcnow()
    session.add(target)
    public = target_public(target, customer)
    append(
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
    seq, resent = begin_board_change(
        session, room_id=room_id, user=user, client_id=data.client_id, key="target"
    )
    if resent is not None:
        return resent
    target = session.get(WarRoomTarget, data.target_id)
    if target is None or target.room_id != room_id:
        session.rollback()
        raise Problem(404, "Not Found", "No such target in this room.", code="not-found")
    session.refresh(target)
    me = active_member(session, room_id=room_id, user_id=row_id(user))
    if target.added_by != user.id and (me is None or me.role != MemberRole.owner):
        session.rollback()
        raise forbidden("Only the room's owner or the member who added a target may remove it.")
    customer = session.get(Customer, target.customer_id) if target.customer_id else None
    public = target_public(target, customer)
    if data.version is not None and data.version != target.version:
        session.rollback()
        raise stale_version("target", public)
    session.delete(target)
    if customer is not None:
        revoke_grants(
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
    append(
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


def add_opportunity(
    session: Session, *, room_id: int, user: User, opportunity_id: int, seq: int | None
) -> None:
    opp = session.get(Opportunity, opportunity_id)
    session.add(WarRoomOpportunity(room_id=room_id, opportunity_id=opportunity_id, linked_by=row_id(user)))
    append(
        session,
        room_id=room_id,
        seq=seq or next_seq(session, room_id),
        kind="opportunity.linked",
        author=user,
        payload={"opportunity_id": opportunity_id, "title": opp.title if opp else None},
    )


def link_opportunity(session: Session, *, room_id: int, user: User, opportunity_id: int) -> None:
    open_room_of_member(session, room_id=room_id, user=user, write=True)
    opportunity_access.get_for(session, user=user, opportunity_id=opportunity_id)  # one the linker may see
    seq = next_seq(session, room_id)
    if session.get(WarRoomOpportunity, (room_id, opportunity_id)) is not None:
        session.rollback()
        return
    add_opportunity(session, room_id=room_id, user=user, opportunity_id=opportunity_id, seq=seq)
    session.commit()


def task_public(task: WarRoomTask, names: dict[int, str]) -> dict[str, Any]:
    assignee = None
    if task.assignee_id is not None:
        assignee = {"id": task.assignee_id, "display_name": names.get(task.assignee_id, "")}
    return {
        "id": task.id,
        "item": task.item,
        "assignee": assignee,
        "due_on": task.due_on.isoformat() if task.due_on else None,
        "status": task.status,
        "version": task.version,
        "updated_at": iso(task.updated_at),
    }


def check_assignee(session: Session, room_id: int, assignee_id: int | None) -> dict[int, str]:
    if assignee_id is None:
        return {}
    if active_member(session, room_id=room_id, user_id=assignee_id) is None:
        session.rollback()
        raise unprocessable(
            "The assignee must be a member of the room.",
            errors=[{"field": "assignee_id", "message": "not a member"}],
        )
    assignee = session.get(User, assignee_id)
    return {assignee_id: assignee.display_name if assignee else ""}


def create_task(session: Session, *, room_id: int, user: User, data: TaskIn) -> dict[str, Any]:
    seq, resent = begin_board_change(
        session, room_id=room_id, user=user, client_id=data.client_id, key="task"
    )
    if resent is not None:
        return resent
    names = check_assignee(session, room_id, data.assignee_id)
    task = WarRoomTask(
        room_id=room_id,
        item=data.item.strip(),
        assignee_id=data.assignee_id,
        due_on=data.due_on,
        status=data.status,
        created_by=row_id(user),
    )
    session.add(task)
    session.flush()
    public = task_public(task, names)
    append(
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
    seq, resent = begin_board_change(
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
    names = check_assignee(session, room_id, assignee_id)
    if data.version is not None and data.version != task.version:
        current = task_public(task, names)
        session.rollback()
        raise stale_version("task", current)
    before = task.status
    for name, value in fields.items():
        setattr(task, name, value)
    task.version += 1
    task.updated_at = utcnow()
    session.add(task)
    public = task_public(task, names)
    append(
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
