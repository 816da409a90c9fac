"""An opportunity's own life: created (and perhaps shared at once), shared from a draft, worked by
its holder, closed won or lost."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlmodel import Session, col

from server.audit import service as audit
from server.customers.service import get_customer_for
from server.db import row_id
from server.errors import conflict, forbidden, unprocessable
from server.opportunities.access import get_for
from server.opportunities.benefits import booked, credit, split_cents
from server.opportunities.claims import revoke_grants
from server.opportunities.feed import feed_event
from server.opportunities.history import notify, record_transition, transition
from server.opportunities.models import Opportunity, OpportunityActivity, Visibility
from server.opportunities.models import OpportunityStatus as S
from server.opportunities.policy import OPEN
from server.opportunities.schemas import (
    ActivityCreate,
    CloseRequest,
    OpportunityCreate,
    Outcome,
    ShareRequest,
)
from server.org.models import Role, User
from server.products.models import Product
from server.timeutil import utcnow


def _quality_score(data: OpportunityCreate, *, has_customer: bool, today: date) -> int:
    """A simple, explainable 0-100: how actionable the lead is as shared."""
    score = 40
    score += 15 if has_customer else 0
    score += 10 if data.estimated_amount_cents else 0
    score += 10 if data.product_id else 0
    if data.expected_date and today <= data.expected_date <= today + timedelta(days=90):
        score += 10
    score += 5 if data.note and len(data.note) >= 20 else 0
    score += {"contract_signal": 10, "intel_alert": 5, "war_room": 5}.get(data.source.value, 0)
    return min(score, 100)


def create_opportunity(
    session: Session,
    *,
    user: User,
    data: OpportunityCreate,
    ip: str | None,
    now: datetime | None = None,
    import_id: int | None = None,
    commit: bool = True,
) -> Opportunity:
    now = now or utcnow()
    if user.role not in (Role.rm, Role.team_lead, Role.admin):
        raise forbidden("Only bank staff share opportunities.")
    opp = Opportunity(
        title=data.title.strip(),
        customer_kind=data.customer_kind,
        region_code=data.region_code,
        industry_code=data.industry_code,
        size=data.size,
        tier=data.tier or "mass",
        estimated_amount_cents=data.estimated_amount_cents,
        expected_date=data.expected_date,
        source=data.source.value,
        source_ref=data.source_ref,
        note=data.note,
        originator_id=row_id(user),
        branch_id=user.branch_id,
        team_id=user.team_id,
        visibility=data.visibility.value,
        quality_score=_quality_score(data, has_customer=data.customer_id is not None, today=now.date()),
        status=S.draft,
        import_id=import_id,
        created_at=now,
        updated_at=now,
    )
    if data.customer_id is not None:
        customer = get_customer_for(session, user=user, customer_id=data.customer_id)  # 404 if not theirs
        opp.customer_id = customer.id
        opp.customer_kind = customer.kind
        opp.region_code = data.region_code or customer.region_code
        opp.industry_code = data.industry_code or customer.industry_code
        opp.size = data.size or customer.size
        opp.tier = data.tier or customer.tier
    else:
        opp.prospect_name = (data.prospect_name or "").strip()
    if data.product_id is not None:
        product = session.get(Product, data.product_id)
        if product is None:
            raise unprocessable(
                "No such product.",
                errors=[{"field": "product_id", "message": "unknown product", "type": "value_error"}],
            )
        opp.product_id = product.id
        opp.required_qualification = product.required_qualification
    if data.visibility == Visibility.team and user.team_id is None:
        raise unprocessable("You are in no team; share to your branch.", code="no-team")
    sharing = data.share and data.visibility != Visibility.private
    if sharing:  # stored shared in its first INSERT; both transitions are still recorded below
        opp.shared_at = now
        opp.version += 1
        opp.status = S.shared
    session.add(opp)
    session.flush()
    record_transition(
        session,
        opportunity_id=row_id(opp),
        from_status=None,
        to_status=S.draft,
        actor_id=user.id,
        reason="created",
        now=now,
    )
    audit.record(
        session,
        actor_id=user.id,
        action="opportunity.create",
        object_type="opportunity",
        object_id=opp.id,
        ip=ip,
        detail={"source": opp.source, "customer_id": opp.customer_id, "import_id": import_id},
    )
    if sharing:
        record_transition(
            session,
            opportunity_id=row_id(opp),
            from_status=S.draft,
            to_status=S.shared,
            actor_id=user.id,
            reason="shared",
            now=now,
        )
        feed_event(session, opp=opp, kind="shared", actor=user, now=now)
    if commit:
        session.commit()
    return opp


def _share(session: Session, opp: Opportunity, *, actor: User, now: datetime) -> None:
    transition(session, opp=opp, to=S.shared, actor_id=actor.id, reason="shared", now=now)
    opp.shared_at = now
    opp.updated_at = now
    opp.version += 1
    session.add(opp)
    session.flush()
    feed_event(session, opp=opp, kind="shared", actor=actor, now=now)


def share(
    session: Session,
    *,
    user: User,
    opportunity_id: int,
    data: ShareRequest,
    ip: str | None,
    now: datetime | None = None,
) -> Opportunity:
    now = now or utcnow()
    visibility = data.visibility
    opp = get_for(session, user=user, opportunity_id=opportunity_id)
    if opp.originator_id != user.id:
        raise forbidden("Only the originator shares a draft.")
    if opp.status != S.draft:
        raise conflict(f"This opportunity is already {opp.status}.", code="not-draft")
    if visibility is not None:
        opp.visibility = visibility.value
    if opp.visibility == Visibility.private:
        raise unprocessable("Pick a pool: team, branch or bank.", code="private")
    _share(session, opp, actor=user, now=now)
    audit.record(
        session,
        actor_id=user.id,
        action="opportunity.share",
        object_type="opportunity",
        object_id=opp.id,
        ip=ip,
        detail={"visibility": opp.visibility},
    )
    session.commit()
    return opp


def _require_owner(opp: Opportunity, user: User) -> None:
    if opp.owner_id != user.id:
        raise forbidden("Only the RM holding this opportunity may do this.")


def record_activity(
    session: Session,
    *,
    user: User,
    opportunity_id: int,
    data: ActivityCreate,
    ip: str | None,
    now: datetime | None = None,
) -> OpportunityActivity:
    now = now or utcnow()
    opp = get_for(session, user=user, opportunity_id=opportunity_id)
    _require_owner(opp, user)
    if opp.status not in OPEN:
        raise conflict(f"This opportunity is {opp.status}.", code="not-open")
    # Conditional on still holding it, so a recycle that just ran is not silently undone.
    result = cast(
        CursorResult[Any],
        session.execute(
            update(Opportunity)
            .where(
                col(Opportunity.id) == opp.id,
                col(Opportunity.owner_id) == user.id,
                col(Opportunity.status).in_(OPEN),
            )
            .values(last_activity_at=now, recycle_warned_at=None, updated_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        session.rollback()
        raise conflict("This opportunity is no longer yours.", code="not-open")
    session.refresh(opp)
    activity = OpportunityActivity(
        opportunity_id=row_id(opp),
        actor_id=row_id(user),
        kind=data.kind,
        note=data.note,
        at=now,
    )
    session.add(activity)
    if opp.status == S.claimed:
        transition(
            session, opp=opp, to=S.in_progress, actor_id=user.id, reason=f"activity:{data.kind}", now=now
        )
        session.add(opp)
    session.commit()
    return activity


def close(
    session: Session,
    *,
    user: User,
    opportunity_id: int,
    data: CloseRequest,
    ip: str | None,
    now: datetime | None = None,
) -> Opportunity:
    now = now or utcnow()
    opp = get_for(session, user=user, opportunity_id=opportunity_id)
    _require_owner(opp, user)
    result = cast(
        CursorResult[Any],
        session.execute(
            update(Opportunity)
            .where(
                col(Opportunity.id) == opp.id,
                col(Opportunity.owner_id) == user.id,
                col(Opportunity.status).in_(OPEN),
            )
            .values(version=Opportunity.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        session.rollback()
        raise conflict(f"This opportunity is {opp.status}.", code="not-open")
    session.refresh(opp)
    transition(
        session,
        opp=opp,
        to=data.outcome.value,
        actor_id=user.id,
        reason=data.reason or data.outcome.value,
        now=now,
    )
    opp.closed_at = now
    if data.outcome == Outcome.won:
        opp.won_amount_cents = data.amount_cents
        opp.revenue_cents = data.revenue_cents
        # Once per opportunity: a war room's campaign that won its customer may have booked it already
        # (the conditional UPDATE above holds the row, as the campaign's booking does).
        if not booked(session, opp_id=row_id(opp)):
            originator_cents, closer_cents = split_cents(
                data.revenue_cents or 0, opp.originator_share_bp or 0
            )
            credit(
                session,
                opp=opp,
                rm_id=opp.originator_id,
                amount=originator_cents,
                role="originator",
                booked_on=now.date(),
            )
            credit(
                session, opp=opp, rm_id=row_id(user), amount=closer_cents, role="closer", booked_on=now.date()
            )
    else:
        revoke_grants(
            session,
            opportunity_ids=[row_id(opp)],
            reason=f"closed_{data.outcome.value}",
            actor_id=user.id,
            now=now,
            ip=ip,
        )
    session.add(opp)
    audit.record(
        session,
        actor_id=user.id,
        action=f"opportunity.{data.outcome.value}",
        object_type="opportunity",
        object_id=opp.id,
        ip=ip,
        detail={"amount_cents": data.amount_cents, "revenue_cents": data.revenue_cents},
    )
    notify(
        session,
        user_id=opp.originator_id,
        title="你共享的商机已成交" if data.outcome == Outcome.won else "你共享的商机未成交",
        body=opp.title,
        opp_id=row_id(opp),
        key=f"closed:{data.outcome.value}",
    )
    session.commit()
    return opp
