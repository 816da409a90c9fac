"""Recording and reading the audit log. Writers add an entry in the caller's transaction, so an
action and its audit entry commit (or roll back) together."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from server import events
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


def _filtered(
    *,
    actor_id: int | None = None,
    action_prefix: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    ip: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
):
    query = select(AuditEntry)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if action_prefix:
        query = query.where(col(AuditEntry.action).startswith(action_prefix))
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id:
        query = query.where(AuditEntry.object_id == object_id)
    if ip:
        query = query.where(col(AuditEntry.ip).startswith(ip))
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    return query


def list_entries(
    session: Session,
    *,
    actor_id: int | None = None,
    action_prefix: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    ip: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[AuditEntry], int]:
    query = _filtered(
        actor_id=actor_id,
        action_prefix=action_prefix,
        object_type=object_type,
        object_id=object_id,
        ip=ip,
        since=since,
        until=until,
    )
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(AuditEntry.id).desc()).offset((page - 1) * page_size).limit(page_size)
    ).all()
    return list(rows), total


def actor_names(session: Session, *, actor_ids: set[int]) -> dict[int, str]:
    from server.org.models import User

    if not actor_ids:
        return {}
    rows = session.exec(select(User.id, User.display_name).where(col(User.id).in_(actor_ids))).all()
    return {int(i): name for i, name in rows if i is not None}


EXPORT_MAX_ROWS = 10_000
EXPORT_COLUMNS = ("id", "at", "actor_id", "actor", "action", "object_type", "object_id", "ip", "detail")


def export_rows(
    session: Session,
    *,
    viewer_id: int,
    ip: str | None,
    filters: dict[str, Any],
) -> list[list[str]]:
    """The filtered log (newest first, at most EXPORT_MAX_ROWS rows) as CSV rows; the export itself
    is audited with the filters used, in the same transaction."""
    import json

    from server.timeutil import iso

    rows = session.exec(_filtered(**filters).order_by(col(AuditEntry.id).desc()).limit(EXPORT_MAX_ROWS)).all()
    names = actor_names(session, actor_ids={r.actor_id for r in rows if r.actor_id is not None})
    out = [list(EXPORT_COLUMNS)]
    for r in rows:
        out.append(
            [
                str(r.id),
                iso(r.at) or "",
                "" if r.actor_id is None else str(r.actor_id),
                names.get(r.actor_id, "") if r.actor_id is not None else "",
                r.action,
                r.object_type or "",
                r.object_id or "",
                r.ip or "",
                json.dumps(r.detail, ensure_ascii=False, sort_keys=True),
            ]
        )
    record(
        session,
        actor_id=viewer_id,
        action="audit.export",
        object_type="audit",
        ip=ip,
        detail={
            "filters": {k: (iso(v) if isinstance(v, datetime) else v) for k, v in filters.items() if v},
            "rows": len(rows),
        },
    )
    session.commit()
    return out
