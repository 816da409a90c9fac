"""The inbox: `notify` stores a notification once per (user, source key); reading, counting and
marking read. Delivery to the live socket and to channels happens after commit, elsewhere."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from server import events
from server.errors import not_found
from server.inbox.models import Notification
from server.timeutil import iso, utcnow

URGENCIES = ("very-low", "low", "normal", "high")  # RFC 8030 Urgency values


def public(n: Notification) -> dict[str, Any]:
    return {
        "id": n.id,
        "kind": n.kind,
        "title": n.title,
        "body": n.body,
        "url": n.url,
        "urgency": n.urgency,
        "due_at": iso(n.due_at),
        "late": n.late,
        "created_at": iso(n.created_at),
        "read_at": iso(n.read_at),
    }


def notify(
    session: Session,
    *,
    user_id: int,
    kind: str,
    title: str,
    body: str = "",
    url: str = "/",
    source_key: str,
    urgency: str = "normal",
    due_at: datetime | None = None,
    late: bool = False,
    now: datetime | None = None,
) -> Notification | None:
    """Stores one notification, or returns None if this source already notified this user. Flushes
    inside a savepoint, so a duplicate never spoils the caller's transaction. Other features call
    this and then publish nothing: the `inbox.created` event sends it on after commit."""
    notification = Notification(
        user_id=user_id,
        kind=kind,
        title=title[:128],
        body=body[:1000],
        url=url[:255] or "/",
        source_key=source_key[:96],
        urgency=urgency if urgency in URGENCIES else "normal",
        due_at=due_at,
        late=late,
        created_at=now or utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(notification)
            session.flush()
    except IntegrityError:
        return None
    events.publish(session, "inbox.created", {"notification_ids": [notification.id], "user_id": user_id})
    return notification


def unread_count(session: Session, *, user_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, col(Notification.read_at).is_(None))
    ).one()


def list_inbox(
    session: Session, *, user_id: int, unread_only: bool, before_id: int | None, limit: int
) -> tuple[list[Notification], int]:
    conditions: list[Any] = [Notification.user_id == user_id]
    if unread_only:
        conditions.append(col(Notification.read_at).is_(None))
    total = session.exec(select(func.count()).select_from(Notification).where(*conditions)).one()
    if before_id is not None:
        conditions.append(col(Notification.id) < before_id)
    rows = session.exec(
        select(Notification).where(*conditions).order_by(col(Notification.id).desc()).limit(limit)
    ).all()
    return list(rows), total


def mark_read(session: Session, *, user_id: int, notification_id: int) -> Notification:
    n = session.get(Notification, notification_id)
    if n is None or n.user_id != user_id:
        raise not_found("notification")
    if n.read_at is None:
        n.read_at = utcnow()
        session.add(n)
        session.commit()
    return n


def mark_all_read(session: Session, *, user_id: int, up_to_id: int | None = None) -> int:
    stmt = (
        update(Notification)
        .where(Notification.user_id == user_id, col(Notification.read_at).is_(None))  # type: ignore[arg-type]
        .values(read_at=utcnow())
    )
    if up_to_id is not None:
        stmt = stmt.where(col(Notification.id) <= up_to_id)
    result = session.exec(stmt)  # type: ignore[call-overload]
    session.commit()
    return result.rowcount or 0


def since(session: Session, *, user_id: int, after_id: int, limit: int = 100) -> list[Notification]:
    """What a reconnecting client missed: the socket alone is at-most-once, the table is not."""
    return list(
        session.exec(
            select(Notification)
            .where(Notification.user_id == user_id, col(Notification.id) > after_id)
            .order_by(col(Notification.id))
            .limit(limit)
        ).all()
    )
