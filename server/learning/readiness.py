"""One RM's product readiness (准备度) as one number, for other views (the team lead's cohort view)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from server.learning import quiz
from server.learning.models import QuizCard
from server.org.models import Role, User


def readiness_for(session: Session, user_id: int, *, now: datetime | None = None) -> float | None:
    """The mean readiness over the products the RM may sell, from 0.0 (nothing learnt) to 1.0 (every
    question recalled with certainty right now); None when the RM has never answered a quiz (or is
    not an RM), so a view can tell "not started" from "started and forgot"."""
    user = session.get(User, user_id)
    if user is None or user.role != Role.rm:
        return None
    if session.exec(select(QuizCard.id).where(QuizCard.user_id == user_id).limit(1)).first() is None:
        return None
    return quiz.readiness(session, user=user, now=now)["overall_exact"]
