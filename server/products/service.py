"""Sellable products (我的可售产品): what this RM may sell (qualification and branch), how to sell it
(selling points, advantages, anonymised success cases, target profile) and which of the RM's own
customers fit it and do not hold it yet. The fit is one query per product over the RM's book."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_
from sqlmodel import Session, col, func, select

from server.customers.models import Customer
from server.errors import not_found
from server.org.models import RmProfile, User
from server.products.models import Holding, Product, ProductBranch, ProductCase, ProductFit

MAX_ADVANTAGES = 20


def sellable_products(session: Session, *, rm: User) -> list[Product]:
    profile = session.get(RmProfile, rm.id)
    qualifications = list(profile.qualifications) if profile else []
    restricted = exists().where(col(ProductBranch.product_id) == Product.id)
    at_branch = exists().where(
        and_(col(ProductBranch.product_id) == Product.id, col(ProductBranch.branch_id) == rm.branch_id)
    )
    qualified: ColumnElement[bool] = col(Product.required_qualification).is_(None)
    if qualifications:
        qualified = or_(qualified, col(Product.required_qualification).in_(qualifications))
    return list(
        session.exec(
            select(Product)
            .where(qualified, or_(~restricted, at_branch))
            .order_by(Product.category, Product.code)
        ).all()
    )


def _fit_conditions(product: Product, fit: ProductFit | None, rm: User) -> list[Any]:
    conditions: list[Any] = [
        Customer.owner_id == rm.id,
        ~exists().where(
            and_(
                col(Holding.customer_id) == Customer.id,
                col(Holding.product_id) == product.id,
                col(Holding.status) == "active",
            )
        ),
    ]
    kinds = (
        fit.kinds
        if fit and fit.kinds
        else ([product.segment] if product.segment in ("corporate", "individual") else [])
    )
    if kinds:
        conditions.append(col(Customer.kind).in_(kinds))
    if fit and fit.tiers:
        conditions.append(col(Customer.tier).in_(fit.tiers))
    if fit and fit.sizes:
        conditions.append(col(Customer.size).in_(fit.sizes))
    if fit and fit.industry_prefixes:
        conditions.append(or_(*[col(Customer.industry_code).startswith(p) for p in fit.industry_prefixes]))
    return conditions


def fitting_customers(
    session: Session, *, rm: User, product: Product, limit: int = 50
) -> tuple[int, list[Customer]]:
    conditions = _fit_conditions(product, session.get(ProductFit, product.id), rm)
    total = session.exec(select(func.count()).select_from(Customer).where(*conditions)).one()
    tier_order = {"vip": 0, "high": 1, "mid": 2, "mass": 3}
    rows = session.exec(
        select(Customer).where(*conditions).order_by(Customer.tier, Customer.name).limit(limit)
    ).all()
    return int(total), sorted(rows, key=lambda c: (tier_order.get(c.tier, 9), c.name))


def _public(session: Session, product: Product, *, rm: User, with_customers: bool) -> dict[str, Any]:
    fit = session.get(ProductFit, product.id)
    total, rows = fitting_customers(session, rm=rm, product=product, limit=50 if with_customers else 0)
    out: dict[str, Any] = {
        "id": product.id,
        "code": product.code,
        "name": product.name,
        "category": product.category,
        "segment": product.segment,
        "terms": product.terms,
        "risk_level": product.risk_level,
        "selling_points": list(product.selling_points)[:3],
        "advantages": list(product.advantages)[:MAX_ADVANTAGES],
        "target_profile": product.target_profile,
        "fit": {
            "kinds": fit.kinds,
            "tiers": fit.tiers,
            "sizes": fit.sizes,
            "industry_prefixes": fit.industry_prefixes,
        }
        if fit
        else None,
        "fitting_customers": total,
    }
    if with_customers:
        out["cases"] = [
            {"customer_label": c.customer_label, "story": c.story, "result": c.result}
            for c in session.exec(
                select(ProductCase).where(ProductCase.product_id == product.id).order_by(col(ProductCase.id))
            ).all()
        ]
        out["customers"] = [
            {"id": c.id, "name": c.name, "kind": c.kind, "tier": c.tier, "industry_code": c.industry_code}
            for c in rows
        ]
    return out


def list_sellable(session: Session, *, rm: User) -> list[dict[str, Any]]:
    return [_public(session, p, rm=rm, with_customers=False) for p in sellable_products(session, rm=rm)]


def sellable_detail(session: Session, *, rm: User, product_id: int) -> dict[str, Any]:
    product = next((p for p in sellable_products(session, rm=rm) if p.id == product_id), None)
    if product is None:
        raise not_found("product")  # not sellable by this RM reads the same as absent
    return _public(session, product, rm=rm, with_customers=True)
