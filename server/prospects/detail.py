"""One prospect with its reasons: the lookalike factors, the customers most like it and the shortest
chain to a customer of the bank. Every view of a prospect's details is audited."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sqlalchemy import or_
from sqlmodel import Session, col, select

from server.audit import service as audit
from server.customers.models import CorporateProfile, Customer, CustomerLink
from server.masking import mask
from server.org.models import User
from server.prospects import lookalike
from server.prospects.features import BOOK_CHAIN_KINDS, TOP_TIERS
from server.prospects.listing import distance_km, get_visible, prospect_summary
from server.prospects.models import (
    CHAIN_KINDS,
    LINK_LABELS,
    LinkKind,
    Prospect,
    ProspectActivity,
    ProspectLink,
    ProspectModel,
    ProspectScore,
)
from server.prospects.versions import current_model
from server.reference import industry_name, region_name
from server.timeutil import iso, utcnow

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
    # Customers two ties away: through a neighbouring prospect, or through a customer's own
    # supply-chain/shareholding links (as the graph the version was trained on joins them).
    two_hop: set[int] = set()
    if neighbours:
        two_hop |= {
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
    if chain_customers:
        for a, b in session.exec(
            select(CustomerLink.from_customer_id, CustomerLink.to_customer_id).where(
                col(CustomerLink.kind).in_(BOOK_CHAIN_KINDS),
                or_(
                    col(CustomerLink.from_customer_id).in_(chain_customers),
                    col(CustomerLink.to_customer_id).in_(chain_customers),
                ),
            )
        ).all():
            two_hop |= {c for c in (a, b) if c is not None and c not in chain_customers}
    near = chain_customers | two_hop
    top = set()
    if near:
        top = set(
            session.exec(
                select(Customer.id).where(col(Customer.id).in_(near), col(Customer.tier).in_(TOP_TIERS))
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
    top_chain = bool(top & chain_customers)
    values = {
        "customer_chain": bool(chain_customers),
        "top_chain": top_chain,
        "top_two_hop": bool(top & two_hop) and not top_chain,
        "seed_park": park_seed,
    }
    graph = np.array([values[name] for name in lookalike.GRAPH_FEATURES], dtype=np.float32)
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
        **prospect_summary(prospect, score, user),
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
