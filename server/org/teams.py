"""Who is on whose team: the RMs of a team, and whose figures (mirror, performance) a viewer may read."""

from __future__ import annotations

from sqlmodel import Session, col, select

from server.db import id_col, row_id
from server.errors import forbidden, not_found
from server.org.models import Role, Team, User


def team_rm_ids(session: Session, *, rm: User) -> list[int]:
    if rm.team_id is None:
        return [row_id(rm)]
    return list(
        session.exec(
            select(id_col(User.id))
            .where(User.team_id == rm.team_id, User.role == Role.rm, col(User.is_active))
            .order_by(col(User.id))
        ).all()
    )


def leads_team_of(session: Session, *, lead: User, rm: User) -> bool:
    return (
        rm.team_id is not None
        and session.exec(select(Team.id).where(Team.id == rm.team_id, Team.lead_id == lead.id)).first()
        is not None
    )


def rm_for_viewer(session: Session, *, viewer: User, rm_id: int | None) -> User:
    """The RM whose mirror or performance the viewer may read: oneself, or an RM of the team the viewer leads."""
    if rm_id is None or rm_id == viewer.id:
        if viewer.role != Role.rm:
            raise forbidden("The mirror is for relationship managers.")
        return viewer
    rm = session.get(User, rm_id)
    if rm is None or rm.role != Role.rm or not leads_team_of(session, lead=viewer, rm=rm):
        raise not_found("relationship manager")
    return rm
