"""What the RM does with the recommendations: each product shown is recorded once per customer, a
dismissal (with its reason) hides the product for DISMISS_DAYS, and the adoption report tells admins
how many shown products the customers then opened."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from server.assistant.models import RecommendationDismissal, RecommendationShown, RecommenderModel
from server.customers.models import Customer
from server.errors import not_found, unprocessable
from server.org.models import User
from server.products.models import Holding, Product
from server.timeutil import as_utc, iso, utcnow

DISMISS_DAYS = 90

DISMISS_REASONS = {
    "held_elsewhere": "已持有他行同类产品",
    "no_need": "客户无需求",
    "not_suitable": "不适合该客户",
    "timing": "时机未到",
    "other": "其他",
}


def record_shown(
    session: Session, *, customer_id: int, rm_id: int, product_ids: list[int], now: datetime
) -> None:
    known = set(
        session.exec(
            select(RecommendationShown.product_id).where(
                RecommendationShown.customer_id == customer_id,
                col(RecommendationShown.product_id).in_(product_ids),
            )
        ).all()
    )
    for product_id in product_ids:
        if product_id not in known:
            session.add(
                RecommendationShown(customer_id=customer_id, product_id=product_id, rm_id=rm_id, shown_at=now)
            )
    session.commit()


def dismiss(
    session: Session,
    *,
    user: User,
    customer: Customer,
    product_id: int,
    reason: str,
    note: str | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    now = now or utcnow()
    if reason not in DISMISS_REASONS:
        raise unprocessable("Unknown reason.", errors=[{"field": "reason", "message": "unknown"}])
    if session.get(Product, product_id) is None:
        raise not_found("product")
    row = RecommendationDismissal(
        customer_id=int(customer.id or 0),
        product_id=product_id,
        rm_id=int(user.id or 0),
        reason=reason,
        note=note,
        dismissed_at=now,
        until=now + timedelta(days=DISMISS_DAYS),
    )
    session.add(row)
    session.commit()
    return {"id": row.id, "product_id": product_id, "reason": reason, "until": iso(row.until)}


def adoption_report(session: Session, *, now: datetime | None = None) -> dict[str, Any]:
    """For admins: recommendations shown, adopted (the customer opened the product on or after the
    day it was first shown), the adoption rate, and dismissals by reason and by product."""
    now = now or utcnow()
    shown = session.exec(select(func.count()).select_from(RecommendationShown)).one()
    adopted_rows = session.exec(
        select(RecommendationShown.product_id, func.count(func.distinct(RecommendationShown.id)))
        .join(
            Holding,
            and_(
                col(Holding.customer_id) == RecommendationShown.customer_id,
                col(Holding.product_id) == RecommendationShown.product_id,
            ),
        )
        .where(col(Holding.opened_on) >= func.date(RecommendationShown.shown_at))
        .group_by(col(RecommendationShown.product_id))
    ).all()
    adopted = sum(int(n) for _p, n in adopted_rows)
    shown_by_product = dict(
        session.exec(
            select(RecommendationShown.product_id, func.count()).group_by(col(RecommendationShown.product_id))
        ).all()
    )
    by_reason = dict(
        session.exec(
            select(RecommendationDismissal.reason, func.count()).group_by(col(RecommendationDismissal.reason))
        ).all()
    )
    dismissed_by_product = dict(
        session.exec(
            select(RecommendationDismissal.product_id, func.count()).group_by(
                col(RecommendationDismissal.product_id)
            )
        ).all()
    )
    names = {p.id: p.name for p in session.exec(select(Product)).all()}
    adopted_by_product = {p: int(n) for p, n in adopted_rows}
    products: list[dict[str, Any]] = [
        {
            "product_id": pid,
            "name": names.get(pid, ""),
            "shown": int(shown_by_product.get(pid, 0)),
            "adopted": adopted_by_product.get(pid, 0),
            "dismissed": int(dismissed_by_product.get(pid, 0)),
        }
        for pid in sorted(set(shown_by_product) | set(dismissed_by_product))
    ]
    products.sort(key=lambda r: (-r["shown"], r["product_id"]))
    model = session.exec(select(RecommenderModel).order_by(col(RecommenderModel.id).desc())).first()
    return {
        "shown": int(shown),
        "adopted": adopted,
        "adoption_rate": round(adopted / shown, 4) if shown else None,
        "dismissals": {
            "total": sum(int(v) for v in by_reason.values()),
            "by_reason": [
                {"code": code, "label": label, "count": int(by_reason.get(code, 0))}
                for code, label in DISMISS_REASONS.items()
            ],
        },
        "products": products,
        "model": {
            "trained_at": iso(as_utc(model.trained_at)),
            "customers": model.customers,
            "holdings": model.holdings,
        }
        if model
        else None,
    }
