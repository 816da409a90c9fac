"""Customer grants: access to a customer that is not one's own, lent by a shared space (a war room, an
opportunity, a helper task) and ended with it. The one home for granting, revoking and their
audit entries, so every source grants and ends access the same way.

A grant is written only by the caller's act (the owner adds the customer, or approves a request; a
claim of a shared opportunity); each revocation records why it ended (room closed, member gone,
target removed, opportunity returned, …).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, insert, update
from sqlmodel import Session, col, select

from server.audit import service as audit
from server.customers.models import CustomerGrant
from server.timeutil import utcnow

# Sources that lend access (CustomerGrant.source_type).
SOURCE_WAR_ROOM = "war_room"
SOURCE_OPPORTUNITY = "opportunity"
SOURCE_HELPER_TASK = "helper_task"  # a super RM's task for a helper (助手): that one customer

# The one set of audit action names for grants, whatever the source.
AUDIT_GRANT = "customer.grant"
AUDIT_REVOKE = "customer.revoke"


def grant(
    session: Session,
    *,
    customer_id: int,
    owner_id: int | None,
    user_id: int,
    source_type: str,
    source_id: int,
    actor_id: int | None,
    ip: str | None = None,
) -> bool:
    """Lends `user_id` access to the customer through one source. Nothing is written for the owner
    themselves or when the same source already lends it; returns whether a grant was written."""
    if owner_id == user_id:
        return False
    already = session.exec(
        select(CustomerGrant.id).where(
            CustomerGrant.user_id == user_id,
            CustomerGrant.customer_id == customer_id,
            CustomerGrant.source_type == source_type,
            CustomerGrant.source_id == source_id,
            col(CustomerGrant.revoked_at).is_(None),
        )
    ).first()
    if already is not None:
        return False
    session.add(
        CustomerGrant(customer_id=customer_id, user_id=user_id, source_type=source_type, source_id=source_id)
    )
    audit.record(
        session,
        actor_id=actor_id,
        action=AUDIT_GRANT,
        object_type="customer",
        object_id=customer_id,
        ip=ip,
        detail={"user_id": user_id, "source_type": source_type, "source_id": source_id},
    )
    return True


def grant_many(
    session: Session,
    *,
    customers: Iterable[tuple[int, int | None]],
    user_ids: Iterable[int],
    source_type: str,
    source_id: int,
    actor_id: int | None,
    ip: str | None = None,
) -> int:
    """`grant` for many (customer_id, owner_id) pairs and users at once, in one read of the live
    grants instead of one per pair (a campaign adds thousands of targets in one change). Returns
    how many grants were written; each is audited like a single grant."""
    pairs = list(customers)
    users = list(user_ids)
    if not pairs or not users:
        return 0
    live = set(
        session.exec(
            select(CustomerGrant.customer_id, CustomerGrant.user_id).where(
                CustomerGrant.source_type == source_type,
                CustomerGrant.source_id == source_id,
                col(CustomerGrant.customer_id).in_([c for c, _ in pairs]),
                col(CustomerGrant.revoked_at).is_(None),
            )
        ).all()
    )
    now = utcnow()
    rows: list[dict[str, object]] = []
    for customer_id, owner_id in pairs:
        for user_id in users:
            if user_id == owner_id or (customer_id, user_id) in live:
                continue
            live.add((customer_id, user_id))
            rows.append({"customer_id": customer_id, "user_id": user_id})
    if not rows:
        return 0
    # A campaign's own customers lent to every member are N x members grants: Core INSERTs (ORM
    # objects cost seconds at that count), each grant still with its own audit entry.
    session.connection().execute(
        insert(CustomerGrant),
        [{**r, "source_type": source_type, "source_id": source_id, "granted_at": now} for r in rows],
    )
    audit.record_many(
        session,
        [
            {
                "actor_id": actor_id,
                "action": AUDIT_GRANT,
                "object_type": "customer",
                "object_id": r["customer_id"],
                "ip": ip,
                "detail": {"user_id": r["user_id"], "source_type": source_type, "source_id": source_id},
            }
            for r in rows
        ],
    )
    return len(rows)


def revoke(
    session: Session,
    *,
    source_type: str,
    source_ids: Iterable[int],
    reason: str,
    actor_id: int | None,
    user_id: int | None = None,
    customer_ids: Iterable[int] | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> int:
    """Ends the live grants of the given sources (of one user only when `user_id` is given; of some
    customers only when `customer_ids` is given), each revocation audited with its reason. Returns
    how many grants ended."""
    source_list = list(source_ids)
    if not source_list:
        return 0
    conditions: list[ColumnElement[bool]] = [
        col(CustomerGrant.source_type) == source_type,
        col(CustomerGrant.source_id).in_(source_list),
        col(CustomerGrant.revoked_at).is_(None),
    ]
    if user_id is not None:
        conditions.append(col(CustomerGrant.user_id) == user_id)
    if customer_ids is not None:
        customer_list = list(customer_ids)
        if not customer_list:
            return 0
        conditions.append(col(CustomerGrant.customer_id).in_(customer_list))
    rows = session.exec(
        select(
            CustomerGrant.id, CustomerGrant.customer_id, CustomerGrant.user_id, CustomerGrant.source_id
        ).where(*conditions)
    ).all()
    if not rows:
        return 0
    session.execute(
        update(CustomerGrant)
        .where(col(CustomerGrant.id).in_([r[0] for r in rows]))
        .values(revoked_at=now or utcnow())
    )
    for _grant_id, customer_id, grantee_id, source_id in rows:
        audit.record(
            session,
            actor_id=actor_id,
            action=AUDIT_REVOKE,
            object_type="customer",
            object_id=customer_id,
            ip=ip,
            detail={
                "user_id": grantee_id,
                "source_type": source_type,
                "source_id": source_id,
                "reason": reason,
            },
        )
    return len(rows)
