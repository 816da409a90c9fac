"""Pool cards and the detail view, with every lookup done once per list; the RM's own lists."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import or_
from sqlmodel import Session, col, select

from server.customers.models import Customer
from server.customers.service import team_member_ids
from server.db import id_col
from server.errors import forbidden
from server.masking import mask
from server.opportunities.access import lead_manages, led_team_ids
from server.opportunities.models import ClaimPolicy, Opportunity, OpportunityActivity, OpportunityTransition
from server.opportunities.models import OpportunityStatus as S
from server.opportunities.policy import OPEN, get_policy, recycle_days
from server.org.models import Role, User
from server.products.models import Product
from server.reference import industry_name, region_name
from server.timeutil import as_utc, iso

_NAMES = "zhanye_display_names"  # the session.info key the names are kept under


def customer_label(kind: str, name: str | None) -> str | None:
    if not name:
        return name
    # An individual's full name is personal data: the pool shows only the surname.
    return name if kind == "corporate" else mask("person_name", name)


def _display_names(session: Session, user_ids: set[int]) -> dict[int, str]:
    """Names for cards, remembered for the session: a share or a claim serialises its card twice
    (the feed event and the answer), and the signed-in user is already loaded."""
    known: dict[int, str] = session.info.setdefault(_NAMES, {})
    missing = user_ids - known.keys()
    mapper = sa_inspect(User)
    for uid in list(missing):
        loaded = session.identity_map.get(mapper.identity_key_from_primary_key((uid,)))
        if loaded is not None:
            known[uid] = loaded.display_name
            missing.discard(uid)
    if missing:
        known.update(
            session.exec(select(id_col(User.id), User.display_name).where(col(User.id).in_(missing))).all()
        )
    return {uid: known[uid] for uid in user_ids if uid in known}


def summaries(session: Session, opps: list[Opportunity], *, policy: ClaimPolicy | None = None) -> list[dict]:
    """Pool cards, with every lookup done once for the whole list."""
    if not opps:
        return []
    policy = policy or get_policy(session)
    names = _display_names(
        session, {o.originator_id for o in opps} | {o.owner_id for o in opps if o.owner_id}
    )
    product_ids = {o.product_id for o in opps if o.product_id}
    products = (
        {p.id: p for p in session.exec(select(Product).where(col(Product.id).in_(product_ids))).all()}
        if product_ids
        else {}
    )
    customer_ids = {o.customer_id for o in opps if o.customer_id}
    customers = (
        dict(session.exec(select(Customer.id, Customer.name).where(col(Customer.id).in_(customer_ids))).all())
        if customer_ids
        else {}
    )

    def person(uid: int | None) -> dict | None:
        if uid is None:
            return None
        return {"id": uid, "display_name": names.get(uid, "")}

    out = []
    for o in opps:
        product = products.get(o.product_id) if o.product_id else None
        name = customers.get(o.customer_id) if o.customer_id else o.prospect_name
        due = None
        if o.status in OPEN and o.last_activity_at is not None:
            due = as_utc(o.last_activity_at) + timedelta(days=recycle_days(policy, o.tier))
        priority_until = (
            as_utc(o.shared_at) + timedelta(minutes=policy.priority_window_minutes)
            if o.status == S.shared and o.shared_at is not None
            else None
        )
        out.append(
            {
                "id": o.id,
                "title": o.title,
                "customer": {
                    "id": o.customer_id,
                    "label": customer_label(o.customer_kind, name),
                    "kind": o.customer_kind,
                    "is_prospect": o.customer_id is None,
                },
                "region_code": o.region_code,
                "region_name": region_name(o.region_code),
                "industry_code": o.industry_code,
                "industry_name": industry_name(o.industry_code),
                "size": o.size,
                "tier": o.tier,
                "product": (
                    {
                        "id": product.id,
                        "name": product.name,
                        "required_qualification": o.required_qualification,
                    }
                    if product
                    else None
                ),
                "estimated_amount_cents": o.estimated_amount_cents,
                "expected_date": iso(o.expected_date),
                "source": o.source,
                "visibility": o.visibility,
                "quality_score": o.quality_score,
                "status": o.status,
                "originator": person(o.originator_id),
                "owner": person(o.owner_id),
                "shared_at": iso(o.shared_at),
                "claimed_at": iso(o.claimed_at),
                "last_activity_at": iso(o.last_activity_at),
                "priority_until": iso(priority_until),
                "recycle_due_at": iso(due),
                "recycle_warned": o.recycle_warned_at is not None and o.status in OPEN,
                "split": (
                    {"originator_bp": o.originator_share_bp, "closer_bp": o.closer_share_bp}
                    if o.originator_share_bp is not None
                    else None
                ),
                "won_amount_cents": o.won_amount_cents,
                "revenue_cents": o.revenue_cents,
                "version": o.version,
            }
        )
    return out


def detail(session: Session, *, user: User, opp: Opportunity) -> dict[str, Any]:
    out = summaries(session, [opp])[0]
    out["note"] = opp.note
    out["can_manage"] = lead_manages(session, user=user, opp=opp)
    insider = user.id in (opp.originator_id, opp.owner_id) or user.role in (Role.team_lead, Role.admin)
    if insider:
        out["transitions"] = [
            {
                "from": t.from_status,
                "to": t.to_status,
                "actor_id": t.actor_id,
                "reason": t.reason,
                "at": iso(t.at),
            }
            for t in session.exec(
                select(OpportunityTransition)
                .where(OpportunityTransition.opportunity_id == opp.id)
                .order_by(col(OpportunityTransition.id))
            ).all()
        ]
        out["activities"] = [
            {"id": a.id, "kind": a.kind, "note": a.note, "actor_id": a.actor_id, "at": iso(a.at)}
            for a in session.exec(
                select(OpportunityActivity)
                .where(OpportunityActivity.opportunity_id == opp.id)
                .order_by(col(OpportunityActivity.id).desc())
            ).all()
        ]
    return out


def mine(session: Session, *, user: User, role: str, status: str | None, limit: int) -> list[dict]:
    """My claimed (owner) or shared (originator) opportunities; for a team lead (team) every
    opportunity of the team, the lead's desk for reassigning, moving pools and adjusting splits."""
    conds: list[Any]
    if role == "team":
        if user.role != Role.team_lead:
            raise forbidden("Only a team lead has a team's opportunities.")
        members = team_member_ids(session, lead=user) or [-1]
        conds = [
            col(Opportunity.status) != S.draft,
            or_(
                col(Opportunity.team_id).in_(led_team_ids(session, lead=user) or [-1]),
                col(Opportunity.originator_id).in_(members),
                col(Opportunity.owner_id).in_(members),
            ),
        ]
    else:
        column = Opportunity.owner_id if role == "owner" else Opportunity.originator_id
        conds = [column == user.id]
    if status:
        conds.append(col(Opportunity.status) == status)
    rows = session.exec(
        select(Opportunity).where(*conds).order_by(col(Opportunity.updated_at).desc()).limit(limit)
    ).all()
    return summaries(session, list(rows))
