"""Benefit sharing on the performance ledger: the originator/closer split, a lead's adjustment
(offsetting entries, never a rewrite) and an RM's statement of shared credits."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from server.audit import service as audit
from server.customers.service import team_member_ids
from server.db import row_id
from server.errors import conflict, not_found
from server.opportunities.access import get_managed
from server.opportunities.models import BenefitAdjustment, Opportunity
from server.opportunities.models import OpportunityStatus as S
from server.opportunities.policy import FULL_SHARE_BP, get_policy, originator_share_for
from server.opportunities.schemas import BenefitAdjust
from server.org.models import Role, User
from server.performance.models import PerformanceEntry
from server.timeutil import iso, utcnow

CREDIT_KIND = "shared_credit"
CREDIT_SOURCE = "opportunity"
HELPER_CREDIT_SOURCE = "helper_task"
# The role part of a credit booked when a war room's campaign won a shared opportunity's customer:
# `opportunity:<id>:war_room-<room id>-originator|closer`.
CAMPAIGN_ROLE = "war_room-{room_id}-{role}"


def split_cents(revenue_cents: int, originator_bp: int) -> tuple[int, int]:
    """(originator, closer) in whole cents, rounded half up for the originator; the closer gets the
    remainder, so the two always add up to exactly the revenue."""
    originator = (revenue_cents * originator_bp + FULL_SHARE_BP // 2) // FULL_SHARE_BP
    return originator, revenue_cents - originator


def credit(
    session: Session, *, opp: Opportunity, rm_id: int, amount: int, role: str, booked_on: date
) -> None:
    if amount == 0:
        return
    session.add(
        PerformanceEntry(
            rm_id=rm_id,
            booked_on=booked_on,
            kind=CREDIT_KIND,
            amount_cents=amount,
            customer_id=opp.customer_id,
            product_id=opp.product_id,
            source=CREDIT_SOURCE,
            source_ref=f"opportunity:{opp.id}:{role}",
        )
    )


def credit_helper(
    session: Session, *, rm_id: int, amount: int, customer_id: int, task_id: int, booked_on: date
) -> None:
    """A helper's benefit credit for a finished helper task (助手), on the same ledger and kind as the
    shared credit of an opportunity. Booked once per task (the caller ends a task only once)."""
    if amount <= 0:
        return
    session.add(
        PerformanceEntry(
            rm_id=rm_id,
            booked_on=booked_on,
            kind=CREDIT_KIND,
            amount_cents=amount,
            customer_id=customer_id,
            source=HELPER_CREDIT_SOURCE,
            source_ref=f"helper_task:{task_id}:helper",
        )
    )


def lock(session: Session, opp_id: int) -> None:
    """Holds the opportunity's row until commit, so two books of its benefit cannot both see none."""
    session.execute(
        update(Opportunity)
        .where(col(Opportunity.id) == opp_id)
        .values(version=col(Opportunity.version))
        .execution_options(synchronize_session=False)
    )


def credit_campaign(
    session: Session,
    *,
    opp: Opportunity,
    closer_id: int,
    amount_cents: int,
    room_id: int,
    booked_on: date,
) -> tuple[int, int] | None:
    """A war room's campaign won the customer of a shared opportunity: the originator gets their
    share of the amount won (the split fixed at claim, else the policy's for the opportunity's
    source) and the member credited with the win the rest, on the ledger a close writes to. Once per
    opportunity: nothing when any shared credit is booked for it already (its own close, another
    room, an earlier close of this room). Returns (originator, closer) cents, or None."""
    opp_id = row_id(opp)
    lock(session, opp_id)
    if booked(session, opp_id=opp_id):
        return None
    share_bp = opp.originator_share_bp
    if share_bp is None:
        share_bp = originator_share_for(get_policy(session), opp.source)
    originator_cents, closer_cents = split_cents(amount_cents, share_bp)
    for rm_id, amount, role in (
        (opp.originator_id, originator_cents, "originator"),
        (closer_id, closer_cents, "closer"),
    ):
        credit(
            session,
            opp=opp,
            rm_id=rm_id,
            amount=amount,
            role=CAMPAIGN_ROLE.format(room_id=room_id, role=role),
            booked_on=booked_on,
        )
    return originator_cents, closer_cents


def campaign_credits(session: Session, *, room_id: int) -> list[PerformanceEntry]:
    """The shared credits a war room's campaign booked, in booking order."""
    marker = ":" + CAMPAIGN_ROLE.format(room_id=room_id, role="")
    return list(
        session.exec(
            select(PerformanceEntry)
            .where(
                PerformanceEntry.kind == CREDIT_KIND,
                PerformanceEntry.source == CREDIT_SOURCE,
                col(PerformanceEntry.source_ref).contains(marker, autoescape=True),
            )
            .order_by(col(PerformanceEntry.id))
        ).all()
    )


def booked(session: Session, *, opp_id: int) -> bool:
    """Whether the opportunity's benefit is on the ledger already (by its close or a campaign)."""
    return bool(_credited(session, opp_id=opp_id))


def _credited(session: Session, *, opp_id: int) -> dict[int, int]:
    rows = session.exec(
        select(PerformanceEntry.rm_id, func.sum(PerformanceEntry.amount_cents))
        .where(
            PerformanceEntry.kind == CREDIT_KIND,
            PerformanceEntry.source == CREDIT_SOURCE,
            col(PerformanceEntry.source_ref).like(f"opportunity:{opp_id}:%"),
        )
        .group_by(col(PerformanceEntry.rm_id))
    ).all()
    return {rm: int(total) for rm, total in rows}


def adjust_benefit(
    session: Session,
    *,
    user: User,
    opportunity_id: int,
    data: BenefitAdjust,
    ip: str | None,
    now: datetime | None = None,
) -> BenefitAdjustment:
    """A team lead moves credit between originator and closer. History is never rewritten: the
    ledger gets a pair of offsetting entries, and the two still add up to the revenue."""
    now = now or utcnow()
    opp = get_managed(session, user=user, opportunity_id=opportunity_id, action="adjusts a benefit split")
    if opp.status != S.won or opp.revenue_cents is None or opp.owner_id is None:
        raise conflict("Only a won opportunity's benefit can be adjusted.", code="not-won")
    credited = _credited(session, opp_id=row_id(opp))
    current = credited.get(opp.originator_id, 0)
    target, _ = split_cents(opp.revenue_cents, data.originator_share_bp)
    adjustment = BenefitAdjustment(
        opportunity_id=row_id(opp),
        actor_id=row_id(user),
        from_originator_cents=current,
        to_originator_cents=target,
        reason=data.reason,
        at=now,
    )
    session.add(adjustment)
    session.flush()
    delta = target - current
    role = f"adjustment:{adjustment.id}"
    credit(session, opp=opp, rm_id=opp.originator_id, amount=delta, role=role, booked_on=now.date())
    credit(session, opp=opp, rm_id=opp.owner_id, amount=-delta, role=role, booked_on=now.date())
    audit.record(
        session,
        actor_id=user.id,
        action="opportunity.benefit_adjust",
        object_type="opportunity",
        object_id=opp.id,
        ip=ip,
        detail={
            "from_originator_cents": current,
            "to_originator_cents": target,
            "originator_share_bp": data.originator_share_bp,
            "reason": data.reason,
        },
    )
    session.commit()
    return adjustment


def adjustment_public(adjustment: BenefitAdjustment) -> dict[str, Any]:
    return {
        "id": adjustment.id,
        "opportunity_id": adjustment.opportunity_id,
        "from_originator_cents": adjustment.from_originator_cents,
        "to_originator_cents": adjustment.to_originator_cents,
        "reason": adjustment.reason,
        "at": iso(adjustment.at),
    }


def statement(session: Session, *, user: User, rm_id: int | None, month: str | None) -> dict[str, Any]:
    """Credits an RM earned from shared opportunities (as originator, closer, or by adjustment)."""
    target_id = rm_id or user.id
    if target_id != user.id:
        allowed = user.role == Role.admin or (
            user.role == Role.team_lead and target_id in team_member_ids(session, lead=user)
        )
        if not allowed:
            raise not_found("statement")
    conds: list[Any] = [
        PerformanceEntry.rm_id == target_id,
        PerformanceEntry.kind == CREDIT_KIND,
        PerformanceEntry.source == CREDIT_SOURCE,
    ]
    if month:
        year, mon = int(month[:4]), int(month[5:])
        first = date(year, mon, 1)
        nxt = date(year + (mon == 12), mon % 12 + 1, 1)
        conds += [PerformanceEntry.booked_on >= first, PerformanceEntry.booked_on < nxt]
    entries = session.exec(select(PerformanceEntry).where(*conds).order_by(col(PerformanceEntry.id))).all()
    opp_ids = {int(e.source_ref.split(":")[1]) for e in entries if e.source_ref}
    titles = (
        dict(
            session.exec(
                select(Opportunity.id, Opportunity.title).where(col(Opportunity.id).in_(opp_ids))
            ).all()
        )
        if opp_ids
        else {}
    )
    items = []
    for e in entries:
        parts = (e.source_ref or "::").split(":")
        opp_id = int(parts[1]) if parts[1] else None
        role = parts[2] if len(parts) > 2 else ""
        room = role.split("-") if role.startswith("war_room-") else None  # war_room-<id>-<role>
        items.append(
            {
                "id": e.id,
                "opportunity_id": opp_id,
                "title": titles.get(opp_id, ""),
                "role": room[2] if room else role,
                "war_room_id": int(room[1]) if room else None,
                "amount_cents": e.amount_cents,
                "booked_on": iso(e.booked_on),
            }
        )
    return {
        "rm_id": target_id,
        "month": month,
        "total_cents": sum(e.amount_cents for e in entries),
        "items": items,
    }
