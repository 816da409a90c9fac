"""Rules of the opportunity pool: share, claim (one conditional UPDATE decides every race), work,
close, recycle, reassign and transfer, benefit sharing on the performance ledger, and each RM's
feed ranked by fit. Every lifecycle step writes an `opportunity_transition` row; every pool-visible
change writes a `feed_event` row (the live stream's sequence) and publishes it after commit."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, text, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from server import events
from server.audit import service as audit
from server.customers import grants
from server.customers.models import Customer
from server.customers.service import get_customer_for, team_member_ids
from server.db import id_col, row_id
from server.errors import Problem, forbidden, not_found
from server.inbox import service as inbox
from server.opportunities import race
from server.opportunities.models import (
    OPEN_CLAIM_STATUSES,
    BenefitAdjustment,
    ClaimPolicy,
    FeedEvent,
    Opportunity,
    OpportunityActivity,
    OpportunitySource,
    OpportunityStatus,
    OpportunityTransition,
    Visibility,
    default_recycle_days,
    default_split,
)
from server.opportunities.schemas import (
    ActivityCreate,
    BenefitAdjust,
    CloseRequest,
    FeedQuery,
    OpportunityCreate,
    Outcome,
    PolicyUpdate,
    ReassignRequest,
    ShareRequest,
    TransferRequest,
)
from server.org.models import Branch, Persona, RmProfile, Role, Team, User
from server.performance.models import PerformanceEntry, PerformanceTarget
from server.products.models import Product
from server.reference import industry_name, region_name
from server.timeutil import as_utc, iso, month_key, utcnow

S = OpportunityStatus
OPEN = tuple(s.value for s in OPEN_CLAIM_STATUSES)
FULL_SHARE_BP = 10_000
DEFAULT_RECYCLE_DAYS = 7
CREDIT_KIND = "shared_credit"
CREDIT_SOURCE = "opportunity"
_POLICY = "zhanye_claim_policy"  # session.info keys
_NAMES = "zhanye_display_names"

SECTION_NAMES = {
    "A": "农林牧渔业",
    "B": "采矿业",
    "C": "制造业",
    "D": "能源供应业",
    "E": "建筑业",
    "F": "批发零售业",
    "G": "交通物流业",
    "H": "住宿餐饮业",
    "I": "信息技术业",
    "J": "金融业",
    "K": "房地产业",
    "L": "商务服务业",
    "M": "科技服务业",
    "N": "环保公共设施业",
    "P": "教育",
    "Q": "卫生",
    "R": "文化体育业",
    "S": "公共管理",
}
SIZE_NAMES = {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"}
QUALIFICATION_NAMES = {
    "fund_sales": "基金销售",
    "insurance_agent": "保险代理",
    "wealth_management": "理财销售",
    "credit_approval": "授信审批",
    "fx_trading": "外汇交易",
}


# --- policy ----------------------------------------------------------------------------------------


def get_policy(session: Session) -> ClaimPolicy:
    """The pool's rules (row 1, seeded by the migration); defaults if someone removed it. Read once
    per session: the session keeps it (its identity map alone holds rows only weakly, so a share or
    a claim would read it three times)."""
    policy = session.info.get(_POLICY)
    if policy is None or (policy.id is not None and policy not in session):
        policy = session.info[_POLICY] = session.get(ClaimPolicy, 1) or ClaimPolicy(id=1)
    return policy


def policy_public(policy: ClaimPolicy) -> dict[str, Any]:
    return {
        "require_qualification": policy.require_qualification,
        "max_open_claims": policy.max_open_claims,
        "priority_window_minutes": policy.priority_window_minutes,
        "recycle_days": {**default_recycle_days(), **(policy.recycle_days or {})},
        "originator_share_bp": {**default_split(), **(policy.originator_share_bp or {})},
        "updated_at": iso(policy.updated_at),
    }


def update_policy(session: Session, *, user: User, data: PolicyUpdate, ip: str | None) -> ClaimPolicy:
    if user.role != Role.admin:
        raise forbidden("Only an administrator sets the pool's rules.")
    policy = session.get(ClaimPolicy, 1)
    if policy is None:
        policy = ClaimPolicy(id=1)
    before = policy_public(policy)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    for name, value in changes.items():
        if name in ("recycle_days", "originator_share_bp"):
            value = {**(getattr(policy, name) or {}), **value}  # merge: unmentioned keys stay
        setattr(policy, name, value)
    policy.updated_by = user.id
    policy.updated_at = utcnow()
    session.add(policy)
    audit.record(
        session,
        actor_id=user.id,
        action="opportunity.policy",
        object_type="claim_policy",
        object_id=1,
        ip=ip,
        detail={"before": before, "changes": changes},
    )
    session.commit()
    return policy


def _recycle_days(policy: ClaimPolicy, tier: str) -> int:
    return {**default_recycle_days(), **(policy.recycle_days or {})}.get(tier, DEFAULT_RECYCLE_DAYS)


# --- who may see what -------------------------------------------------------------------------------


def _profile(session: Session, user: User) -> RmProfile | None:
    return session.get(RmProfile, user.id) if user.role == Role.rm else None


def audience_condition(user: User) -> Any:
    """SQL: opportunities in this RM's pools (team, branch, whole bank)."""
    return or_(
        col(Opportunity.visibility) == Visibility.bank,
        and_(col(Opportunity.visibility) == Visibility.branch, col(Opportunity.branch_id) == user.branch_id),
        and_(col(Opportunity.visibility) == Visibility.team, col(Opportunity.team_id) == user.team_id),
    )


def _in_audience(user: User, opp: Opportunity) -> bool:
    if opp.visibility == Visibility.bank:
        return True
    if opp.visibility == Visibility.branch:
        return opp.branch_id is not None and opp.branch_id == user.branch_id
    if opp.visibility == Visibility.team:
        return opp.team_id is not None and opp.team_id == user.team_id
    return False


def _led_team_ids(session: Session, lead: User) -> list[int]:
    return list(session.exec(select(Team.id).where(Team.lead_id == lead.id)).all())  # type: ignore[arg-type]


def lead_manages(session: Session, *, user: User, opp: Opportunity) -> bool:
    if user.role == Role.admin:
        return True
    if user.role != Role.team_lead:
        return False
    if opp.team_id is not None and opp.team_id in _led_team_ids(session, user):
        return True
    members = set(team_member_ids(session, lead=user))
    return opp.originator_id in members or (opp.owner_id is not None and opp.owner_id in members)


def can_view(session: Session, *, user: User, opp: Opportunity) -> bool:
    if user.id in (opp.originator_id, opp.owner_id) or user.role == Role.admin:
        return True
    if user.role == Role.team_lead:
        return lead_manages(session, user=user, opp=opp)
    return user.role == Role.rm and opp.status != S.draft and _in_audience(user, opp)


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


# --- serialisation ----------------------------------------------------------------------------------


def _customer_label(kind: str, name: str | None) -> str | None:
    if not name:
        return name
    # An individual's full name is personal data: the pool shows only the surname.
    return name if kind == "corporate" else name[0] + "**"


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
            due = as_utc(o.last_activity_at) + timedelta(days=_recycle_days(policy, o.tier))
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
                    "label": _customer_label(o.customer_kind, name),
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


# --- the live stream ---------------------------------------------------------------------------------


def _pool_room(visibility: str, branch_id: int | None, team_id: int | None) -> str | None:
    if visibility == Visibility.bank:
        return "feed:bank"
    if visibility == Visibility.branch and branch_id is not None:
        return f"feed:branch:{branch_id}"
    if visibility == Visibility.team and team_id is not None:
        return f"feed:team:{team_id}"
    return None


def event_room(
    visibility: str, branch_id: int | None, team_id: int | None, qualification: str | None
) -> str | None:
    """The pool's room for an event: `<pool>:all` when anyone in the pool may claim it, or
    `<pool>:q:<qualification>` when the policy asks for a qualification it names. An RM's socket
    joins both kinds for its pools (one per qualification held), so a room emit is the server-side
    visibility and qualification filter, and a policy change needs no socket to change rooms."""
    pool = _pool_room(visibility, branch_id, team_id)
    if pool is None:
        return None
    return f"{pool}:q:{qualification}" if qualification else f"{pool}:all"


def lead_room(team_id: int) -> str:
    """A team lead watches the opportunities of the teams they lead, in whatever pool (the ones
    `lead_manages` lets them open, reassign and transfer)."""
    return f"feed:lead:team:{team_id}"


def socket_rooms(session: Session, *, user: User) -> list[str]:
    """The feed rooms of a user's socket, from the database as it is now (at connect, and again
    whenever the user's team, qualifications or role change)."""
    if user.role == Role.team_lead:
        return [lead_room(team_id) for team_id in _led_team_ids(session, user)]
    if user.role != Role.rm or not user.is_active:
        return []
    profile = _profile(session, user)
    qualifications = sorted(set(profile.qualifications or [])) if profile else []
    rooms = []
    for pool in (
        "feed:bank",
        _pool_room(Visibility.branch, user.branch_id, None),
        _pool_room(Visibility.team, None, user.team_id),
    ):
        if pool is not None:
            rooms += [f"{pool}:all", *(f"{pool}:q:{qual}" for qual in qualifications)]
    return rooms


def event_rooms(event: dict[str, Any]) -> list[str]:
    """Every room an event goes to: its pool's room for its audience qualification, the leads of
    its team, and the originator and (previous) holder."""
    rooms = []
    pool = event_room(
        event["visibility"], event.get("branch_id"), event.get("team_id"), event.get("audience_qualification")
    )
    if pool is not None:
        rooms.append(pool)
    if event.get("team_id"):
        rooms.append(lead_room(event["team_id"]))
    people: set[int] = {
        uid
        for uid in (event.get("originator_id"), event.get("owner_id"), event.get("previous_owner_id"))
        if uid
    }
    rooms += [f"user:{uid}" for uid in sorted(people)]
    return rooms


def _serialize_event(ev: FeedEvent) -> dict[str, Any]:
    return {"seq": ev.seq, "kind": ev.kind, "at": iso(ev.at), **ev.payload}


def _feed_event(
    session: Session,
    opp: Opportunity,
    kind: str,
    *,
    actor: User | None,
    now: datetime,
    previous_owner_id: int | None = None,
    card: dict | None = None,
) -> FeedEvent:
    card = card or summaries(session, [opp])[0]
    if session.get_bind().dialect.name == "postgresql":
        # Serialise feed writers to commit order, so a client never sees seq N+1 before N commits
        # (SQLite serialises writers anyway). The transaction's other writes go first, so the lock
        # is held only for the feed row and the commit: every writer of the pool waits on it.
        session.flush()
        session.exec(text("SELECT pg_advisory_xact_lock(732001)"))  # type: ignore[call-overload]
    ev = FeedEvent(
        kind=kind,
        opportunity_id=opp.id,  # type: ignore[arg-type]
        visibility=opp.visibility,
        branch_id=opp.branch_id,
        team_id=opp.team_id,
        required_qualification=opp.required_qualification,
        originator_id=opp.originator_id,
        payload={
            "opportunity": card,
            "actor": {"id": actor.id, "display_name": actor.display_name} if actor else None,
            "previous_owner_id": previous_owner_id,
        },
        at=now,
    )
    session.add(ev)
    session.flush()
    events.publish(
        session,
        "opportunity.feed",
        {
            "event": _serialize_event(ev),
            "visibility": ev.visibility,
            "branch_id": ev.branch_id,
            "team_id": ev.team_id,
            "required_qualification": ev.required_qualification,
            # who may claim it is decided when the event is written, by the policy then in force
            "audience_qualification": ev.required_qualification
            if get_policy(session).require_qualification
            else None,
            "originator_id": ev.originator_id,
            "owner_id": opp.owner_id,
            "previous_owner_id": previous_owner_id,
        },
    )
    return ev


def events_since(session: Session, *, user: User, after_seq: int, limit: int = 500) -> list[dict[str, Any]]:
    """The gap a reconnecting client may see, from the database, in order."""
    if user.role == Role.team_lead:
        # the same audience as the lead's live room: their teams' opportunities, and their own
        led = _led_team_ids(session, user)
        rows = session.exec(
            select(FeedEvent)
            .where(
                col(FeedEvent.seq) > after_seq,
                or_(col(FeedEvent.team_id).in_(led or [-1]), col(FeedEvent.originator_id) == user.id),
            )
            .order_by(col(FeedEvent.seq))
            .limit(limit)
        ).all()
        return [_serialize_event(ev) for ev in rows]
    policy = get_policy(session)
    profile = _profile(session, user)
    if profile is None:
        return []
    conds: list[Any] = [
        col(FeedEvent.seq) > after_seq,
        or_(
            col(FeedEvent.visibility) == Visibility.bank,
            and_(col(FeedEvent.visibility) == Visibility.branch, col(FeedEvent.branch_id) == user.branch_id),
            and_(col(FeedEvent.visibility) == Visibility.team, col(FeedEvent.team_id) == user.team_id),
            col(FeedEvent.originator_id) == user.id,
        ),
    ]
    if policy.require_qualification:
        quals = list(profile.qualifications or [])
        conds.append(
            or_(
                col(FeedEvent.required_qualification).is_(None),
                col(FeedEvent.required_qualification).in_(quals or [""]),
                col(FeedEvent.originator_id) == user.id,
            )
        )
    rows = session.exec(select(FeedEvent).where(*conds).order_by(col(FeedEvent.seq)).limit(limit)).all()
    return [_serialize_event(ev) for ev in rows]


def last_seq(session: Session) -> int:
    return session.exec(select(func.max(FeedEvent.seq))).one() or 0


def _notify(
    session: Session,
    *,
    user_id: int | None,
    title: str,
    body: str,
    opp_id: int,
    key: str,
    urgency: str = "normal",
) -> None:
    """An inbox notification (the inbox sends it on to sockets and push after commit). The source
    key makes it once-only, so a job that runs twice warns once."""
    if not user_id:
        return
    inbox.notify(
        session,
        user_id=user_id,
        kind="opportunity",
        title=title,
        body=body,
        url=f"/opportunities/{opp_id}",
        source_key=f"opportunity:{opp_id}:{user_id}:{key}",
        urgency=urgency,
    )


# --- lifecycle ----------------------------------------------------------------------------------------


def _record_transition(
    session: Session,
    opportunity_id: int,
    *,
    from_status: str | None,
    to_status: str,
    actor_id: int | None,
    reason: str | None,
    now: datetime,
) -> None:
    """One row of an opportunity's history. Callers whose status moved in a guarded UPDATE (claim,
    reassign, recycle) say the status it moved from; `_transition` moves it here."""
    session.add(
        OpportunityTransition(
            opportunity_id=opportunity_id,
            actor_id=actor_id,
            from_status=from_status,  # type: ignore[arg-type]
            to_status=to_status,  # type: ignore[arg-type]
            reason=reason,
            at=now,
        )
    )


def _transition(
    session: Session, opp: Opportunity, to: str, *, actor_id: int | None, reason: str | None, now: datetime
) -> None:
    _record_transition(
        session, row_id(opp), from_status=opp.status, to_status=to, actor_id=actor_id, reason=reason, now=now
    )
    opp.status = to


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
        originator_id=user.id,  # type: ignore[arg-type]
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
            raise Problem(
                422,
                "Unprocessable Content",
                "No such product.",
                code="validation",
                errors=[{"field": "product_id", "message": "unknown product", "type": "value_error"}],
            )
        opp.product_id = product.id
        opp.required_qualification = product.required_qualification
    if data.visibility == Visibility.team and user.team_id is None:
        raise Problem(
            422, "Unprocessable Content", "You are in no team; share to your branch.", code="no-team"
        )
    sharing = data.share and data.visibility != Visibility.private
    if sharing:  # stored shared in its first INSERT; both transitions are still recorded below
        opp.shared_at = now
        opp.version += 1
        opp.status = S.shared
    session.add(opp)
    session.flush()
    _record_transition(
        session,
        row_id(opp),
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
        _record_transition(
            session,
            row_id(opp),
            from_status=S.draft,
            to_status=S.shared,
            actor_id=user.id,
            reason="shared",
            now=now,
        )
        _feed_event(session, opp, "shared", actor=user, now=now)
    if commit:
        session.commit()
    return opp


def _share(session: Session, opp: Opportunity, *, actor: User, now: datetime) -> None:
    _transition(session, opp, S.shared, actor_id=actor.id, reason="shared", now=now)
    opp.shared_at = now
    opp.updated_at = now
    opp.version += 1
    session.add(opp)
    session.flush()
    _feed_event(session, opp, "shared", actor=actor, now=now)


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
        raise Problem(409, "Conflict", f"This opportunity is already {opp.status}.", code="not-draft")
    if visibility is not None:
        opp.visibility = visibility.value
    if opp.visibility == Visibility.private:
        raise Problem(422, "Unprocessable Content", "Pick a pool: team, branch or bank.", code="private")
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


def _open_claims(session: Session, rm_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(Opportunity)
        .where(Opportunity.owner_id == rm_id, col(Opportunity.status).in_(OPEN))
    ).one()


def _under_cap(session: Session, *, rm_id: int, cap: int, profile_locked: bool = False):
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


def _has_priority(session: Session, *, user: User, profile: RmProfile | None, today: date) -> bool:
    if profile is not None and profile.persona == Persona.general:
        return True
    return short_of_target(session, rm_id=user.id, today=today)  # type: ignore[arg-type]


def _lost_race(session: Session, opp: Opportunity) -> Problem:
    winner = session.get(User, opp.owner_id) if opp.owner_id else None
    if winner is not None and opp.status in (*OPEN, S.won, S.lost):
        race.note_settled(
            opportunity_id=opp.id,  # type: ignore[arg-type]
            status=opp.status,
            owner={"id": winner.id, "display_name": winner.display_name},
            visibility=opp.visibility,
            branch_id=opp.branch_id,
            team_id=opp.team_id,
            originator_id=opp.originator_id,
        )
        return Problem(
            409,
            "Conflict",
            f"{winner.display_name} claimed this opportunity first.",
            code="already-claimed",
            winner={"id": winner.id, "display_name": winner.display_name},
            opportunity_status=opp.status,
        )
    return Problem(
        409,
        "Conflict",
        f"This opportunity is {opp.status}.",
        code="not-claimable",
        opportunity_status=opp.status,
    )


def _grant_customer(session: Session, opp: Opportunity, *, rm_id: int, actor_id: int, ip: str | None) -> None:
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


def _revoke_grants(
    session: Session,
    opp_ids: list[int],
    *,
    reason: str,
    actor_id: int | None,
    now: datetime,
    ip: str | None = None,
) -> None:
    grants.revoke(
        session,
        source_type=grants.SOURCE_OPPORTUNITY,
        source_ids=opp_ids,
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
        user_id=user.id,  # type: ignore[arg-type]
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
        opp.originator_id == user.id or (opp.status != S.draft and _in_audience(user, opp))
    ):
        raise not_found("opportunity")
    if opp.status != S.shared:
        raise _lost_race(session, opp)
    if opp.originator_id == user.id:
        raise Problem(
            409, "Conflict", "You shared this opportunity; another RM claims it.", code="own-opportunity"
        )
    policy = get_policy(session)
    # On PostgreSQL the profile is read with the lock `_under_cap` needs: one statement, not two.
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
    if _open_claims(session, user.id) >= policy.max_open_claims:  # type: ignore[arg-type]
        raise Problem(
            403,
            "Forbidden",
            f"You already hold {policy.max_open_claims} open opportunities.",
            code="claim-cap",
            cap=policy.max_open_claims,
        )
    opens_at = as_utc(opp.shared_at or now) + timedelta(minutes=policy.priority_window_minutes)
    if now < opens_at and not _has_priority(session, user=user, profile=profile, today=now.date()):
        raise Problem(
            403,
            "Forbidden",
            "During the priority window only RMs short of customers or of target may claim.",
            code="priority-window",
            opens_at=iso(opens_at),
        )
    originator_bp = {**default_split(), **(policy.originator_share_bp or {})}.get(opp.source, 3000)
    # RETURNING loads the row as the UPDATE left it into `opp`: no second read.
    claimed = session.execute(
        update(Opportunity)
        .where(
            col(Opportunity.id) == opportunity_id,
            col(Opportunity.status) == S.shared,
            _under_cap(
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
    _record_transition(
        session,
        row_id(opp),
        from_status=S.shared,
        to_status=S.claimed,
        actor_id=user.id,
        reason="claimed",
        now=now,
    )
    _grant_customer(session, opp, rm_id=row_id(user), actor_id=row_id(user), ip=ip)
    audit.record(
        session,
        actor_id=user.id,
        action="opportunity.claim",
        object_type="opportunity",
        object_id=opp.id,
        ip=ip,
        detail={"originator_bp": originator_bp},
    )
    _feed_event(session, opp, "claimed", actor=user, now=now)
    events.publish(session, "opportunity.claimed", {"opportunity_id": opp.id, "owner_id": user.id})
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
        raise Problem(409, "Conflict", f"This opportunity is {opp.status}.", code="not-open")
    # Conditional on still holding it, so a recycle that just ran is not silently undone.
    result = session.exec(  # type: ignore[call-overload]
        update(Opportunity)
        .where(
            col(Opportunity.id) == opp.id,
            col(Opportunity.owner_id) == user.id,
            col(Opportunity.status).in_(OPEN),
        )
        .values(last_activity_at=now, recycle_warned_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        raise Problem(409, "Conflict", "This opportunity is no longer yours.", code="not-open")
    session.refresh(opp)
    activity = OpportunityActivity(
        opportunity_id=row_id(opp),
        actor_id=row_id(user),
        kind=data.kind,
        note=data.note,
        at=now,  # type: ignore[arg-type]
    )
    session.add(activity)
    if opp.status == S.claimed:
        _transition(session, opp, S.in_progress, actor_id=user.id, reason=f"activity:{data.kind}", now=now)
        session.add(opp)
    session.commit()
    return activity


def split_cents(revenue_cents: int, originator_bp: int) -> tuple[int, int]:
    """(originator, closer) in whole cents, rounded half up for the originator; the closer gets the
    remainder, so the two always add up to exactly the revenue."""
    originator = (revenue_cents * originator_bp + FULL_SHARE_BP // 2) // FULL_SHARE_BP
    return originator, revenue_cents - originator


def _credit(
    session: Session, opp: Opportunity, *, rm_id: int, amount: int, role: str, booked_on: date
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
    result = session.exec(  # type: ignore[call-overload]
        update(Opportunity)
        .where(
            col(Opportunity.id) == opp.id,
            col(Opportunity.owner_id) == user.id,
            col(Opportunity.status).in_(OPEN),
        )
        .values(version=Opportunity.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        raise Problem(409, "Conflict", f"This opportunity is {opp.status}.", code="not-open")
    session.refresh(opp)
    _transition(
        session, opp, data.outcome.value, actor_id=user.id, reason=data.reason or data.outcome.value, now=now
    )
    opp.closed_at = now
    if data.outcome == Outcome.won:
        opp.won_amount_cents = data.amount_cents
        opp.revenue_cents = data.revenue_cents
        originator_cents, closer_cents = split_cents(data.revenue_cents or 0, opp.originator_share_bp or 0)
        _credit(
            session,
            opp,
            rm_id=opp.originator_id,
            amount=originator_cents,
            role="originator",
            booked_on=now.date(),
        )
        _credit(session, opp, rm_id=user.id, amount=closer_cents, role="closer", booked_on=now.date())  # type: ignore[arg-type]
    else:
        _revoke_grants(
            session, [row_id(opp)], reason=f"closed_{data.outcome.value}", actor_id=user.id, now=now, ip=ip
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
    _notify(
        session,
        user_id=opp.originator_id,
        title="你共享的商机已成交" if data.outcome == Outcome.won else "你共享的商机未成交",
        body=opp.title,
        opp_id=opp.id,  # type: ignore[arg-type]
        key=f"closed:{data.outcome.value}",
    )
    session.commit()
    return opp


def _credited(session: Session, opp_id: int) -> dict[int, int]:
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
        raise Problem(409, "Conflict", "Only a won opportunity's benefit can be adjusted.", code="not-won")
    credited = _credited(session, opp.id)  # type: ignore[arg-type]
    current = credited.get(opp.originator_id, 0)
    target, _ = split_cents(opp.revenue_cents, data.originator_share_bp)
    adjustment = BenefitAdjustment(
        opportunity_id=row_id(opp),
        actor_id=row_id(user),
        from_originator_cents=current,  # type: ignore[arg-type]
        to_originator_cents=target,
        reason=data.reason,
        at=now,
    )
    session.add(adjustment)
    session.flush()
    delta = target - current
    role = f"adjustment:{adjustment.id}"
    _credit(session, opp, rm_id=opp.originator_id, amount=delta, role=role, booked_on=now.date())
    _credit(session, opp, rm_id=opp.owner_id, amount=-delta, role=role, booked_on=now.date())
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
        items.append(
            {
                "id": e.id,
                "opportunity_id": opp_id,
                "title": titles.get(opp_id, ""),
                "role": parts[2] if len(parts) > 2 else "",
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
    checks = holder_checks(session, opp=opp, rm_ids=[u.id for u in rms], policy=policy)  # type: ignore[misc]
    return {
        "opportunity_id": opp.id,
        "required_qualification": opp.required_qualification,
        "items": [
            {"id": u.id, "display_name": u.display_name, "current": u.id == opp.owner_id, **checks[u.id]}  # type: ignore[index]
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
        raise Problem(422, "Unprocessable Content", "Pick an active RM.", code="bad-rm")
    if user.role == Role.team_lead and rm_id not in team_member_ids(session, lead=user):
        raise Problem(422, "Unprocessable Content", "Pick an RM of your team.", code="bad-rm")
    if rm_id == opp.originator_id:
        raise Problem(
            422, "Unprocessable Content", "The originator cannot hold their own opportunity.", code="bad-rm"
        )
    previous = opp.owner_id
    from_status = opp.status
    if from_status not in (S.shared, *OPEN) or previous == rm_id:
        raise Problem(409, "Conflict", f"This opportunity is {opp.status}.", code="not-reassignable")
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
        conds.append(_under_cap(session, rm_id=rm_id, cap=policy.max_open_claims))
    result = session.exec(  # type: ignore[call-overload]
        update(Opportunity).where(*conds).values(**values).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        session.refresh(opp)
        if opp.status == from_status and opp.owner_id == previous:
            raise _cap_problem(target, policy.max_open_claims, policy.max_open_claims)
        raise Problem(409, "Conflict", "Someone changed this opportunity meanwhile; reload.", code="stale")
    session.refresh(opp)
    _record_transition(
        session,
        row_id(opp),
        from_status=from_status,
        to_status=opp.status,
        actor_id=user.id,
        reason=f"reassigned: {reason}",
        now=now,
    )
    _revoke_grants(session, [row_id(opp)], reason="reassigned", actor_id=user.id, now=now, ip=ip)
    _grant_customer(session, opp, rm_id=rm_id, actor_id=row_id(user), ip=ip)
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
        _feed_event(session, opp, "claimed", actor=target, now=now)
    for uid, title in ((rm_id, "团队主管分配给你一个商机"), (previous, "你的商机已被改派")):
        if uid:
            _notify(
                session,
                user_id=uid,
                title=title,
                body=opp.title,
                opp_id=row_id(opp),
                key=f"reassign:{now.isoformat()}",
            )  # type: ignore[arg-type]
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
        raise Problem(409, "Conflict", "Only an opportunity in the pool can move pools.", code="not-in-pool")
    if data.visibility == Visibility.private:
        raise Problem(422, "Unprocessable Content", "Pick a pool: team, branch or bank.", code="private")
    before = {"visibility": opp.visibility, "branch_id": opp.branch_id, "team_id": opp.team_id}
    if data.team_id is not None:
        team = session.get(Team, data.team_id)
        if team is None:
            raise Problem(422, "Unprocessable Content", "No such team.", code="bad-team")
    if data.branch_id is not None and session.get(Branch, data.branch_id) is None:
        raise Problem(422, "Unprocessable Content", "No such branch.", code="bad-branch")
    # The old audience drops the card; the new one gets it as newly shared.
    _feed_event(session, opp, "withdrawn", actor=user, now=now)
    opp.visibility = data.visibility.value
    opp.branch_id = data.branch_id if data.branch_id is not None else opp.branch_id
    opp.team_id = data.team_id if data.team_id is not None else opp.team_id
    if opp.visibility == Visibility.team and opp.team_id is None:
        raise Problem(422, "Unprocessable Content", "A team pool needs team_id.", code="bad-team")
    opp.shared_at = now
    opp.version += 1
    opp.updated_at = now
    _record_transition(
        session,
        row_id(opp),
        from_status=S.shared,
        to_status=S.shared,
        actor_id=user.id,
        reason=f"transferred to {opp.visibility}: {data.reason}",
        now=now,
    )
    session.add(opp)
    session.flush()
    _feed_event(session, opp, "shared", actor=user, now=now)
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


# --- recycling (run by the scheduled job) -------------------------------------------------------------


def recycle_stale(session: Session, *, now: datetime | None = None) -> dict[str, int]:
    """Warn holders a day before their claim goes stale, return stale claims to the pool, expire
    pooled opportunities past their expected date. Set-based per customer tier, and idempotent:
    a second run at the same `now` finds nothing more to do."""
    now = as_utc(now or utcnow())
    policy = get_policy(session)
    days_by_tier = {**default_recycle_days(), **(policy.recycle_days or {})}
    warned = recycled = 0
    open_status = col(Opportunity.status).in_(OPEN)
    for tier, days in days_by_tier.items():
        cutoff = now - timedelta(days=days)
        tier_cond = (
            col(Opportunity.tier) == tier
            if tier != "mass"
            else or_(col(Opportunity.tier) == tier, col(Opportunity.tier).not_in(list(days_by_tier)))
        )
        # 1. the owner's warning, once per quiet spell
        warn_rows = session.execute(
            update(Opportunity)
            .where(
                open_status,
                tier_cond,
                col(Opportunity.last_activity_at) <= cutoff + timedelta(days=1),
                col(Opportunity.last_activity_at) > cutoff,
                col(Opportunity.recycle_warned_at).is_(None),
            )
            .values(recycle_warned_at=now)
            .returning(
                col(Opportunity.id),
                col(Opportunity.owner_id),
                col(Opportunity.title),
                col(Opportunity.last_activity_at),
            )
            .execution_options(synchronize_session=False)
        ).all()
        for opp_id, owner_id, title, last in warn_rows:
            due = as_utc(last) + timedelta(days=days)
            _notify(
                session,
                user_id=owner_id,
                title="商机即将被回收",
                body=f"「{title}」已{days - 1}天没有跟进记录，将于{due.strftime('%m-%d %H:%M')}(UTC)退回商机池。",
                opp_id=opp_id,
                key=f"recycle-warn:{as_utc(last).isoformat()}",
                urgency="high",
            )
        warned += len(warn_rows)
        # 2. stale claims back to the pool
        stale = session.exec(
            select(Opportunity).where(open_status, tier_cond, col(Opportunity.last_activity_at) <= cutoff)
        ).all()
        if not stale:
            continue
        previous = {o.id: (o.owner_id, o.status) for o in stale}
        done_ids = [
            row[0]
            for row in session.execute(
                update(Opportunity)
                .where(
                    col(Opportunity.id).in_(list(previous)),
                    open_status,
                    col(Opportunity.last_activity_at) <= cutoff,
                )
                .values(
                    status=S.shared,
                    owner_id=None,
                    shared_at=now,
                    claimed_at=None,
                    last_activity_at=None,
                    recycle_warned_at=None,
                    originator_share_bp=None,
                    closer_share_bp=None,
                    recycle_count=Opportunity.recycle_count + 1,
                    version=Opportunity.version + 1,
                    updated_at=now,
                )
                .returning(col(Opportunity.id))
                .execution_options(synchronize_session=False)
            ).all()
        ]
        if not done_ids:
            continue
        for opp_id in done_ids:
            owner_id, from_status = previous[opp_id]
            _record_transition(
                session,
                opp_id,
                from_status=from_status,
                to_status=S.recycled,
                actor_id=None,
                reason=f"no activity for {days} days",
                now=now,
            )
            _record_transition(
                session,
                opp_id,
                from_status=S.recycled,
                to_status=S.shared,
                actor_id=None,
                reason="back to the pool",
                now=now,
            )
            audit.record(
                session,
                actor_id=None,
                action="opportunity.recycle",
                object_type="opportunity",
                object_id=opp_id,
                detail={"from_rm_id": owner_id, "days": days},
            )
        _revoke_grants(session, done_ids, reason="recycled", actor_id=None, now=now)
        fresh = session.exec(
            select(Opportunity)
            .where(col(Opportunity.id).in_(done_ids))
            .execution_options(populate_existing=True)
        ).all()
        cards = {c["id"]: c for c in summaries(session, list(fresh), policy=policy)}
        for opp in fresh:
            owner_id = previous[opp.id][0]
            _feed_event(
                session, opp, "recycled", actor=None, now=now, previous_owner_id=owner_id, card=cards[opp.id]
            )
            for uid, title in (
                (owner_id, "商机已退回商机池"),
                (opp.originator_id, "你共享的商机已回收再共享"),
            ):
                _notify(
                    session,
                    user_id=uid,
                    title=title,
                    body=opp.title,
                    opp_id=row_id(opp),
                    key=f"recycled:{now.isoformat()}",
                )  # type: ignore[arg-type]
        recycled += len(done_ids)
    expired = _expire(session, now=now)
    session.commit()
    return {"warned": warned, "recycled": recycled, "expired": expired}


def _expire(session: Session, *, now: datetime) -> int:
    rows = session.execute(
        update(Opportunity)
        .where(col(Opportunity.status) == S.shared, col(Opportunity.expected_date) < now.date())
        .values(status=S.expired, updated_at=now, version=Opportunity.version + 1)
        .returning(col(Opportunity.id))
        .execution_options(synchronize_session=False)
    ).all()
    ids = [r[0] for r in rows]
    if not ids:
        return 0
    opps = session.exec(
        select(Opportunity).where(col(Opportunity.id).in_(ids)).execution_options(populate_existing=True)
    ).all()
    cards = {c["id"]: c for c in summaries(session, list(opps))}
    for opp in opps:
        _record_transition(
            session,
            row_id(opp),
            from_status=S.shared,
            to_status=S.expired,
            actor_id=None,
            reason="past the expected date",
            now=now,
        )
        _feed_event(session, opp, "withdrawn", actor=None, now=now, card=cards[opp.id])
    return len(ids)


# --- lists and the ranked feed ------------------------------------------------------------------------


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
                col(Opportunity.team_id).in_(_led_team_ids(session, user) or [-1]),
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


def _fit(
    opp: Opportunity,
    *,
    book_total: int,
    by_section: Counter,
    by_section_size: Counter,
    by_region: Counter,
    home_region: str | None,
    qualifications: set[str],
    load: int,
) -> tuple[float, list[str]]:
    """How well this opportunity fits the RM, with the reasons in the RM's language."""
    score = opp.quality_score * 0.2
    reasons: list[tuple[float, str]] = []
    section = (opp.industry_code or "")[:1]
    if section and book_total:
        share = by_section[section] / book_total
        score += 30 * share
        combo = by_section_size[(section, opp.size)] if opp.size else 0
        if combo >= 2:
            score += 15 * combo / book_total + 5
            reasons.append(
                (
                    20 + share,
                    f"你擅长{SECTION_NAMES.get(section, section)}{SIZE_NAMES.get(opp.size or '', '')}企业",
                )
            )
        elif share >= 0.2:
            reasons.append((15 + share, f"你服务的{SECTION_NAMES.get(section, section)}客户较多"))
    if opp.region_code:
        region_share = by_region[opp.region_code] / book_total if book_total else 0
        if region_share >= 0.3 or opp.region_code == home_region:
            score += 15
            reasons.append(
                (10 + region_share, f"你的客户多在{region_name(opp.region_code) or opp.region_code}")
            )
    if opp.required_qualification and opp.required_qualification in qualifications:
        score += 10
        name = QUALIFICATION_NAMES.get(opp.required_qualification, opp.required_qualification)
        reasons.append((8, f"你持有{name}资格"))
    score -= 4 * load
    if load == 0:
        reasons.append((5, "你目前没有在办商机"))
    elif load >= 3:
        reasons.append((1, f"你已有{load}个在办商机"))
    reasons.sort(key=lambda r: -r[0])
    return round(score, 2), [text for _, text in reasons]


def ranked_feed(
    session: Session, *, user: User, query: FeedQuery, now: datetime | None = None
) -> dict[str, Any]:
    """The pool as this RM may claim it, ordered by fit. A handful of set-based queries in all:
    the candidates, the RM's book mix, the RM's load."""
    now = now or utcnow()
    if user.role != Role.rm:
        raise forbidden("The pool feed is for relationship managers.")
    policy = get_policy(session)
    profile = _profile(session, user)
    qualifications = set(profile.qualifications or []) if profile else set()
    conds: list[Any] = [
        col(Opportunity.status) == S.shared,
        audience_condition(user),
        col(Opportunity.originator_id) != user.id,
    ]
    if policy.require_qualification:
        conds.append(
            or_(
                col(Opportunity.required_qualification).is_(None),
                col(Opportunity.required_qualification).in_(sorted(qualifications) or [""]),
            )
        )
    if query.region:
        conds.append(col(Opportunity.region_code).startswith(query.region))
    if query.industry:
        conds.append(col(Opportunity.industry_code).startswith(query.industry.upper()))
    if query.product_id:
        conds.append(col(Opportunity.product_id) == query.product_id)
    if query.source:
        conds.append(col(Opportunity.source) == query.source.value)
    if query.q:
        pattern = "%" + query.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conds.append(
            or_(
                col(Opportunity.title).like(pattern, escape="\\"),
                col(Opportunity.prospect_name).like(pattern, escape="\\"),
            )
        )
    # The cursor is read before the cards: everything up to it is in the page, so a client may
    # drop events at or below it. Read after, a share committed in between would be lost.
    cursor = last_seq(session)
    candidates = session.exec(
        select(Opportunity).where(*conds).order_by(col(Opportunity.shared_at).desc()).limit(300)
    ).all()
    book = session.exec(
        select(Customer.industry_code, Customer.size, Customer.region_code, func.count())
        .where(Customer.owner_id == user.id)
        .group_by(col(Customer.industry_code), col(Customer.size), col(Customer.region_code))
    ).all()
    by_section: Counter = Counter()
    by_section_size: Counter = Counter()
    by_region: Counter = Counter()
    book_total = 0
    for industry, size, region, n in book:
        section = (industry or "")[:1]
        by_section[section] += n
        by_section_size[(section, size)] += n
        by_region[region] += n
        book_total += n
    load = _open_claims(session, user.id)  # type: ignore[arg-type]
    priority = _has_priority(session, user=user, profile=profile, today=now.date())
    cards = summaries(session, list(candidates), policy=policy)
    scored = []
    for opp, card in zip(candidates, cards, strict=True):
        score, reasons = _fit(
            opp,
            book_total=book_total,
            by_section=by_section,
            by_section_size=by_section_size,
            by_region=by_region,
            home_region=profile.home_region if profile else None,
            qualifications=qualifications,
            load=load,
        )
        card["fit_score"] = score
        card["reasons"] = reasons
        card["reason"] = reasons[0] if reasons else None
        opens = as_utc(opp.shared_at or now) + timedelta(minutes=policy.priority_window_minutes)
        card["can_claim_now"] = priority or now >= opens
        scored.append(card)
    scored.sort(key=lambda c: (-c["fit_score"], c["id"]))
    return {
        "items": scored[: query.limit],
        "last_seq": cursor,
        "open_claims": load,
        "max_open_claims": policy.max_open_claims,
        "has_priority": priority,
    }


def valid_source(value: str) -> bool:
    return value in {s.value for s in OpportunitySource}
