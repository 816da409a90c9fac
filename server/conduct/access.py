"""Who may read conduct data: risk officers every RM, team leads the RMs of their teams; RMs none."""

from __future__ import annotations

from sqlmodel import Session, col, select

from server.errors import forbidden, not_found
from server.org.models import Role, Team, User


def _require_viewer(user: User) -> None:
    if user.role not in (Role.risk_officer, Role.team_lead):
        raise forbidden("Conduct data is for risk officers and team leads.")


def visible_rm_ids(session: Session, *, user: User) -> list[int] | None:
    """None: every RM (a risk officer); a team lead: the RMs of the teams they lead."""
    _require_viewer(user)
    if user.role == Role.risk_officer:
        return None
    team_ids = set(session.exec(select(Team.id).where(Team.lead_id == user.id)).all())
    if user.team_id:
        team_ids.add(user.team_id)
    if not team_ids:
        return []
    return [
        int(i)
        for i in session.exec(
            select(User.id).where(col(User.team_id).in_(team_ids), User.role == Role.rm.value)
        ).all()
        if i
    ]


def get_visible_rm(session: Session, *, user: User, rm_id: int) -> User:
    allowed = visible_rm_ids(session, user=user)
    rm = session.get(User, rm_id)
    if rm is None or rm.role != Role.rm or (allowed is not None and rm_id not in allowed):
        raise not_found("rm")
    return rm
