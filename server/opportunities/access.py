"""Who may see and manage an opportunity: the pools an RM is in, and the team lead's reach."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from server.customers.service import team_member_ids
from server.db import id_col
from server.errors import Problem, not_found
from server.opportunities.models import Opportunity, Visibility
from server.opportunities.models import OpportunityStatus as S
from server.org.models import RmProfile, Role, Team, User


def rm_profile(session: Session, *, user: User) -> RmProfile | None:
    return session.get(RmProfile, user.id) if user.role == Role.rm else None


def audience_condition(user: User) -> Any:
    """SQL: opportunities in this RM's pools (team, branch, whole bank)."""
    return or_(
        col(Opportunity.visibility) == Visibility.bank,
        and_(col(Opportunity.visibility) == Visibility.branch, col(Opportunity.branch_id) == user.branch_id),
        and_(col(Opportunity.visibility) == Visibility.team, col(Opportunity.team_id) == user.team_id),
    )


def in_audience(*, user: User, opp: Opportunity) -> bool:
    if opp.visibility == Visibility.bank:
        return True
    if opp.visibility == Visibility.branch:
        return opp.branch_id is not None and opp.branch_id == user.branch_id
    if opp.visibility == Visibility.team:
        return opp.team_id is not None and opp.team_id == user.team_id
    return False


def led_team_ids(session: Session, *, lead: User) -> list[int]:
    return list(session.exec(select(id_col(Team.id)).where(Team.lead_id == lead.id)).all())


def lead_manages(session: Session, *, user: User, opp: Opportunity) -> bool:
    if user.role == Role.admin:
        return True
    if user.role != Role.team_lead:
        return False
    if opp.team_id is not None and opp.team_id in led_team_ids(session, lead=user):
        return True
    members = set(team_member_ids(session, lead=user))
    return opp.originator_id in members or (opp.owner_id is not None and opp.owner_id in members)


def can_view(session: Session, *, user: User, opp: Opportunity) -> bool:
    if user.id in (opp.originator_id, opp.owner_id) or user.role == Role.admin:
        return True
    if user.role == Role.team_lead:
        return lead_manages(session, user=user, opp=opp)
    return user.role == Role.rm and opp.status != S.draft and in_audience(user=user, opp=opp)


def get_for(session: Session, *, user: User, opportunity_id: int) -> Opportunity:
    opp = session.get(Opportunity, opportunity_id)
    if opp is None or not can_view(session, user=user, opp=opp):
        raise not_found("opportunity")
    return opp


def get_managed(session: Session, *, user: User, opportunity_id: int, action: str) -> Opportunity:
    """An opportunity the signed-in team lead (or an admin) manages, for reassign, transfer and
    benefit adjustment; 403 `not-lead` for anyone else who can see it."""
    opp = get_for(session, user=user, opportunity_id=opportunity_id)
    if not lead_manages(session, user=user, opp=opp):
        raise Problem(403, "Forbidden", f"Only the team lead {action}.", code="not-lead")
    return opp
