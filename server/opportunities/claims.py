"""Claiming from the pool: one conditional UPDATE decides every race; the open-claims cap, the
priority window and the customer grant that comes with holding an opportunity."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from server import events
from server.audit import service as audit
from server.customers import grants
from server.customers.models import Customer
from server.db import row_id
from server.errors import Problem, conflict, forbidden, not_found
from server.opportunities import race
from server.opportunities.access import in_audience
from server.opportunities.benefits import CREDIT_KIND
from server.opportunities.feed import feed_event
from server.opportunities.history import record_transition
from server.opportunities.models import Opportunity
from server.opportunities.models import OpportunityStatus as S
from server.opportunities.policy import FULL_SHARE_BP, OPEN, get_policy, originator_share_for
from server.org.models import Persona, RmProfile, Role, User
from server.performance.models import PerformanceEntry, PerformanceTarget
from server.timeutil import as_utc, iso, month_key, utcnow


def open_claims(session: Session, *, rm_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(Opportunity)
        .where(Opportunity.owner_id == rm_id, col(Opportunity.status).in_(OPEN))
    ).one()


def under_cap(session: Session, *, rm_id: int, cap: int, profile_locked: bool = False):
    """A condition for the UPDATE that hands an opportunity to `rm_id`: they hold fewer than `cap`
    open ones, counted inside the statement so concurrent hand-overs cannot both slip under it.
    `profile_locked`: the caller already holds the RM's profile row (`_locked_profile`)."""
    if session.get_bind().dialect.name == "postgresql" and not profile_locked:
        # Hand-overs to one RM of different opportunities touch different rows; locking the RM's
        # profile row makes them take turns, so the count sees every committed one. (SQLite runs
        # one writer at a time anyway.)
        session.exec(select(RmProfile.user_id).where(RmProfile.user_id == rm_id).with_for_update())
    held = aliased(Opportunity)
    open_now = (
        select(func.count())
        .select_from(held)
        .where(held.owner_id == rm_id, col(held.status).in_(OPEN))
        .scalar_subquery()
    )
    return open_now < cap


def short_of_target(session: Session, *, rm_id: int, today: date) -> bool:
    """Behind this month's revenue target (业绩目标) by the ledger so far."""
    month = month_key(today)
    target = session.exec(
        select(PerformanceTarget.revenue_target_cents).where(
            PerformanceTarget.rm_id == rm_id, PerformanceTarget.month == month
        )
    ).first()
    if not target:
        return False
    first = today.replace(day=1)
    done = session.exec(
        select(func.coalesce(func.sum(PerformanceEntry.amount_cents), 0)).where(
            PerformanceEntry.rm_id == rm_id,
            col(PerformanceEntry.kind).in_(("revenue", CREDIT_KIND)),
            PerformanceEntry.booked_on >= first,
            PerformanceEntry.booked_on <= today,
        )
    ).one()
    return int(done) < int(target)


def has_priority(session: Session, *, user: User, profile: RmProfile | None, today: date) -> bool:
    if profile is not None and profile.persona == Persona.general:
        return True
    return short_of_target(session, rm_id=row_id(user), today=today)


def _lost_race(session: Session, opp: Opportunity) -> Problem:
    winner = session.get(User, opp.owner_id) if opp.owner_id else None
    if winner is not None and opp.status in (*OPEN, S.won, S.lost):
        race.note_settled(
            opportunity_id=row_id(opp),
            status=opp.status,
            owner={"id": winner.id, "display_name": winner.display_name},
            visibility=opp.visibility,
            branch_id=opp.branch_id,
            team_id=opp.team_id,
            originator_id=opp.originator_id,
        )
        return conflict(
            f"{winner.display_name} claimed this opportunity first.",
            code="already-claimed",
            winner={"id": winner.id, "display_name": winner.display_name},
            opportunity_status=opp.status,
        )
    return conflict(f"This opportunity is {opp.status}.", code="not-claimable", opportunity_status=opp.status)


def grant_customer(session: Session, *, opp: Opportunity, rm_id: int, actor_id: int, ip: str | None) -> None:
    if opp.customer_id is None:
        return
    owner_id = session.exec(select(Customer.owner_id).where(Customer.id == opp.customer_id)).first()
    if owner_id is None:
        return
    grants.grant(
        session,
        customer_id=opp.customer_id,
        owner_id=owner_id,
        user_id=rm_id,
        source_type=grants.SOURCE_OPPORTUNITY,
        source_id=row_id(opp),
        actor_id=actor_id,
        ip=ip,
    )


def revoke_grants(
    session: Session,
    *,
    opportunity_ids: list[int],
    reason: str,
    actor_id: int | None,
    now: datetime,
    ip: str | None = None,
) -> None:
    grants.revoke(
        session,
        source_type=grants.SOURCE_OPPORTUNITY,
        source_ids=opportunity_ids,
        reason=reason,
        actor_id=actor_id,
        ip=ip,
        now=now,
    )


def claim(
    session: Session,
    *,
    user: User,
    opportunity_id: int,
    ip: str | None,
    now: datetime | None = None,
    race_checked: bool = False,
) -> Opportunity:
    """Exactly one winner under any number of simultaneous claims: a race already settled is
    answered from the pool's record (`race.claim_turn`; `race_checked` when the caller took its
    turn before opening its session), the rule checks give clear reasons, and one conditional
    UPDATE (still shared, still under the cap) decides."""
    if user.role != Role.rm:
        raise forbidden("Only relationship managers claim opportunities.")
    if race_checked:
        return _claim(session, user=user, opportunity_id=opportunity_id, ip=ip, now=now)
    if session.in_transaction() and not (session.new or session.dirty or session.deleted):
        session.commit()  # ends the request's reads: no pooled connection held while waiting a turn
    with race.claim_turn(
        opportunity_id,
        user_id=row_id(user),
        role=user.role,
        branch_id=user.branch_id,
        team_id=user.team_id,
    ) as settled:
        if settled is not None:
            raise settled
        return _claim(session, user=user, opportunity_id=opportunity_id, ip=ip, now=now)


def _claim(
    session: Session, *, user: User, opportunity_id: int, ip: str | None, now: datetime | None
) -> Opportunity:
    now = now or utcnow()
    opp = session.get(Opportunity, opportunity_id)
    if opp is None or not (
        opp.originator_id == user.id or (opp.status != S.draft and in_audience(user=user, opp=opp))
    ):
        raise not_found("opportunity")
    if opp.status != S.shared:
        raise _lost_race(session, opp)
    if opp.originator_id == user.id:
        raise conflict("You shared this opportunity; another RM claims it.", code="own-opportunity")
    policy = get_policy(session)
    # On PostgreSQL the profile is read with the lock `under_cap` needs: one statement, not two.
    postgres = session.get_bind().dialect.name == "postgresql"
    profile = session.get(RmProfile, user.id, with_for_update=postgres)
    qualifications = list(profile.qualifications or []) if profile else []
    if (
        policy.require_qualification
        and opp.required_qualification
        and opp.required_qualification not in qualifications
    ):
        raise Problem(
            403,
            "Forbidden",
            f"This product needs the {opp.required_qualification} qualification.",
            code="not-qualified",
            qualification=opp.required_qualification,
        )
    if open_claims(session, rm_id=row_id(user)) >= policy.max_open_claims:
        raise Problem(
            403,
            "Forbidden",
            f"You already hold {policy.max_open_claims} open opportunities.",
            code="claim-cap",
            cap=policy.max_open_claims,
        )
    opens_at = as_utc(opp.shared_at or now) + timedelta(minutes=policy.priority_window_minutes)
    if now < opens_at and not has_priority(session, user=user, profile=profile, today=now.date()):
        raise Problem(
            403,
            "Forbidden",
            "During the priority window only RMs short of customers or of target may claim.",
            code="priority-window",
            opens_at=iso(opens_at),
        )
    originator_bp = originator_share_for(policy, opp.source)
    # RETURNING loads the row as the UPDATE left it into `opp`: no second read.
    claimed = session.execute(
        update(Opportunity)
        .where(
            col(Opportunity.id) == opportunity_id,
            col(Opportunity.status) == S.shared,
            under_cap(
                session,
                rm_id=row_id(user),
                cap=policy.max_open_claims,
                profile_locked=postgres and profile is not None,
            ),
        )
        .values(
            status=S.claimed,
            owner_id=user.id,
            claimed_at=now,
            last_activity_at=now,
            recycle_warned_at=None,
            originator_share_bp=originator_bp,
            closer_share_bp=FULL_SHARE_BP - originator_bp,
            version=Opportunity.version + 1,
            updated_at=now,
        )
        .returning(Opportunity)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).scalar_one_or_none()
    if claimed is None:
        session.rollback()
        session.refresh(opp)
        if opp.status != S.shared:
            raise _lost_race(session, opp)
        raise Problem(403, "Forbidden", "You reached the cap of open opportunities.", code="claim-cap")
    record_transition(
        session,
        opportunity_id=row_id(opp),
        from_status=S.shared,
        to_status=S.claimed,
        actor_id=user.id,
        reason="claimed",
        now=now,
    )
    grant_customer(session, opp=opp, rm_id=row_id(user), actor_id=row_id(user), ip=ip)
    audit.record(
        session,
        actor_id=user.id,
        action="opportunity.claim",
        object_type="opportunity",
        object_id=opp.id,
        ip=ip,
        detail={"originator_bp": originator_bp},
    )
    feed_event(session, opp=opp, kind="claimed", actor=user, now=now)
    events.publish(session, "opportunity.claimed", {"opportunity_id": opp.id, "owner_id": user.id})
    session.commit()
    return opp
