"""Prospect rules: who sees which prospect, the list and map, one prospect with its reasons, claims
(exclusive for PROSPECT_CLAIM_DAYS, then they return), activities, conversions, the team lead's
coverage and the admin's model versions with their real hit rate.

Access: an RM sees open prospects nobody holds and the ones they hold; a prospect another RM holds
answers exactly like one that does not exist. A team lead sees the same plus the team's holdings
in coverage. Every claim, release and view of a prospect's details is audited."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from flask import current_app, has_app_context
from sqlalchemy import and_, func, literal, or_, update
from sqlalchemy import select as sa_select  # many columns: sqlmodel.select has overloads for few
from sqlmodel import Session, col, select

from server import events
from server.audit import service as audit
from server.customers.models import CorporateProfile, Customer
from server.customers.service import team_member_ids
from server.db import row_id
from server.errors import Problem, forbidden, not_found
from server.masking import mask
from server.org.models import Role, User
from server.prospects import lookalike
from server.prospects.models import (
    CHAIN_KINDS,
    LINK_LABELS,
    LinkKind,
    Prospect,
    ProspectActivity,
    ProspectClaim,
    ProspectLink,
    ProspectModel,
    ProspectScore,
    ProspectStatus,
)
from server.reference import industry_name, region_name
from server.timeutil import as_utc, iso, utcnow

EVENT_TRAIN = "prospects.train_requested"  # {model_id}
EVENT_IMPORT = "prospects.import_requested"  # {import_id}
EARTH_KM = 6371.0
MAP_LIMIT = 3000
ACTIVITY_KINDS = ("visit_planned", "visited", "shared", "war_room", "note")


def claim_days() -> int:
    return current_app.config["SETTINGS"].PROSPECT_CLAIM_DAYS if has_app_context() else 30


def _staff(user: User) -> None:
    if user.role not in (Role.rm, Role.team_lead):
        raise forbidden("Prospects are for relationship managers and team leads.")


def visible(user: User, now: datetime):
    """The SQL condition for prospects this user may see."""
    return and_(
        col(Prospect.status) == ProspectStatus.open,
        # PIPL: a person is shown only when the bank marked the source lawful for marketing.
        or_(col(Prospect.kind) == "corporate", col(Prospect.lawful_for_marketing).is_(True)),
        or_(
            col(Prospect.claimed_by).is_(None),
            col(Prospect.claimed_by) == user.id,
            col(Prospect.claimed_until) < now,
        ),
    )


def current_model(session: Session, *, user: User | None) -> ProspectModel | None:
    """The user's own latest trained version, else the bank's."""
    query = select(ProspectModel).where(col(ProspectModel.status) == "done")
    if user is not None:
        own = session.exec(
            query.where(col(ProspectModel.owner_id) == user.id).order_by(col(ProspectModel.id).desc())
        ).first()
        if own is not None:
            return own
    return session.exec(
        query.where(col(ProspectModel.owner_id).is_(None)).order_by(col(ProspectModel.id).desc())
    ).first()


def _box(lat: float, lng: float, km: float) -> tuple[float, float, float, float]:
    dlat = km / 111.0
    dlng = km / (111.0 * max(math.cos(math.radians(lat)), 0.01))
    return lat - dlat, lat + dlat, lng - dlng, lng + dlng


def distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


SUMMARY_COLUMNS = (
    col(Prospect.id),
    col(Prospect.name),
    col(Prospect.industry_code),
    col(Prospect.size),
    col(Prospect.region_code),
    col(Prospect.latitude),
    col(Prospect.longitude),
    col(Prospect.claimed_by),
    col(Prospect.claimed_until),
)


def _summary(p: Any, score: float | None, user: User, km: float | None = None) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "industry_code": p.industry_code,
        "industry": industry_name(p.industry_code),
        "size": p.size,
        "region_code": p.region_code,
        "region": region_name(p.region_code),
        "lat": p.latitude,
        "lng": p.longitude,
        "score": score,
        "claimed_by_me": p.claimed_by == user.id
        and p.claimed_until is not None
        and as_utc(p.claimed_until) >= utcnow(),
        "distance_km": None if km is None else round(km, 2),
    }


def list_prospects(
    session: Session,
    *,
    user: User,
    industry: str | None = None,
    size: str | None = None,
    min_score: float | None = None,
    near: tuple[float, float, float] | None = None,
    mine: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    _staff(user)
    now = utcnow()
    model = current_model(session, user=user)
    # Columns, not entities: the map asks for thousands of rows at once.
    query: Any = sa_select(*SUMMARY_COLUMNS, col(ProspectScore.score).label("score"))
    if model is not None:
        query = query.join(
            ProspectScore,
            and_(col(ProspectScore.prospect_id) == Prospect.id, col(ProspectScore.model_id) == model.id),
            isouter=True,
        )
    else:
        query = sa_select(*SUMMARY_COLUMNS, literal(None).label("score"))
    query = query.where(visible(user, now))
    if mine:
        query = query.where(col(Prospect.claimed_by) == user.id, col(Prospect.claimed_until) >= now)
    if industry:
        query = query.where(col(Prospect.industry_code).startswith(industry))
    if size:
        query = query.where(col(Prospect.size) == size)
    if min_score is not None and model is not None:
        query = query.where(col(ProspectScore.score) >= min_score)
    if near is not None:
        lat, lng, km = near
        lo_lat, hi_lat, lo_lng, hi_lng = _box(lat, lng, km)
        query = query.where(
            col(Prospect.latitude).between(lo_lat, hi_lat), col(Prospect.longitude).between(lo_lng, hi_lng)
        )
    if model is not None:
        query = query.order_by(col(ProspectScore.score).desc().nulls_last(), col(Prospect.id))
    else:
        query = query.order_by(col(Prospect.id))
    if near is None:
        rows = session.execute(query.offset(offset).limit(limit + 1)).all()
        items = [_summary(r, r.score, user) for r in rows[:limit]]
        return {"items": items, "has_more": len(rows) > limit, "model_id": model.id if model else None}
    lat, lng, km = near
    found = []
    for r in session.execute(query.limit(20_000)).all():  # the box first, then the circle
        if r.latitude is None or r.longitude is None:
            continue
        d = distance_km(lat, lng, r.latitude, r.longitude)
        if d <= km:
            found.append(_summary(r, r.score, user, d))
    return {
        "items": found[offset : offset + limit],
        "has_more": len(found) > offset + limit,
        "model_id": model.id if model else None,
    }


def map_points(session: Session, *, user: User, **filters: Any) -> dict[str, Any]:
    """The RM's own customers and the best-scored visible prospects, compact for the map."""
    _staff(user)
    page = list_prospects(session, user=user, limit=MAP_LIMIT, **filters)
    owners = [row_id(user)] if user.role == Role.rm else team_member_ids(session, lead=user)
    customers = session.exec(
        select(Customer.id, Customer.name, Customer.latitude, Customer.longitude)
        .where(col(Customer.owner_id).in_(owners), col(Customer.latitude).is_not(None))
        .limit(MAP_LIMIT)
    ).all()
    return {
        "customers": [{"id": c[0], "name": c[1], "lat": c[2], "lng": c[3]} for c in customers],
        "prospects": [
            {
                "id": p["id"],
                "name": p["name"],
                "lat": p["lat"],
                "lng": p["lng"],
                "score": p["score"],
                "industry_code": p["industry_code"],
                "size": p["size"],
                "mine": p["claimed_by_me"],
            }
            for p in page["items"]
        ],
        "model_id": page["model_id"],
        "tile_url": current_app.config["SETTINGS"].PROSPECT_TILE_URL or None,
    }


def get_visible(session: Session, *, user: User, prospect_id: int) -> Prospect:
    _staff(user)
    prospect = session.exec(
        select(Prospect).where(col(Prospect.id) == prospect_id, visible(user, utcnow()))
    ).first()
    if prospect is None:
        raise not_found("prospect")
    return prospect


# --- reasons ------------------------------------------------------------------------------------


def _features_of(
    session: Session, prospect: Prospect, model: ProspectModel
) -> tuple[dict[str, int], np.ndarray]:
    """The prospect's family indices and graph features under this version's seeds."""
    today = utcnow().date()
    age = (today - prospect.founded_on).days / 365.25 if prospect.founded_on else float("nan")
    capital = (prospect.registered_capital_cents or 0) / 100 or float("nan")
    blocks = lookalike.encode_firms(
        industry=[prospect.industry_code],
        region=[prospect.region_code],
        size=[prospect.size],
        ownership=[prospect.ownership],
        age_years=np.array([age]),
        capital_yuan=np.array([capital]),
    )
    seeds = set(model.seed_ids)
    links = session.exec(select(ProspectLink).where(col(ProspectLink.prospect_id) == prospect.id)).all()
    reverse = session.exec(
        select(ProspectLink).where(
            col(ProspectLink.other_prospect_id) == prospect.id, col(ProspectLink.kind).in_(CHAIN_KINDS)
        )
    ).all()
    chain_customers = {lk.customer_id for lk in links if lk.kind in CHAIN_KINDS and lk.customer_id}
    neighbours = {lk.other_prospect_id for lk in links if lk.kind in CHAIN_KINDS and lk.other_prospect_id}
    neighbours |= {lk.prospect_id for lk in reverse}
    two_hop: set[int] = set()
    if neighbours:
        two_hop = {
            c
            for c in session.exec(
                select(ProspectLink.customer_id).where(
                    col(ProspectLink.prospect_id).in_(neighbours),
                    col(ProspectLink.kind).in_(CHAIN_KINDS),
                    col(ProspectLink.customer_id).is_not(None),
                )
            ).all()
            if c is not None
        }
    top = set()
    if chain_customers:
        top = set(
            session.exec(
                select(Customer.id).where(
                    col(Customer.id).in_(chain_customers), col(Customer.tier).in_(("vip", "high"))
                )
            ).all()
        )
    park_seed = False
    if prospect.park:
        park_customers = session.exec(
            select(ProspectLink.customer_id)
            .join(Prospect, col(Prospect.id) == ProspectLink.prospect_id)
            .where(col(Prospect.park) == prospect.park, col(ProspectLink.kind) == LinkKind.park)
        ).all()
        park_seed = any(c in seeds for c in park_customers)
    seed_chain = bool(chain_customers & seeds)
    graph = np.array(
        [seed_chain, bool(two_hop & seeds) and not seed_chain, bool(chain_customers), bool(top), park_seed],
        dtype=np.float32,
    )
    return {k: int(v[0]) for k, v in blocks.items()}, graph


def _masked_name(customer: Customer, user: User) -> str:
    return customer.name if customer.owner_id == user.id else (mask("company_name", customer.name) or "")


def similar_customers(
    session: Session, *, prospect: Prospect, user: User, model: ProspectModel | None
) -> list[dict]:
    """The 3 existing customers most like this prospect: same industry first, then size, region,
    age and capital band, nearest on the map as the tie-break. Names masked unless one's own."""
    candidates = session.exec(
        select(Customer, CorporateProfile)
        .join(CorporateProfile, col(CorporateProfile.customer_id) == Customer.id)
        .where(col(Customer.industry_code) == prospect.industry_code)
        .limit(2000)
    ).all()
    if not candidates:
        return []
    seeds = set(model.seed_ids) if model else set()
    p_capital = math.log10(max((prospect.registered_capital_cents or 100) / 100, 1))
    scored = []
    for customer, profile in candidates:
        s = 3.0
        s += 1.0 if customer.size == prospect.size else 0.0
        s += 1.0 if customer.region_code == prospect.region_code else 0.0
        s += 0.5 if customer.id in seeds else 0.0
        if profile.registered_capital_cents:
            s -= min(1.0, abs(math.log10(profile.registered_capital_cents / 100) - p_capital) / 2)
        if profile.founded_on and prospect.founded_on:
            s -= min(1.0, abs((profile.founded_on - prospect.founded_on).days) / 3650)
        km = 1e6
        if prospect.latitude is not None and prospect.longitude is not None:
            if customer.latitude is not None and customer.longitude is not None:
                km = distance_km(prospect.latitude, prospect.longitude, customer.latitude, customer.longitude)
        scored.append((-s, km, customer))
    scored.sort(key=lambda t: (t[0], t[1]))
    return [
        {
            "name": _masked_name(c, user),
            "mine": c.owner_id == user.id,
            "id": c.id if c.owner_id == user.id else None,
            "industry": industry_name(c.industry_code),
            "size": c.size,
            "region": region_name(c.region_code),
        }
        for _s, _km, c in scored[:3]
    ]


def shortest_path(
    session: Session, *, prospect: Prospect, user: User, max_depth: int = 3
) -> list[dict] | None:
    """The shortest supply-chain/shareholding path from the prospect to a customer of the bank,
    breadth first over prospect_link (both directions between prospects), at most `max_depth` ties."""
    parent: dict[int, tuple[int | None, str]] = {int(prospect.id): (None, "")}  # type: ignore[arg-type]
    frontier = [int(prospect.id)]  # type: ignore[arg-type]
    for _depth in range(max_depth):
        links = session.exec(
            select(ProspectLink).where(
                or_(
                    col(ProspectLink.prospect_id).in_(frontier),
                    col(ProspectLink.other_prospect_id).in_(frontier),
                ),
                col(ProspectLink.kind).in_(CHAIN_KINDS),
            )
        ).all()
        hits = [lk for lk in links if lk.customer_id is not None and lk.prospect_id in frontier]
        if hits:
            hit = min(hits, key=lambda lk: (lk.prospect_id, lk.customer_id))
            customer = session.get(Customer, hit.customer_id)
            steps = []
            node: int | None = hit.prospect_id
            chain = []
            while node is not None:
                chain.append(node)
                node = parent[node][0]
            chain.reverse()
            names = dict(
                session.exec(select(Prospect.id, Prospect.name).where(col(Prospect.id).in_(chain))).all()
            )
            for k, pid in enumerate(chain):
                steps.append(
                    {"kind": "prospect", "name": names.get(pid, ""), "via": parent[pid][1] if k else None}
                )
            steps.append(
                {
                    "kind": "customer",
                    "name": _masked_name(customer, user) if customer else "",
                    "via": LINK_LABELS[LinkKind(hit.kind)],
                }
            )
            return steps
        nxt = []
        for lk in links:
            for a, b in ((lk.prospect_id, lk.other_prospect_id), (lk.other_prospect_id, lk.prospect_id)):
                if a in frontier and b is not None and b not in parent:
                    parent[b] = (a, LINK_LABELS[LinkKind(lk.kind)])
                    nxt.append(b)
        if not nxt:
            return None
        frontier = nxt[:2000]
    return None


def path_text(steps: list[dict] | None) -> str | None:
    """供应商 → 上海XX电子 → 我行客户 (the prospect itself is the start and not named)."""
    if not steps:
        return None
    parts = []
    for step in steps[1:]:
        parts.append(step["via"])
        parts.append(step["name"] + ("（我行客户）" if step["kind"] == "customer" else ""))
    return " → ".join(parts)


def detail(session: Session, *, user: User, prospect_id: int, ip: str | None = None) -> dict[str, Any]:
    prospect = get_visible(session, user=user, prospect_id=prospect_id)
    model = current_model(session, user=user)
    score = None
    factors: list[dict] = []
    if model is not None:
        score = session.exec(
            select(ProspectScore.score).where(
                col(ProspectScore.model_id) == model.id, col(ProspectScore.prospect_id) == prospect.id
            )
        ).first()
        blocks, graph = _features_of(session, prospect, model)
        factors = lookalike.explain(lookalike.Lookalike.from_json(model.params), blocks, graph)
    steps = shortest_path(session, prospect=prospect, user=user)
    activities = session.exec(
        select(ProspectActivity)
        .where(col(ProspectActivity.prospect_id) == prospect.id, col(ProspectActivity.rm_id) == user.id)
        .order_by(col(ProspectActivity.at).desc())
        .limit(20)
    ).all()
    audit.record(
        session,
        actor_id=user.id,
        action="prospect.view",
        object_type="prospect",
        object_id=prospect.id,
        ip=ip,
    )
    session.commit()
    return {
        **_summary(prospect, score, user),
        "credit_code": prospect.credit_code,
        "ownership": prospect.ownership,
        "registered_capital_cents": prospect.registered_capital_cents,
        "founded_on": prospect.founded_on.isoformat() if prospect.founded_on else None,
        "address": prospect.address,
        "park": prospect.park,
        "claimed_until": iso(prospect.claimed_until) if prospect.claimed_by == user.id else None,
        "sources": prospect.field_sources,
        "model_id": model.id if model else None,
        "reasons": {
            "factors": [{"text": f["text"], "weight": f["weight"]} for f in factors],
            "similar_customers": similar_customers(session, prospect=prospect, user=user, model=model),
            "path": steps,
            "path_text": path_text(steps),
        },
        "activities": [{"kind": a.kind, "at": iso(a.at), "note": a.note} for a in activities],
        "version": prospect.version,
    }


# --- claims -------------------------------------------------------------------------------------


def claim(session: Session, *, user: User, prospect_id: int, ip: str | None = None) -> dict[str, Any]:
    """One conditional UPDATE: exactly one RM wins an open prospect; the holder may renew."""
    if user.role != Role.rm:
        raise forbidden("Only relationship managers claim prospects.")
    get_visible(session, user=user, prospect_id=prospect_id)
    now = utcnow()
    until = now + timedelta(days=claim_days())
    result = session.execute(
        update(Prospect)
        .where(
            col(Prospect.id) == prospect_id,
            col(Prospect.status) == ProspectStatus.open,
            or_(
                col(Prospect.claimed_by).is_(None),
                col(Prospect.claimed_until) < now,
                col(Prospect.claimed_by) == user.id,
            ),
        )
        .values(claimed_by=user.id, claimed_until=until, version=Prospect.version + 1, updated_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise not_found("prospect")  # another RM won it a moment ago: it is theirs, not visible
    # Claims that lapsed end now; the new one starts.
    session.execute(
        update(ProspectClaim)
        .where(col(ProspectClaim.prospect_id) == prospect_id, col(ProspectClaim.ended_at).is_(None))
        .values(ended_at=now, end_reason="expired")
    )
    session.add(ProspectClaim(prospect_id=prospect_id, rm_id=row_id(user), claimed_at=now, expires_at=until))
    audit.record(
        session,
        actor_id=user.id,
        action="prospect.claim",
        object_type="prospect",
        object_id=prospect_id,
        ip=ip,
        detail={"until": iso(until)},
    )
    session.commit()
    return {"id": prospect_id, "claimed_until": iso(until)}


def release(session: Session, *, user: User, prospect_id: int, ip: str | None = None) -> dict[str, Any]:
    now = utcnow()
    result = session.execute(
        update(Prospect)
        .where(
            col(Prospect.id) == prospect_id,
            col(Prospect.claimed_by) == user.id,
            col(Prospect.claimed_until) >= now,
        )
        .values(claimed_by=None, claimed_until=None, version=Prospect.version + 1, updated_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise not_found("prospect")
    session.execute(
        update(ProspectClaim)
        .where(col(ProspectClaim.prospect_id) == prospect_id, col(ProspectClaim.ended_at).is_(None))
        .values(ended_at=now, end_reason="released")
    )
    audit.record(
        session,
        actor_id=user.id,
        action="prospect.release",
        object_type="prospect",
        object_id=prospect_id,
        ip=ip,
    )
    session.commit()
    return {"id": prospect_id, "released": True}


def expire_claims(session: Session, *, now: datetime | None = None) -> int:
    """Lapsed claims end (the prospect returns to everyone); safe to run any number of times."""
    now = now or utcnow()
    lapsed = list(
        session.exec(
            select(Prospect.id).where(
                col(Prospect.claimed_by).is_not(None), col(Prospect.claimed_until) < now
            )
        ).all()
    )
    if not lapsed:
        return 0
    session.execute(
        update(Prospect)
        .where(col(Prospect.id).in_(lapsed), col(Prospect.claimed_until) < now)
        .values(claimed_by=None, claimed_until=None, version=Prospect.version + 1)
    )
    session.execute(
        update(ProspectClaim)
        .where(col(ProspectClaim.prospect_id).in_(lapsed), col(ProspectClaim.ended_at).is_(None))
        .values(ended_at=now, end_reason="expired")
    )
    session.commit()
    return len(lapsed)


def add_activity(
    session: Session, *, user: User, prospect_id: int, kind: str, note: str | None, at: datetime | None = None
) -> dict[str, Any]:
    """Visits, notes, sharing and war rooms work on a prospect the RM holds."""
    prospect = get_visible(session, user=user, prospect_id=prospect_id)
    if prospect.claimed_by != user.id:
        raise Problem(409, "Conflict", "Claim the prospect first.", code="prospect-not-claimed")
    if kind not in ACTIVITY_KINDS:
        raise Problem(422, "Unprocessable Content", "Unknown activity.", code="validation")
    activity = ProspectActivity(
        prospect_id=prospect_id, rm_id=row_id(user), kind=kind, note=note, at=at or utcnow()
    )
    session.add(activity)
    audit.record(
        session, actor_id=user.id, action=f"prospect.{kind}", object_type="prospect", object_id=prospect_id
    )
    session.commit()
    return {"id": activity.id, "kind": kind, "at": iso(activity.at)}


# --- conversions, coverage, versions -----------------------------------------------------------


def record_conversions(session: Session, *, now: datetime | None = None) -> int:
    """Open prospects whose credit code now belongs to a customer become `converted` (keeping their
    claims, activities and scores); their open claims end with reason `converted`."""
    now = now or utcnow()
    rows = session.exec(
        select(Prospect.id, CorporateProfile.customer_id)
        .join(CorporateProfile, col(CorporateProfile.credit_code) == Prospect.credit_code)
        .where(col(Prospect.status) == ProspectStatus.open)
    ).all()
    for prospect_id, customer_id in rows:
        session.execute(
            update(Prospect)
            .where(col(Prospect.id) == prospect_id, col(Prospect.status) == ProspectStatus.open)
            .values(
                status=ProspectStatus.converted,
                customer_id=customer_id,
                converted_at=now,
                version=Prospect.version + 1,
            )
        )
        session.execute(
            update(ProspectClaim)
            .where(col(ProspectClaim.prospect_id) == prospect_id, col(ProspectClaim.ended_at).is_(None))
            .values(ended_at=now, end_reason="converted")
        )
    session.commit()
    return len(rows)


def coverage(session: Session, *, user: User) -> dict[str, Any]:
    """By region: prospects the team holds now, has visited, and has converted."""
    if user.role != Role.team_lead:
        raise forbidden("Coverage is for team leads.")
    team = team_member_ids(session, lead=user)
    out: dict[str, dict[str, Any]] = {}

    def bucket(code: str | None) -> dict[str, Any]:
        key = code or "-"
        return out.setdefault(
            key,
            {"region_code": code, "region": region_name(code), "claimed": 0, "visited": 0, "converted": 0},
        )

    if team:
        now = utcnow()
        for code, n in session.exec(
            select(Prospect.region_code, func.count())
            .where(
                col(Prospect.claimed_by).in_(team),
                col(Prospect.claimed_until) >= now,
                col(Prospect.status) == ProspectStatus.open,
            )
            .group_by(Prospect.region_code)
        ).all():
            bucket(code)["claimed"] = n
        for code, n in session.exec(
            select(Prospect.region_code, func.count(func.distinct(ProspectActivity.prospect_id)))
            .join(Prospect, col(Prospect.id) == ProspectActivity.prospect_id)
            .where(col(ProspectActivity.rm_id).in_(team), col(ProspectActivity.kind) == "visited")
            .group_by(Prospect.region_code)
        ).all():
            bucket(code)["visited"] = n
        for code, n in session.exec(
            select(Prospect.region_code, func.count(func.distinct(Prospect.id)))
            .join(ProspectClaim, col(ProspectClaim.prospect_id) == Prospect.id)
            .where(col(ProspectClaim.rm_id).in_(team), col(Prospect.status) == ProspectStatus.converted)
            .group_by(Prospect.region_code)
        ).all():
            bucket(code)["converted"] = n
    items = sorted(out.values(), key=lambda r: -(r["claimed"] + r["visited"] + r["converted"]))
    return {"items": items, "team_size": len(team)}


def model_versions(session: Session, *, user: User) -> list[dict[str, Any]]:
    """Each version with its real hit rate: of the prospects it ranked in its top 5 %, the share that
    became customers, beside the share of all the prospects it scored."""
    if user.role != Role.admin:
        raise forbidden("Model versions are for admins.")
    models = session.exec(select(ProspectModel).order_by(col(ProspectModel.id).desc()).limit(50)).all()
    out = []
    for m in models:
        scored, converted = session.exec(
            select(func.count(), func.count(col(Prospect.converted_at)))
            .select_from(ProspectScore)
            .join(Prospect, col(Prospect.id) == ProspectScore.prospect_id)
            .where(col(ProspectScore.model_id) == m.id)
        ).one()
        top, top_converted = session.exec(
            select(func.count(), func.count(col(Prospect.converted_at)))
            .select_from(ProspectScore)
            .join(Prospect, col(Prospect.id) == ProspectScore.prospect_id)
            .where(col(ProspectScore.model_id) == m.id, col(ProspectScore.score) >= 95)
        ).one()
        rate = converted / scored if scored else None
        top_rate = top_converted / top if top else None
        out.append(
            {
                "id": m.id,
                "owner_id": m.owner_id,
                "seeds_kind": m.seeds_kind,
                "seeds": len(m.seed_ids),
                "status": m.status,
                "error": m.error,
                "trained_at": iso(m.trained_at) if m.trained_at else None,
                "scored": scored,
                "converted": converted,
                "top5_scored": top,
                "top5_converted": top_converted,
                "hit_rate_top5": top_rate,
                "conversion_rate": rate,
                "lift_top5": (top_rate / rate) if top_rate is not None and rate else None,
                "dropped": m.params.get("dropped", []),
            }
        )
    return out


def request_training(
    session: Session, *, user: User, seeds_kind: str, customer_ids: list[int], ip: str | None = None
) -> ProspectModel:
    """An admin trains the bank's version (default seeds); an RM trains their own from their book."""
    if user.role not in (Role.rm, Role.admin):
        raise forbidden("Only RMs (their own seeds) and admins (the bank's) train versions.")
    owner = None if user.role == Role.admin else row_id(user)
    if user.role == Role.admin and seeds_kind != "default":
        raise Problem(
            422, "Unprocessable Content", "The bank's version uses the default seeds.", code="validation"
        )
    if seeds_kind == "customers":
        own = set(
            session.exec(
                select(Customer.id).where(
                    col(Customer.id).in_(customer_ids), col(Customer.owner_id) == user.id
                )
            ).all()
        )
        if len(own) != len(set(customer_ids)):
            raise not_found("customer")
    model = ProspectModel(
        owner_id=owner, seeds_kind=seeds_kind, seed_ids=sorted(set(customer_ids)), created_by=row_id(user)
    )
    session.add(model)
    session.flush()
    audit.record(
        session,
        actor_id=user.id,
        action="prospect.train",
        object_type="prospect_model",
        object_id=model.id,
        ip=ip,
        detail={"seeds_kind": seeds_kind, "seeds": len(customer_ids)},
    )
    events.publish(session, EVENT_TRAIN, {"model_id": model.id})
    session.commit()
    return model


def model_public(model: ProspectModel) -> dict[str, Any]:
    return {
        "id": model.id,
        "status": model.status,
        "seeds_kind": model.seeds_kind,
        "seeds": len(model.seed_ids),
        "error": model.error,
        "metrics": model.metrics,
        "trained_at": iso(model.trained_at) if model.trained_at else None,
    }


def get_model_for(session: Session, *, user: User, model_id: int) -> ProspectModel:
    model = session.get(ProspectModel, model_id)
    if model is None or (user.role != Role.admin and model.owner_id != user.id):
        raise not_found("model")
    return model
