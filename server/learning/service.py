"""The learning home in one call (readiness, what is due, the helper tasks done for super RMs) and
the RM's consent to be named on case cards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from server.audit import service as audit
from server.db import row_id
from server.learning import quiz
from server.learning.models import CaseConsent
from server.org.models import User
from server.timeutil import utcnow


def summary(session: Session, *, user: User, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    ready = quiz.readiness(session, user=user, now=now)
    upcoming = quiz.next_questions(session, user=user, now=now)
    consent = session.get(CaseConsent, row_id(user))
    return {
        "readiness": ready["overall"],
        "products": sorted(ready["products"], key=lambda p: p["readiness"])[:3],
        "due_count": upcoming["due_count"],
        "next_due_at": upcoming["next_due_at"],
        "share_name": bool(consent and consent.share_name),
    }


def set_consent(session: Session, *, user: User, share_name: bool) -> dict[str, Any]:
    row = session.get(CaseConsent, row_id(user)) or CaseConsent(user_id=row_id(user))
    row.share_name = share_name
    row.updated_at = utcnow()
    session.add(row)
    audit.record(
        session,
        actor_id=user.id,
        action="learning.case_consent",
        object_type="user",
        object_id=user.id,
        detail={"share_name": share_name},
    )
    session.commit()
    return {"share_name": share_name}
