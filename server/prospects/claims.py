"""Claims (exclusive for PROSPECT_CLAIM_DAYS, then they return) and the activities an RM records on a
prospect they hold. Every claim and release is audited."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from server.audit import service as audit
from server.db import row_id
from server.errors import conflict, forbidden, not_found, unprocessable
from server.org.models import Role, User
from server.prospects.listing import get_visible
from server.prospects.models import Prospect, ProspectActivity, ProspectClaim, ProspectStatus
from server.timeutil import iso, utcnow

ACTIVITY_KINDS = ("visit_planned", "visited", "shared", "war_room", "note")


def claim_days() -> int:
    return current_app.config["SETTINGS"].PROSPECT_CLAIM_DAYS if has_app_context() else 30


# --- claims -------------------------------------------------------------------------------------


def claim(session: Session, *, user: User, prospect_id: int, ip: str | None = None) -> dict[str, Any]:
    """One conditional UPDATE: exactly one RM wins an open prospect; the holder may renew."""
    if user.role != Role.rm:
        raise forbidden("Only relationship managers claim prospects.")
    get_visible(session, user=user, prospect_id=prospect_id)
    now = utcnow()
    until = now + timedelta(days=claim_days())
    result = session.execute(
        update(Prospect)
        .where(
            col(Prospect.id) == prospect_id,
            col(Prospect.status) == ProspectStatus.open,
            or_(
                col(Prospect.claimed_by).is_(None),
                col(Prospect.claimed_until) < now,
                col(Prospect.claimed_by) == user.id,
            ),
        )
        .values(claimed_by=user.id, claimed_until=until, version=Prospect.version + 1, updated_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise not_found("prospect")  # another RM won it a moment ago: it is theirs, not visible
    # Claims that lapsed end now; the new one starts.
    session.execute(
        update(ProspectClaim)
        .where(col(ProspectClaim.prospect_id) == prospect_id, col(ProspectClaim.ended_at).is_(None))
        .values(ended_at=now, end_reason="expired")
    )
    session.add(ProspectClaim(prospect_id=prospect_id, rm_id=row_id(user), claimed_at=now, expires_at=until))
    audit.record(
        session,
        actor_id=user.id,
        action="prospect.claim",
        object_type="prospect",
        object_id=prospect_id,
        ip=ip,
        detail={"until": iso(until)},
    )
    session.commit()
    return {"id": prospect_id, "claimed_until": iso(until)}


def release(session: Session, *, user: User, prospect_id: int, ip: str | None = None) -> dict[str, Any]:
    now = utcnow()
    result = session.execute(
        update(Prospect)
        .where(
            col(Prospect.id) == prospect_id,
            col(Prospect.claimed_by) == user.id,
            col(Prospect.claimed_until) >= now,
        )
        .values(claimed_by=None, claimed_until=None, version=Prospect.version + 1, updated_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise not_found("prospect")
    session.execute(
        update(ProspectClaim)
        .where(col(ProspectClaim.prospect_id) == prospect_id, col(ProspectClaim.ended_at).is_(None))
        .values(ended_at=now, end_reason="released")
    )
    audit.record(
        session,
        actor_id=user.id,
        action="prospect.release",
        object_type="prospect",
        object_id=prospect_id,
        ip=ip,
    )
    session.commit()
    return {"id": prospect_id, "released": True}


def expire_claims(session: Session, *, now: datetime | None = None) -> int:
    """Lapsed claims end (the prospect returns to everyone); safe to run any number of times."""
    now = now or utcnow()
    lapsed = list(
        session.exec(
            select(Prospect.id).where(
                col(Prospect.claimed_by).is_not(None), col(Prospect.claimed_until) < now
            )
        ).all()
    )
    if not lapsed:
        return 0
    session.execute(
        update(Prospect)
        .where(col(Prospect.id).in_(lapsed), col(Prospect.claimed_until) < now)
        .values(claimed_by=None, claimed_until=None, version=Prospect.version + 1)
    )
    session.execute(
        update(ProspectClaim)
        .where(col(ProspectClaim.prospect_id).in_(lapsed), col(ProspectClaim.ended_at).is_(None))
        .values(ended_at=now, end_reason="expired")
    )
    session.commit()
    return len(lapsed)


def add_activity(
    session: Session, *, user: User, prospect_id: int, kind: str, note: str | None, at: datetime | None = None
) -> dict[str, Any]:
    """Visits, notes, sharing and war rooms work on a prospect the RM holds."""
    prospect = get_visible(session, user=user, prospect_id=prospect_id)
    if prospect.claimed_by != user.id:
        raise conflict("Claim the prospect first.", code="prospect-not-claimed")
    if kind not in ACTIVITY_KINDS:
        raise unprocessable("Unknown activity.")
    activity = ProspectActivity(
        prospect_id=prospect_id, rm_id=row_id(user), kind=kind, note=note, at=at or utcnow()
    )
    session.add(activity)
    audit.record(
        session, actor_id=user.id, action=f"prospect.{kind}", object_type="prospect", object_id=prospect_id
    )
    session.commit()
    return {"id": activity.id, "kind": kind, "at": iso(activity.at)}
