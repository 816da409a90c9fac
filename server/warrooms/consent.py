"""Consent: a customer's data enters a room only by its owner's act.

The customer's RM adds it (an approved target at once), or a member asks for it: a `pending` target
that lends nothing and shows no detail, with an inbox item for the RM, who approves (the room's
members get grants, audited) or declines (the request is removed). When that RM leaves the room or
is removed, the grants on their customers end and the targets go back to awaiting approval."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from server.audit import service as audit
from server.customers.models import Customer
from server.errors import Problem
from server.org.models import User
from server.timeutil import utcnow
from server.warrooms.access import (
    active_member_ids,
    grant_customer,
    open_room_of_member,
    revoke_grants,
)
from server.warrooms.board import target_public
from server.warrooms.eventlog import append, next_seq, record
from server.warrooms.models import TargetConsent, WarRoomTarget


def _no_request() -> Problem:
    return Problem(404, "Not Found", "No such request in this room.", code="not-found")


def _request_for_owner(
    session: Session, *, room_id: int, user: User, target_id: int
) -> tuple[WarRoomTarget, Customer]:
    """The pending target and its customer, when the caller is that customer's RM; anything else
    (no such target, another room's, not theirs, already decided) answers the same 404."""
    target = session.get(WarRoomTarget, target_id)
    customer = session.get(Customer, target.customer_id) if target and target.customer_id else None
    if target is None or customer is None or target.room_id != room_id or customer.owner_id != user.id:
        session.rollback()
        raise _no_request()
    session.refresh(target)
    if target.consent != TargetConsent.pending:
        session.rollback()
        raise _no_request()
    return target, customer


def approve_target(
    session: Session, *, room_id: int, user: User, target_id: int, ip: str | None
) -> dict[str, Any]:
    """The customer's RM lets a requested target into the room: every active member is granted it."""
    open_room_of_member(session, room_id=room_id, user=user)
    seq = next_seq(session, room_id)  # locks the room: a leave or removal cannot interleave
    target, customer = _request_for_owner(session, room_id=room_id, user=user, target_id=target_id)
    target.consent = TargetConsent.approved
    target.version += 1
    target.updated_at = utcnow()
    session.add(target)
    for member_id in active_member_ids(session, room_id):
        grant_customer(
            session, room_id=room_id, user_id=member_id, customer=customer, actor_id=user.id, ip=ip
        )
    audit.record(
        session,
        actor_id=user.id,
        action="warroom.target_approve",
        object_type="customer",
        object_id=customer.id,
        ip=ip,
        detail={"room_id": room_id, "target_id": target.id, "requested_by": target.added_by},
    )
    public = target_public(target, customer)
    append(session, room_id=room_id, seq=seq, kind="target.approved", author=user, payload={"target": public})
    session.commit()
    return public


def decline_target(
    session: Session, *, room_id: int, user: User, target_id: int, ip: str | None
) -> dict[str, Any]:
    """The customer's RM turns a request down: the pending target is removed; nothing was lent."""
    open_room_of_member(session, room_id=room_id, user=user)
    seq = next_seq(session, room_id)
    target, customer = _request_for_owner(session, room_id=room_id, user=user, target_id=target_id)
    public = target_public(target, customer)
    session.delete(target)
    audit.record(
        session,
        actor_id=user.id,
        action="warroom.target_decline",
        object_type="customer",
        object_id=customer.id,
        ip=ip,
        detail={"room_id": room_id, "target_id": public["id"], "requested_by": public["added_by"]},
    )
    append(session, room_id=room_id, seq=seq, kind="target.declined", author=user, payload={"target": public})
    session.commit()
    return public


def withhold_owner_targets(
    session: Session, *, room_id: int, owner_id: int, actor: User, ip: str | None, reason: str
) -> int:
    """The RM `owner_id` is gone from the room: the room's grants on their customers end (for every
    member) and those targets await their approval again. Returns how many targets were withheld.
    The caller holds the room's lock (it took a seq) and commits."""
    rows = session.exec(
        select(WarRoomTarget, Customer)
        .join(Customer, col(Customer.id) == WarRoomTarget.customer_id)
        .where(
            WarRoomTarget.room_id == room_id,
            Customer.owner_id == owner_id,
            WarRoomTarget.consent == TargetConsent.approved,
        )
    ).all()
    if not rows:
        return 0
    revoke_grants(
        session,
        room_id=room_id,
        user_id=None,
        actor_id=actor.id,
        ip=ip,
        reason=reason,
        customer_ids=[c.id for _, c in rows if c.id is not None],
    )
    for target, customer in rows:
        target.consent = TargetConsent.pending
        target.version += 1
        target.updated_at = utcnow()
        session.add(target)
        record(
            session,
            room_id=room_id,
            kind="target.withheld",
            author=actor,
            payload={"target": target_public(target, customer)},
        )
    return len(rows)
