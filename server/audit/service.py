"""Recording and reading the audit log. Writers add an entry in the caller's transaction, so an
action and its audit entry commit (or roll back) together."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from server import events
from server.audit.models import AuditEntry

# Actions conduct monitoring reads within a minute: recording one publishes `audit.recorded`.
REALTIME_ACTIONS = frozenset({"customer.reveal", "customer.list_page", "customer.export"})


def record(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    object_type: str | None = None,
    object_id: str | int | None = None,
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        ip=ip,
        detail=detail or {},
    )
    session.add(entry)
    if action in REALTIME_ACTIONS:  # sent on after commit, never before
        events.publish(session, "audit.recorded", {"action": action, "actor_id": actor_id})
    return entry


def list_entries(
    session: Session,
    *,
    actor_id: int | None = None,
    action_prefix: str | None = None,
    since: datetime | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[AuditEntry], int]:
    query = select(AuditEntry)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if action_prefix:
        query = query.where(col(AuditEntry.action).startswith(action_prefix))
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(AuditEntry.id).desc()).offset((page - 1) * page_size).limit(page_size)
    ).all()
    return list(rows), total
