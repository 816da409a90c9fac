"""Recording and reading the audit log. Writers add an entry in the caller's transaction, so an
action and its audit entry commit (or roll back) together."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from server.audit.models import AuditEntry
from server.timeutil import utcnow


def record_many(session: Session, entries: list[dict[str, Any]]) -> None:
    """`record` for many entries in one INSERT (a bulk change audits each of its rows); each dict
    holds record's keyword arguments."""
    if not entries:
        return
    from sqlalchemy import insert

    now = utcnow()
    session.connection().execute(
        insert(AuditEntry),
        [
            {
                "at": now,
                "actor_id": e.get("actor_id"),
                "action": e["action"],
                "object_type": e.get("object_type"),
                "object_id": None if e.get("object_id") is None else str(e["object_id"]),
                "ip": e.get("ip"),
                "detail": e.get("detail") or {},
            }
            for e in entries
        ],
    )


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
