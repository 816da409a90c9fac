"""Case cards (案例卡, 经验资产): how colleagues won (or lost) customers, read from the bank's own history —
won and lost opportunities, won war rooms, and the visits that came before a customer opened a
product — anonymised and ranked for one RM by how much the case's customer looks like their own.

Anonymised means: no customer name, id, contact or free text (outcomes, notes and chat may name
people); the customer is described by kind, industry, size, tier, ownership and city; the steps by
their kind, order and days; whoever helped by role and persona, and by name only when that person
has consented (`CaseConsent`).

Similarity of a case's customer to one of the RM's customers or prospects (0..1): corporate — same
industry division 0.35 (same section 0.2), same size 0.25 (adjacent size 0.1), same tier 0.2, same
ownership 0.1, same city 0.1; individual — same tier 0.6, same city 0.4; different kinds 0. A case is
ranked for an RM by its best similarity to any of their customers and claimed prospects, then by how
many of them it resembles (similarity ≥ 0.6), won before lost, newest first.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import exists, func
from sqlmodel import Session, col, select

from server.customers.models import Customer, CustomerVisit
from server.customers.service import get_customer_for
from server.db import row_id
from server.errors import not_found
from server.learning.models import CaseConsent
from server.offload import off_loop
from server.opportunities.models import Opportunity, OpportunityActivity, OpportunityTransition
from server.opportunities.ranking import SECTION_NAMES, SIZE_NAMES
from server.org.models import RmProfile, User
from server.products.models import Holding, Product
from server.prospects.listing import get_visible
from server.prospects.models import Prospect
from server.reference import industry_name, region_name
from server.timeutil import as_utc, iso, utcnow
from server.warrooms.models import (
    RoomStatus,
    TargetStage,
    WarRoom,
    WarRoomEvent,
    WarRoomMember,
    WarRoomOpportunity,
    WarRoomTarget,
)

HISTORY_DAYS = 730  # cases from the last two years
VISITS_BEFORE_DAYS = 180  # visits this long before a product was opened belong to its case
MIN_VISITS = 2  # a single visit is not a sequence
POOL_LIMIT = 400  # most recent candidates per source
ALIKE = 0.6

SIZE_ORDER = ["micro", "small", "medium", "large"]
TIER_ZH = {"vip": "VIP", "high": "高价值", "mid": "中端", "mass": "大众"}
OWNERSHIP_ZH = {
    "government": "机关事业单位",
    "central_soe": "央企",
    "local_soe": "地方国企",
    "private": "民营企业",
    "foreign": "外资企业",
}


@dataclass(frozen=True)
class Profile:
    """What a case or a customer is, for similarity: never who."""

    kind: str
    industry: str | None = None
    size: str | None = None
    tier: str | None = None
    ownership: str | None = None
    region: str | None = None


def similarity(a: Profile, b: Profile) -> float:
    if a.kind != b.kind:
        return 0.0
    if a.kind == "individual":
        return 0.6 * (a.tier is not None and a.tier == b.tier) + 0.4 * (
            a.region is not None and a.region == b.region
        )
    score = 0.0
    if a.industry and b.industry:
        score += 0.35 if a.industry == b.industry else 0.2 if a.industry[0] == b.industry[0] else 0.0
    if a.size and b.size:
        if a.size == b.size:
            score += 0.25
        elif a.size in SIZE_ORDER and b.size in SIZE_ORDER:
            score += 0.1 if abs(SIZE_ORDER.index(a.size) - SIZE_ORDER.index(b.size)) == 1 else 0.0
    score += 0.2 if a.tier and a.tier == b.tier else 0.0
    score += 0.1 if a.ownership and a.ownership == b.ownership else 0.0
    score += 0.1 if a.region and a.region == b.region else 0.0
    return round(score, 4)


def reasons(case: Profile, mine: Profile) -> list[str]:
    """Why a case looks like this customer, in Chinese."""
    out: list[str] = []
    if case.kind != mine.kind:
        return out
    if case.industry and case.industry == mine.industry:
        out.append(f"同属{industry_name(case.industry) or case.industry}")
    elif case.industry and mine.industry and case.industry[0] == mine.industry[0]:
        out.append(f"同属{SECTION_NAMES.get(case.industry[0], case.industry[0])}")
    if case.size and case.size == mine.size:
        out.append(f"同为{SIZE_NAMES.get(case.size, case.size)}企业")
    if case.tier and case.tier == mine.tier:
        out.append(f"同为{TIER_ZH.get(case.tier, case.tier)}客户")
    if case.ownership and case.ownership == mine.ownership:
        out.append(f"同为{OWNERSHIP_ZH.get(case.ownership, case.ownership)}")
    if case.region and case.region == mine.region:
        out.append(f"同在{region_name(case.region) or case.region}")
    return out


def label(p: Profile) -> str:
    """An anonymised description, e.g. 杭州某汽车制造业中型民营企业."""
    city = (region_name(p.region) or "").removesuffix("市")
    if p.kind == "individual":
        return f"{city}某{TIER_ZH.get(p.tier or '', '')}个人客户"
    industry = industry_name(p.industry) or SECTION_NAMES.get((p.industry or " ")[0], "")
    size = SIZE_NAMES.get(p.size or "", "")
    owner = OWNERSHIP_ZH.get(p.ownership or "", "企业")
    return f"{city}某{industry}{size}{owner}"


def _profile_of(c: Customer) -> Profile:
    return Profile(
        kind=str(c.kind),
        industry=c.industry_code,
        size=c.size,
        tier=c.tier,
        ownership=c.ownership,
        region=c.region_code,
    )


def _prospect_profile(p: Prospect) -> Profile:
    return Profile(
        kind=p.kind, industry=p.industry_code, size=p.size, ownership=p.ownership, region=p.region_code
    )


# --- reading the history --------------------------------------------------------------------------


@dataclass
class Case:
    id: str
    source: str  # opportunity, war_room, visits
    outcome: str  # won, lost
    profile: Profile
    products: list[dict[str, Any]]
    steps: list[dict[str, Any]]  # {kind, at} in order; days are added when served
    helpers: list[dict[str, Any]]  # {user_id, role}
    principal_id: int  # whose case it is (never shown to that RM as "how others won")
    closed_at: datetime
    amount_cents: int | None = None


def _step(kind: str, at: datetime, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "at": as_utc(at), **extra}


def _opportunity_cases(session: Session, since: datetime, ids: list[int] | None = None) -> list[Case]:
    query = select(Opportunity).where(col(Opportunity.status).in_(["won", "lost"]))
    if ids is not None:
        query = query.where(col(Opportunity.id).in_(ids))
    else:
        query = query.where(col(Opportunity.closed_at) >= since)
    opps = session.exec(query.order_by(col(Opportunity.closed_at).desc()).limit(POOL_LIMIT)).all()
    if not opps:
        return []
    opp_ids = [row_id(o) for o in opps]
    customers = {
        row_id(c): c
        for c in session.exec(
            select(Customer).where(col(Customer.id).in_([o.customer_id for o in opps if o.customer_id]))
        ).all()
    }
    products = _products(session, {o.product_id for o in opps if o.product_id})
    steps: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for t in session.exec(
        select(OpportunityTransition).where(col(OpportunityTransition.opportunity_id).in_(opp_ids))
    ).all():
        steps[t.opportunity_id].append(_step(f"opportunity.{t.to_status}", t.at))
    for a in session.exec(
        select(OpportunityActivity).where(col(OpportunityActivity.opportunity_id).in_(opp_ids))
    ).all():
        steps[a.opportunity_id].append(_step(f"activity.{a.kind}", a.at, helper=a.actor_id))
    rooms: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for opp_id, user_id, role in session.exec(
        select(WarRoomOpportunity.opportunity_id, WarRoomMember.user_id, WarRoomMember.role)
        .join(WarRoomMember, col(WarRoomMember.room_id) == WarRoomOpportunity.room_id)
        .where(col(WarRoomOpportunity.opportunity_id).in_(opp_ids), WarRoomMember.status == "active")
    ).all():
        rooms[opp_id].append((user_id, f"war_room.{role}"))
    out: list[Case] = []
    for o in opps:
        principal = o.owner_id or o.originator_id
        c = customers.get(o.customer_id or -1)
        profile = (
            _profile_of(c)
            if c
            else Profile(
                kind=o.customer_kind, industry=o.industry_code, size=o.size, tier=o.tier, region=o.region_code
            )
        )
        helpers = [{"user_id": o.originator_id, "role": "originator"}] if o.originator_id != principal else []
        helpers += [{"user_id": u, "role": r} for u, r in rooms.get(row_id(o), []) if u != principal]
        helpers += [
            {"user_id": s["helper"], "role": "colleague"}
            for s in steps[row_id(o)]
            if s.get("helper") not in (None, principal)
        ]
        out.append(
            Case(
                id=f"opportunity-{o.id}",
                source="opportunity",
                outcome=str(o.status),
                profile=profile,
                products=[products[o.product_id]] if o.product_id in products else [],
                steps=sorted(steps[row_id(o)], key=lambda s: s["at"]),
                helpers=helpers,
                principal_id=principal,
                closed_at=as_utc(o.closed_at or o.updated_at),
                amount_cents=o.won_amount_cents,
            )
        )
    return out


def _war_room_cases(session: Session, since: datetime, ids: list[int] | None = None) -> list[Case]:
    query = select(WarRoom).where(WarRoom.status == RoomStatus.won)
    query = (
        query.where(col(WarRoom.id).in_(ids))
        if ids is not None
        else query.where(col(WarRoom.updated_at) >= since)
    )
    rooms = session.exec(query.order_by(col(WarRoom.updated_at).desc()).limit(POOL_LIMIT)).all()
    if not rooms:
        return []
    room_ids = [row_id(r) for r in rooms]
    won = session.exec(
        select(WarRoomTarget, Customer)
        .join(Customer, col(Customer.id) == WarRoomTarget.customer_id)
        .where(col(WarRoomTarget.room_id).in_(room_ids), WarRoomTarget.stage == TargetStage.won)
        .order_by(col(WarRoomTarget.amount_cents).desc())
    ).all()
    first_won: dict[int, tuple[WarRoomTarget, Customer]] = {}
    for target, customer in won:
        first_won.setdefault(target.room_id, (target, customer))
    # The stage path of the room's main won target, from the room's own event log.
    steps: dict[int, list[dict[str, Any]]] = defaultdict(list)
    wanted = {row_id(t): t.room_id for t, _ in first_won.values()}
    for event in session.exec(
        select(WarRoomEvent)
        .where(
            col(WarRoomEvent.room_id).in_(list(first_won)),
            col(WarRoomEvent.kind).in_(["target.added", "target.updated"]),
        )
        .order_by(col(WarRoomEvent.room_id), col(WarRoomEvent.seq))
    ).all():
        moved = event.payload.get("target") or {}
        if moved.get("id") not in wanted:
            continue
        stage = f"stage.{moved.get('stage')}"
        trail = steps[event.room_id]
        if not trail or trail[-1]["kind"] != stage:
            trail.append(_step(stage, event.created_at, helper=event.author_id))
    members: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for room_id, user_id, role in session.exec(
        select(WarRoomMember.room_id, WarRoomMember.user_id, WarRoomMember.role).where(
            col(WarRoomMember.room_id).in_(room_ids), col(WarRoomMember.status).in_(["active", "left"])
        )
    ).all():
        members[room_id].append((user_id, f"war_room.{role}"))
    products = _room_products(session, room_ids)
    out = []
    for room in rooms:
        if row_id(room) not in first_won:
            continue  # nothing known about whom it won
        target, customer = first_won[row_id(room)]
        out.append(
            Case(
                id=f"war_room-{room.id}",
                source="war_room",
                outcome="won",
                profile=_profile_of(customer),
                products=products.get(row_id(room), []),
                steps=[_step("room.opened", room.created_at)] + steps.get(row_id(room), []),
                helpers=[
                    {"user_id": u, "role": r}
                    for u, r in members.get(row_id(room), [])
                    if u != room.owner_id and r != "war_room.observer"
                ],
                principal_id=room.owner_id,
                closed_at=as_utc(room.updated_at),
                amount_cents=target.amount_cents or None,
            )
        )
    return out


def _room_products(session: Session, room_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    rows = session.exec(
        select(WarRoomOpportunity.room_id, Opportunity.product_id)
        .join(Opportunity, col(Opportunity.id) == WarRoomOpportunity.opportunity_id)
        .where(col(WarRoomOpportunity.room_id).in_(room_ids), col(Opportunity.product_id).is_not(None))
    ).all()
    products = _products(session, {p for _, p in rows if p})
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for room_id, product_id in rows:
        if product_id in products and products[product_id] not in out[room_id]:
            out[room_id].append(products[product_id])
    return out


def _visit_cases(session: Session, since: datetime, ids: list[int] | None = None) -> list[Case]:
    """A product opened after at least two recorded contacts in the half year before: the visits, in
    order, then the opening."""
    visited = exists().where(col(CustomerVisit.customer_id) == Holding.customer_id)
    query = select(Holding, Customer).join(Customer, col(Customer.id) == Holding.customer_id)
    if ids is not None:
        query = query.where(col(Holding.id).in_(ids))
    else:
        query = query.where(col(Holding.opened_on) >= since.date(), visited)
    rows = session.exec(query.order_by(col(Holding.opened_on).desc()).limit(POOL_LIMIT)).all()
    if not rows:
        return []
    visits: dict[int, list[CustomerVisit]] = defaultdict(list)
    for v in session.exec(
        select(CustomerVisit)
        .where(col(CustomerVisit.customer_id).in_({c.id for _, c in rows}))
        .order_by(col(CustomerVisit.occurred_at))
    ).all():
        visits[v.customer_id].append(v)
    products = _products(session, {h.product_id for h, _ in rows})
    out = []
    for holding, customer in rows:
        opened = datetime.combine(holding.opened_on, datetime.min.time()).replace(tzinfo=UTC)
        before = [
            v
            for v in visits.get(row_id(customer), [])
            if opened - timedelta(days=VISITS_BEFORE_DAYS)
            <= as_utc(v.occurred_at)
            <= opened + timedelta(days=1)
        ]
        if len(before) < MIN_VISITS:
            continue
        principal = Counter(v.rm_id for v in before).most_common(1)[0][0]
        out.append(
            Case(
                id=f"visits-{holding.id}",
                source="visits",
                outcome="won",
                profile=_profile_of(customer),
                products=[products[holding.product_id]] if holding.product_id in products else [],
                steps=[_step(f"visit.{v.channel}", v.occurred_at) for v in before]
                + [_step("product.opened", opened)],
                helpers=[{"user_id": v.rm_id, "role": "colleague"} for v in before if v.rm_id != principal],
                principal_id=principal,
                closed_at=opened,
                amount_cents=holding.balance_cents or holding.loan_balance_cents or None,
            )
        )
    return out


def _products(session: Session, ids: set[int | None]) -> dict[int, dict[str, Any]]:
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    return {
        row_id(p): {"id": p.id, "name": p.name, "category": p.category}
        for p in session.exec(select(Product).where(col(Product.id).in_(wanted))).all()
    }


def history(session: Session, *, now: datetime | None = None) -> list[Case]:
    since = (now or utcnow()) - timedelta(days=HISTORY_DAYS)
    return _opportunity_cases(session, since) + _war_room_cases(session, since) + _visit_cases(session, since)


# --- serving ---------------------------------------------------------------------------------------


def _people(session: Session, cases: list[Case]) -> dict[int, tuple[str, str | None, bool]]:
    """user id -> (display name, persona, consented to be named)."""
    ids = {h["user_id"] for c in cases for h in c.helpers}
    if not ids:
        return {}
    rows = session.exec(
        select(User.id, User.display_name, RmProfile.persona, CaseConsent.share_name)
        .join(RmProfile, col(RmProfile.user_id) == User.id, isouter=True)
        .join(CaseConsent, col(CaseConsent.user_id) == User.id, isouter=True)
        .where(col(User.id).in_(ids))
    ).all()
    return {int(uid or 0): (name, persona, bool(share)) for uid, name, persona, share in rows}


def public(case: Case, people: dict[int, tuple[str, str | None, bool]]) -> dict[str, Any]:
    steps = []
    previous = case.steps[0]["at"] if case.steps else case.closed_at
    for i, s in enumerate(case.steps):
        steps.append(
            {
                "order": i + 1,
                "kind": s["kind"],
                "days": round((s["at"] - previous).total_seconds() / 86400, 1),
            }
        )
        previous = s["at"]
    total = (case.steps[-1]["at"] - case.steps[0]["at"]).total_seconds() / 86400 if case.steps else 0.0
    helpers: list[dict[str, Any]] = []
    seen: set[int] = set()
    for h in case.helpers:
        if h["user_id"] in seen:
            continue
        seen.add(h["user_id"])
        name, persona, consented = people.get(h["user_id"], ("", None, False))
        helpers.append({"role": h["role"], "persona": persona, "name": name if consented else None})
    p = case.profile
    return {
        "id": case.id,
        "source": case.source,
        "outcome": case.outcome,
        "customer": {
            "label": label(p),
            "kind": p.kind,
            "industry_code": p.industry,
            "size": p.size,
            "tier": p.tier,
            "ownership": p.ownership,
            "region_name": region_name(p.region),
        },
        "products": case.products,
        "steps": steps,
        "total_days": round(total, 1),
        "helpers": helpers,
        "amount_cents": case.amount_cents,
        "closed_on": iso(case.closed_at.date()),
    }


def _book_profiles(session: Session, *, user: User) -> Counter[Profile]:
    """The RM's own customers and claimed prospects, as profiles with counts (one row per profile)."""
    uid = row_id(user)
    book: Counter[Profile] = Counter()
    for kind, industry, size, tier, ownership, region, n in session.exec(
        select(  # type: ignore[call-overload]
            col(Customer.kind),
            col(Customer.industry_code),
            col(Customer.size),
            col(Customer.tier),
            col(Customer.ownership),
            col(Customer.region_code),
            func.count(),
        )
        .where(Customer.owner_id == uid)
        .group_by(
            col(Customer.kind),
            col(Customer.industry_code),
            col(Customer.size),
            col(Customer.tier),
            col(Customer.ownership),
            col(Customer.region_code),
        )
    ).all():
        book[Profile(str(kind), industry, size, tier, ownership, region)] += int(n)
    for p in session.exec(select(Prospect).where(Prospect.claimed_by == uid)).all():
        book[_prospect_profile(p)] += 1
    return book


def _score(
    history_cases: list[Case], book: Counter[Profile], uid: int, limit: int
) -> tuple[list[tuple[float, int, bool, datetime, Case, Profile | None]], int]:
    """The ranking itself (the top cases and how many matched at all), plain Python over rows already read (run off the event loop)."""
    by_kind: dict[str, list[tuple[Profile, int]]] = defaultdict(list)
    for mine, n in book.items():
        by_kind[mine.kind].append((mine, n))
    # Many cases share a customer profile: each profile is matched against the book once.
    matched: dict[Profile, tuple[float, Profile | None, int]] = {}
    scored = []
    for case in history_cases:
        if case.principal_id == uid:
            continue  # "how others won"
        if case.profile not in matched:
            best, best_profile, alike = 0.0, None, 0
            for mine, n in by_kind.get(case.profile.kind, []):
                s = similarity(case.profile, mine)
                if s > best:
                    best, best_profile = s, mine
                if s >= ALIKE:
                    alike += n
            matched[case.profile] = (best, best_profile, alike)
        best, best_profile, alike = matched[case.profile]
        if best <= 0:
            continue
        scored.append((best, alike, case.outcome == "won", case.closed_at, case, best_profile))
    scored.sort(key=lambda r: (r[0], r[1], r[2], r[3]), reverse=True)
    return scored[:limit], len(scored)


def ranked_cases(
    session: Session,
    *,
    user: User,
    customer_id: int | None = None,
    prospect_id: int | None = None,
    limit: int = 10,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Cases for this RM: like one customer or prospect of theirs when given (the one-tap "how others
    won customers like this"), else like their whole book."""
    uid = row_id(user)
    if customer_id is not None:
        customer = get_customer_for(session, user=user, customer_id=customer_id)
        book: Counter[Profile] = Counter({_profile_of(customer): 1})
        about = label(_profile_of(customer))
    elif prospect_id is not None:
        prospect = get_visible(session, user=user, prospect_id=prospect_id)
        book = Counter({_prospect_profile(prospect): 1})
        about = label(_prospect_profile(prospect))
    else:
        book = _book_profiles(session, user=user)
        about = None
    top, pool = off_loop(_score, history(session, now=now), book, uid, limit)
    people = _people(session, [r[4] for r in top])
    items = []
    for best, alike, _won, _at, case, closest in top:
        item = public(case, people)
        item["similarity"] = best
        item["alike_count"] = alike
        item["reasons"] = reasons(case.profile, closest) if closest else []
        items.append(item)
    return {"about": about, "items": items, "pool": pool}


def get_case(session: Session, *, case_id: str, now: datetime | None = None) -> dict[str, Any]:
    source, _, raw = case_id.rpartition("-")
    if not raw.isdigit():
        raise not_found("case")
    since = (now or utcnow()) - timedelta(days=HISTORY_DAYS)
    readers = {"opportunity": _opportunity_cases, "war_room": _war_room_cases, "visits": _visit_cases}
    reader = readers.get(source)
    found = reader(session, since, [int(raw)]) if reader else []
    if not found:
        raise not_found("case")
    return public(found[0], _people(session, found))
