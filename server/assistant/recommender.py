"""Next best product (下一个最佳产品): what a customer is likely to open next, filtered to what the
RM may sell and the customer may buy, with a reason in Chinese.

The model itself (training, scoring, the reason) is server/assistant/recommender_model.py; what the
RM does with the products shown (dismissals, adoption) is server/assistant/recommender_feedback.py.
This module loads the history, keeps the trained model and picks the candidates.

Filters (never relaxed): the RM may sell it (qualification, branch: server/products), the customer
may buy it (kind and size per the product's fit, risk level R1..R5 not above the risk appetite
C1..C5; a customer without a recorded appetite only R1-R2), it is not already held, and it was not
dismissed by the RM within DISMISS_DAYS (recommender_feedback)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import func
from sqlmodel import Session, col, select

from server.assistant.models import RecommendationDismissal, RecommenderModel
from server.assistant.recommender_feedback import DISMISS_REASONS, record_shown
from server.assistant.recommender_model import History, Recommender, segment_label, segment_of, train
from server.customers.models import Customer, IndividualProfile
from server.errors import Problem
from server.org.models import User
from server.products.models import Holding, Product, ProductCase, ProductFit
from server.products.service import sellable_products
from server.timeutil import utcnow

KEEP_MODELS = 3


# --- eligibility -------------------------------------------------------------------------------------


def _risk(level: str | None) -> int:
    return int(level[1:]) if level and level[1:].isdigit() else 0


def may_buy(
    product: Product, fit: ProductFit | None, *, kind: str, size: str | None, appetite: str | None
) -> bool:
    """The customer may buy it: kind and size per the product's fit, risk level within appetite."""
    kinds = (
        fit.kinds
        if fit and fit.kinds
        else ([product.segment] if product.segment in ("corporate", "individual") else [])
    )
    if kinds and kind not in kinds:
        return False
    if fit and fit.sizes and kind == "corporate" and size not in fit.sizes:
        return False
    limit = _risk(appetite) if appetite else 2
    return _risk(product.risk_level) <= limit


# --- the database side -----------------------------------------------------------------------------------


def load_history(session: Session, *, today: date, until: date | None = None) -> History:
    """Every customer's holdings (opened on or before `until`), one query each for customers and
    holdings."""
    product_ids = list(session.exec(select(Product.id).order_by(col(Product.id))).all())
    rows = session.exec(
        select(  # type: ignore[call-overload]
            Customer.id,
            Customer.kind,
            Customer.industry_code,
            Customer.size,
            Customer.tier,
            IndividualProfile.birth_date,
        )
        .join(IndividualProfile, col(IndividualProfile.customer_id) == Customer.id, isouter=True)
        .order_by(col(Customer.id))
    ).all()
    customer_ids = [r[0] for r in rows]
    segments = [
        segment_of(kind=r[1], industry_code=r[2], size=r[3], tier=r[4], birth=r[5], today=today) for r in rows
    ]
    c_index = {c: i for i, c in enumerate(customer_ids)}
    p_index = {p: i for i, p in enumerate(product_ids)}
    opened = np.zeros((len(customer_ids), len(product_ids)), dtype=np.int32)
    query = select(Holding.customer_id, Holding.product_id, func.min(Holding.opened_on)).group_by(
        col(Holding.customer_id), col(Holding.product_id)
    )
    if until is not None:
        query = query.where(col(Holding.opened_on) <= until)
    for customer_id, product_id, opened_on in session.exec(query).all():
        if isinstance(opened_on, str):
            opened_on = date.fromisoformat(opened_on)
        opened[c_index[customer_id], p_index[product_id]] = opened_on.toordinal()
    return History(customer_ids, [int(p) for p in product_ids if p is not None], opened, segments)


def retrain(session: Session, *, now: datetime | None = None) -> RecommenderModel:
    now = now or utcnow()
    history = load_history(session, today=now.date())
    payload = train(history, today=now.date())
    model = RecommenderModel(
        trained_at=now,
        customers=len(history.customer_ids),
        holdings=int((history.opened > 0).sum()),
        payload=payload,
    )
    session.add(model)
    session.flush()
    old = session.exec(
        select(RecommenderModel.id).order_by(col(RecommenderModel.id).desc()).offset(KEEP_MODELS)
    ).all()
    for model_id in old:
        stale = session.get(RecommenderModel, model_id)
        if stale is not None:
            session.delete(stale)
    session.commit()
    return model


_CACHE: dict[int, Recommender] = {}


def current_model(session: Session) -> Recommender | None:
    row = session.exec(select(RecommenderModel).order_by(col(RecommenderModel.id).desc())).first()
    if row is None or row.id is None:
        return None
    if row.id not in _CACHE:
        _CACHE.clear()
        _CACHE[row.id] = Recommender(row.payload)
    return _CACHE[row.id]


def model_unavailable() -> Problem:
    return Problem(
        503,
        "Service Unavailable",
        "The recommender has not been trained yet.",
        code="recommender_not_trained",
    )


def next_products(
    session: Session,
    *,
    user: User,
    customer: Customer,
    limit: int = 5,
    now: datetime | None = None,
    record: bool = True,
) -> dict[str, Any]:
    """Ranked products for a customer the user may read. The products are those the customer's RM
    may sell (a team lead sees what the RM would be offered)."""
    now = now or utcnow()
    today = now.date()
    model = current_model(session)
    if model is None:
        raise model_unavailable()
    owner = session.get(User, customer.owner_id)
    assert owner is not None
    profile = session.get(IndividualProfile, customer.id) if customer.kind == "individual" else None
    holdings = session.exec(select(Holding).where(Holding.customer_id == customer.id)).all()
    held: dict[int, date] = {}
    for h in holdings:
        opened = h.opened_on if isinstance(h.opened_on, date) else date.fromisoformat(str(h.opened_on))
        if h.status == "active" or h.product_id not in held:
            held[h.product_id] = min(opened, held.get(h.product_id, opened))
    active = {h.product_id for h in holdings if h.status == "active"}
    dismissed = set(
        session.exec(
            select(RecommendationDismissal.product_id).where(
                RecommendationDismissal.customer_id == customer.id, col(RecommendationDismissal.until) > now
            )
        ).all()
    )
    sellable = sellable_products(session, rm=owner)
    fits = {f.product_id: f for f in session.exec(select(ProductFit)).all()}
    appetite = profile.risk_appetite if profile else None
    allowed = [
        p.id
        for p in sellable
        if p.id is not None
        and p.id not in active
        and p.id not in dismissed
        and may_buy(p, fits.get(p.id), kind=customer.kind, size=customer.size, appetite=appetite)
    ]
    by_id = {p.id: p for p in sellable}
    names = {int(p.id): p.name for p in session.exec(select(Product)).all() if p.id is not None}
    segment = segment_of(
        kind=customer.kind,
        industry_code=customer.industry_code,
        size=customer.size,
        tier=customer.tier,
        birth=profile.birth_date if profile else None,
        today=today,
    )
    # Matured products may be opened again: they stay in the history but are candidates.
    history = {p: d for p, d in held.items() if p in active or p not in allowed}
    ranked = model.rank(
        held=history,
        segment=segment,
        today=today,
        allowed=[p for p in allowed if p is not None],
        names=names,
        limit=limit,
    )
    cases = _first_cases(session, [s.product_id for s in ranked])
    items: list[dict[str, Any]] = []
    for s in ranked:
        p = by_id[s.product_id]
        items.append(
            {
                "product_id": p.id,
                "code": p.code,
                "name": p.name,
                "category": p.category,
                "risk_level": p.risk_level,
                "score": round(s.score, 4),
                "reason": s.reason,
                "selling_points": list(p.selling_points)[:3],
                "case": cases.get(s.product_id),
            }
        )
    if record and items:
        record_shown(
            session,
            customer_id=int(customer.id or 0),
            rm_id=int(owner.id or 0),
            product_ids=[int(i["product_id"]) for i in items],
            now=now,
        )
    return {
        "customer_id": customer.id,
        "segment": segment_label(segment),
        "items": items,
        "dismiss_reasons": [{"code": k, "label": v} for k, v in DISMISS_REASONS.items()],
    }


def _first_cases(session: Session, product_ids: list[int]) -> dict[int, dict[str, str]]:
    if not product_ids:
        return {}
    out: dict[int, dict[str, str]] = {}
    for case in session.exec(
        select(ProductCase).where(col(ProductCase.product_id).in_(product_ids)).order_by(col(ProductCase.id))
    ).all():
        out.setdefault(
            case.product_id,
            {"customer_label": case.customer_label, "story": case.story, "result": case.result},
        )
    return out
