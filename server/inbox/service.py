"""The inbox: `notify` stores a notification once per (user, source key); reading, counting and
marking read. Delivery to the live socket and to channels happens after commit, elsewhere."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from server import events
from server.db import rows_affected
from server.errors import not_found
from server.inbox.models import Notification
from server.timeutil import iso, utcnow

URGENCIES = ("very-low", "low", "normal", "high")  # RFC 8030 Urgency values
# A delivery handed out this long ago and not finished is handed out again. Longer than a delivery
# job may run (its RQ timeout, 10 min), so a job still running is never doubled.
DELIVERY_LEASE = timedelta(minutes=15)


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
        dispatched_at=now or utcnow(),
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


# --- delivery state: recoverable when the hand-off to the queue fails ----------------------------


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def take_for_delivery(
    session: Session, *, notification_ids: list[int], dispatch_token: str | None, now: datetime | None = None
) -> list[int]:
    """A delivery job's first step: the notifications it may deliver are those not delivered yet
    and still handed to *this* dispatch (token; None for the first hand-off). A job handed out again
    meanwhile finds nothing left to do, so a stale copy never pushes twice. Taking renews the
    lease, so the minute scan leaves a running job alone."""
    taken: list[int] = []
    for chunk in _chunks(notification_ids):
        taken += (
            session.execute(
                update(Notification)
                .where(
                    col(Notification.id).in_(chunk),
                    col(Notification.delivered_at).is_(None),
                    col(Notification.dispatch_token).is_not_distinct_from(dispatch_token),
                )
                .values(dispatched_at=now or utcnow())
                .returning(col(Notification.id))
            )
            .scalars()
            .all()
        )
    session.commit()
    return sorted(taken)


def mark_delivered(session: Session, *, notification_ids: list[int], now: datetime | None = None) -> None:
    """The delivery job went through every channel (and booked its retries): done for good."""
    for chunk in _chunks(notification_ids):
        session.exec(  # type: ignore[call-overload]
            update(Notification)
            .where(col(Notification.id).in_(chunk), col(Notification.delivered_at).is_(None))
            .values(delivered_at=now or utcnow())
        )
    session.commit()


def hand_back(
    session: Session, *, notification_ids: list[int], dispatch_token: str | None, handed_at: datetime
) -> int:
    """The hand-off to the queue at `handed_at` failed (Redis away): the notifications count as
    stalled at once, so the next minute scan hands them out (redispatch_stalled) instead of after
    the whole lease. Only those still handed to this dispatch, not delivered, and not taken by a job
    since (a queueing that looked failed may have landed: its job renewed the hand-off time).
    Returns how many."""
    handed = 0
    for chunk in _chunks(notification_ids):
        handed += rows_affected(
            session,
            update(Notification)
            .where(
                col(Notification.id).in_(chunk),
                col(Notification.delivered_at).is_(None),
                col(Notification.dispatch_token).is_not_distinct_from(dispatch_token),
                col(Notification.dispatched_at) <= handed_at,
            )
            .values(dispatched_at=handed_at - DELIVERY_LEASE),
        )
    session.commit()
    return handed


def redispatch_stalled(
    session: Session, *, now: datetime | None = None, limit: int = 20_000
) -> tuple[str, list[int]] | None:
    """Claims the deliveries whose hand-off is older than the lease and still not delivered (Redis
    failed between storing and queueing, or the job died) under a fresh token, with one conditional
    UPDATE, so two scanners never hand the same one out twice. Returns (token, ids) to queue."""
    now = now or utcnow()
    stale = now - DELIVERY_LEASE
    ids = list(
        session.exec(
            select(Notification.id)
            .where(col(Notification.delivered_at).is_(None), col(Notification.dispatched_at) <= stale)
            .order_by(col(Notification.id))
            .limit(limit)
        ).all()
    )
    if not ids:
        return None
    token = secrets.token_hex(8)
    claimed: list[int] = []
    for chunk in _chunks(ids):  # type: ignore[arg-type]
        claimed += (
            session.execute(
                update(Notification)
                .where(
                    col(Notification.id).in_(chunk),
                    col(Notification.delivered_at).is_(None),
                    col(Notification.dispatched_at) <= stale,
                )
                .values(dispatch_token=token, dispatched_at=now)
                .returning(col(Notification.id))
            )
            .scalars()
            .all()
        )
    session.commit()
    return (token, sorted(claimed)) if claimed else None
