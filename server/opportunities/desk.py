"""The team lead's desk: whom an opportunity may go to under the claim rules, reassigning it, and
moving it between pools."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, update
from sqlmodel import Session, col, select

from server.audit import service as audit
from server.customers.service import team_member_ids
from server.db import row_id
from server.errors import Problem, conflict, unprocessable
from server.opportunities.access import get_managed
from server.opportunities.claims import grant_customer, revoke_grants, under_cap
from server.opportunities.feed import feed_event
from server.opportunities.history import notify, record_transition
from server.opportunities.models import ClaimPolicy, Opportunity, Visibility, default_split
from server.opportunities.models import OpportunityStatus as S
from server.opportunities.policy import FULL_SHARE_BP, OPEN, get_policy
from server.opportunities.schemas import ReassignRequest, TransferRequest
from server.org.models import Branch, RmProfile, Role, Team, User
from server.timeutil import utcnow


def _cap_problem(target: User, held: int, cap: int) -> Problem:
    return Problem(
        403,
        "Forbidden",
        f"{target.display_name} already holds {held} open opportunities (cap {cap}); "
        "give a reason to go past the cap.",
        code="claim-cap",
        cap=cap,
        open_claims=held,
        rm={"id": target.id, "display_name": target.display_name},
    )


def _open_claims_of(session: Session, rm_ids: list[int]) -> dict[int, int]:
    """Open claims per RM, in one grouped query."""
    rows = session.exec(
        select(Opportunity.owner_id, func.count())
        .where(col(Opportunity.owner_id).in_(rm_ids), col(Opportunity.status).in_(OPEN))
        .group_by(col(Opportunity.owner_id))
    ).all()
    return {int(rm): int(n) for rm, n in rows if rm is not None}


def holder_checks(
    session: Session, *, opp: Opportunity, rm_ids: list[int], policy: ClaimPolicy | None = None
) -> dict[int, dict[str, Any]]:
    """The admin's claim rules applied to RMs a lead might hand this opportunity to: whether each
    holds the product's qualification and whether one more would take them past the cap."""
    policy = policy or get_policy(session)
    profiles = {
        p.user_id: p for p in session.exec(select(RmProfile).where(col(RmProfile.user_id).in_(rm_ids))).all()
    }
    counts = _open_claims_of(session, rm_ids)
    out: dict[int, dict[str, Any]] = {}
    for rm_id in rm_ids:
        quals = (profiles[rm_id].qualifications if rm_id in profiles else None) or []
        held = counts.get(rm_id, 0)
        out[rm_id] = {
            "qualified": not (
                policy.require_qualification
                and opp.required_qualification
                and opp.required_qualification not in quals
            ),
            "open_claims": held,
            "max_open_claims": policy.max_open_claims,
            "at_cap": held >= policy.max_open_claims,
        }
    return out


def assignees(session: Session, *, user: User, opportunity_id: int) -> dict[str, Any]:
    """Who a lead may hand this opportunity to (the team's active RMs; an admin: the branch's),
    each with the claim rules' verdict, so the screen can ask for an override reason up front."""
    opp = get_managed(session, user=user, opportunity_id=opportunity_id, action="reassigns opportunities")
    conds: list[Any] = [User.role == Role.rm, col(User.is_active).is_(True), User.id != opp.originator_id]
    if user.role == Role.team_lead:
        conds.append(col(User.id).in_(team_member_ids(session, lead=user) or [-1]))
    else:
        conds.append(User.branch_id == opp.branch_id)
    rms = session.exec(select(User).where(*conds).order_by(col(User.id))).all()
    policy = get_policy(session)
    checks = holder_checks(session, opp=opp, rm_ids=[row_id(u) for u in rms], policy=policy)
    return {
        "opportunity_id": opp.id,
        "required_qualification": opp.required_qualification,
        "items": [
            {"id": u.id, "display_name": u.display_name, "current": u.id == opp.owner_id, **checks[row_id(u)]}
            for u in rms
        ],
    }


def reassign(
    session: Session,
    *,
    user: User,
    opportunity_id: int,
    data: ReassignRequest,
    ip: str | None,
    now: datetime | None = None,
) -> Opportunity:
    """A team lead hands an opportunity (in the pool or held) to an RM of the team. The new holder
    must hold the product's qualification; the open-claims cap holds unless the lead gives a
    `cap_override_reason`, which the audit entry keeps."""
    now = now or utcnow()
    rm_id, reason = data.rm_id, data.reason
    opp = get_managed(session, user=user, opportunity_id=opportunity_id, action="reassigns opportunities")
    target = session.get(User, rm_id)
    if target is None or target.role != Role.rm or not target.is_active:
        raise unprocessable("Pick an active RM.", code="bad-rm")
    if user.role == Role.team_lead and rm_id not in team_member_ids(session, lead=user):
        raise unprocessable("Pick an RM of your team.", code="bad-rm")
    if rm_id == opp.originator_id:
        raise unprocessable("The originator cannot hold their own opportunity.", code="bad-rm")
    previous = opp.owner_id
    from_status = opp.status
    if from_status not in (S.shared, *OPEN) or previous == rm_id:
        raise conflict(f"This opportunity is {opp.status}.", code="not-reassignable")
    policy = get_policy(session)
    check = holder_checks(session, opp=opp, rm_ids=[rm_id], policy=policy)[rm_id]
    if not check["qualified"]:
        raise Problem(
            403,
            "Forbidden",
            f"{target.display_name} lacks the {opp.required_qualification} qualification.",
            code="not-qualified",
            qualification=opp.required_qualification,
        )
    override = data.cap_override_reason if check["at_cap"] else None
    if check["at_cap"] and override is None:
        raise _cap_problem(target, check["open_claims"], policy.max_open_claims)
    originator_bp = opp.originator_share_bp
    if from_status == S.shared:
        originator_bp = {**default_split(), **(policy.originator_share_bp or {})}.get(opp.source, 3000)
    values: dict[str, Any] = {
        "owner_id": rm_id,
        "last_activity_at": now,  # a new holder gets a full recycle period
        "recycle_warned_at": None,
        "version": Opportunity.version + 1,
        "updated_at": now,
        "originator_share_bp": originator_bp,
        "closer_share_bp": FULL_SHARE_BP - (originator_bp or 0),
    }
    if from_status == S.shared:
        values |= {"status": S.claimed, "claimed_at": now}
    conds: list[Any] = [
        col(Opportunity.id) == opp.id,
        col(Opportunity.status) == from_status,
        col(Opportunity.owner_id).is_(None) if previous is None else col(Opportunity.owner_id) == previous,
    ]
    if override is None:
        # The cap is checked again inside the UPDATE, so a claim by the same RM that lands
        # meanwhile cannot push them past it (the same guard as a claim's).
        conds.append(under_cap(session, rm_id=rm_id, cap=policy.max_open_claims))
    result = cast(
        CursorResult[Any],
        session.execute(
            update(Opportunity).where(*conds).values(**values).execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        session.rollback()
        session.refresh(opp)
        if opp.status == from_status and opp.owner_id == previous:
            raise _cap_problem(target, policy.max_open_claims, policy.max_open_claims)
        raise conflict("Someone changed this opportunity meanwhile; reload.", code="stale")
    session.refresh(opp)
    record_transition(
        session,
        opportunity_id=row_id(opp),
        from_status=from_status,
        to_status=opp.status,
        actor_id=user.id,
        reason=f"reassigned: {reason}",
        now=now,
    )
    revoke_grants(
        session, opportunity_ids=[row_id(opp)], reason="reassigned", actor_id=user.id, now=now, ip=ip
    )
    grant_customer(session, opp=opp, rm_id=rm_id, actor_id=row_id(user), ip=ip)
    audit.record(
        session,
        actor_id=user.id,
        action="opportunity.reassign",
        object_type="opportunity",
        object_id=opp.id,
        ip=ip,
        detail={
            "from_rm_id": previous,
            "to_rm_id": rm_id,
            "reason": reason,
            "open_claims": check["open_claims"],
            "max_open_claims": policy.max_open_claims,
            "cap_override_reason": override,
        },
    )
    if from_status == S.shared:
        feed_event(session, opp=opp, kind="claimed", actor=target, now=now)
    for uid, title in ((rm_id, "团队主管分配给你一个商机"), (previous, "你的商机已被改派")):
        if uid:
            notify(
                session,
                user_id=uid,
                title=title,
                body=opp.title,
                opp_id=row_id(opp),
                key=f"reassign:{now.isoformat()}",
            )
    session.commit()
    return opp


def transfer(
    session: Session,
    *,
    user: User,
    opportunity_id: int,
    data: TransferRequest,
    ip: str | None,
    now: datetime | None = None,
) -> Opportunity:
    """A team lead moves a pooled opportunity to another pool (e.g. team → whole bank)."""
    now = now or utcnow()
    opp = get_managed(
        session, user=user, opportunity_id=opportunity_id, action="moves opportunities between pools"
    )
    if opp.status != S.shared:
        raise conflict("Only an opportunity in the pool can move pools.", code="not-in-pool")
    if data.visibility == Visibility.private:
        raise unprocessable("Pick a pool: team, branch or bank.", code="private")
    before = {"visibility": opp.visibility, "branch_id": opp.branch_id, "team_id": opp.team_id}
    if data.team_id is not None:
        team = session.get(Team, data.team_id)
        if team is None:
            raise unprocessable("No such team.", code="bad-team")
    if data.branch_id is not None and session.get(Branch, data.branch_id) is None:
        raise unprocessable("No such branch.", code="bad-branch")
    # The old audience drops the card; the new one gets it as newly shared.
    feed_event(session, opp=opp, kind="withdrawn", actor=user, now=now)
    opp.visibility = data.visibility.value
    opp.branch_id = data.branch_id if data.branch_id is not None else opp.branch_id
    opp.team_id = data.team_id if data.team_id is not None else opp.team_id
    if opp.visibility == Visibility.team and opp.team_id is None:
        raise unprocessable("A team pool needs team_id.", code="bad-team")
    opp.shared_at = now
    opp.version += 1
    opp.updated_at = now
    record_transition(
        session,
        opportunity_id=row_id(opp),
        from_status=S.shared,
        to_status=S.shared,
        actor_id=user.id,
        reason=f"transferred to {opp.visibility}: {data.reason}",
        now=now,
    )
    session.add(opp)
    session.flush()
    feed_event(session, opp=opp, kind="shared", actor=user, now=now)
    audit.record(
        session,
        actor_id=user.id,
        action="opportunity.transfer",
        object_type="opportunity",
        object_id=opp.id,
        ip=ip,
        detail={
            "before": before,
            "after": {"visibility": opp.visibility, "branch_id": opp.branch_id, "team_id": opp.team_id},
            "reason": data.reason,
        },
    )
    session.commit()
    return opp
