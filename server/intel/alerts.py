"""Intel alerts: the RM's feed, a customer's alerts, one alert with the actions it offers, and its
read/dismissed state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_
from sqlmodel import Session, col, select

from server.customers.models import Customer
from server.customers.service import get_customer_for, visible_owner_ids
from server.errors import forbidden, not_found
from server.intel import funding
from server.intel.models import CATEGORY_LABELS, Category, IntelAlert, IntelItem, IntelItemSource, IntelSource
from server.org.models import Role, User
from server.reference import industry_name
from server.timeutil import iso, utcnow

# --- the RM's feed ----------------------------------------------------------------------------


def _owner_ids(session: Session, user: User) -> list[int]:
    if user.role not in (Role.rm, Role.team_lead):
        raise forbidden("Only relationship managers and team leads read intel alerts.")
    return visible_owner_ids(session, user=user)


def alert_public(alert: IntelAlert, item: IntelItem, customer: Customer) -> dict[str, Any]:
    return {
        "id": alert.id,
        "item_id": item.id,
        "category": alert.category,
        "category_label": CATEGORY_LABELS[Category(alert.category)],
        "title": item.title,
        "summary": item.summary[:280],
        "url": item.url,
        "published_at": iso(item.published_at),
        "customer": {
            "id": customer.id,
            "name": customer.name,
            "industry_name": industry_name(customer.industry_code),
            "region_name": customer.region_name,
        },
        "rm_id": alert.rm_id,
        "score": alert.score,
        "reason": alert.reason,
        "signals": alert.signals,
        "sentiment": alert.sentiment,
        "sentiment_label": {"favourable": "利好", "unfavourable": "利空"}.get(alert.sentiment, "中性"),
        "has_funding_need": alert.funding_need is not None,
        "read": alert.read_at is not None,
        "created_at": iso(alert.created_at),
    }


def feed(
    session: Session,
    *,
    user: User,
    category: str | None = None,
    unread: bool = False,
    customer_id: int | None = None,
    min_score: int = 0,
    before_id: int | None = None,
    limit: int = 30,
) -> list[dict[str, Any]]:
    owners = _owner_ids(session, user)
    if not owners:
        return []
    conditions: list[Any] = [col(IntelAlert.rm_id).in_(owners), col(IntelAlert.dismissed_at).is_(None)]
    if category:
        conditions.append(IntelAlert.category == category)
    if unread:
        conditions.append(col(IntelAlert.read_at).is_(None))
    if customer_id:
        conditions.append(IntelAlert.customer_id == customer_id)
    if min_score:
        conditions.append(IntelAlert.score >= min_score)
    if before_id:
        conditions.append(col(IntelAlert.id) < before_id)
    rows = session.exec(
        select(IntelAlert, IntelItem, Customer)
        .join(IntelItem, col(IntelItem.id) == col(IntelAlert.item_id))
        .join(Customer, col(Customer.id) == col(IntelAlert.customer_id))
        .where(and_(*conditions))
        .order_by(col(IntelAlert.id).desc())
        .limit(limit)
    ).all()
    return [alert_public(a, i, c) for a, i, c in rows]


def customer_alerts(
    session: Session, *, user: User, customer_id: int, limit: int = 20
) -> list[dict[str, Any]]:
    """Alerts on one customer's page: anyone who may see the customer sees its alerts."""
    customer = get_customer_for(session, user=user, customer_id=customer_id)
    rows = session.exec(
        select(IntelAlert, IntelItem)
        .join(IntelItem, col(IntelItem.id) == col(IntelAlert.item_id))
        .where(IntelAlert.customer_id == customer_id, col(IntelAlert.dismissed_at).is_(None))
        .order_by(col(IntelAlert.id).desc())
        .limit(limit)
    ).all()
    return [alert_public(a, i, customer) for a, i in rows]


def get_alert_for(session: Session, *, user: User, alert_id: int) -> IntelAlert:
    alert = session.get(IntelAlert, alert_id)
    if alert is None or alert.rm_id not in _owner_ids(session, user):
        raise not_found("alert")
    return alert


def actions(alert: IntelAlert, item: IntelItem, customer: Customer) -> list[dict[str, Any]]:
    """What the RM can do next. Each action is a request the PWA sends as is (the opportunity and
    war-room APIs own the rules); `available` is part of the PWA contract (both APIs always ship)."""
    need = alert.funding_need or {}
    amount = need.get("need_cents") or item.amount_cents
    note = f"情报：{item.title}。{alert.reason}"
    out = []
    contract = item.event_kind in ("tender_won", "contract_signed", "large_transaction")
    out.append(
        {
            "action": "create_opportunity",
            "label": "创建商机",
            "available": True,
            "method": "POST",
            "url": "/api/v1/opportunities",
            "body": {
                "title": f"{customer.name}：{item.title}"[:128],
                "customer_id": customer.id,
                "estimated_amount_cents": amount,
                "expected_date": need.get("apply_by") or need.get("need_from"),
                "source": "contract_signal" if contract else "intel_alert",
                "source_ref": f"intel_alert:{alert.id}",
                "note": note[:500],
            },
        }
    )
    out.append(
        {
            "action": "start_war_room",
            "label": "发起作战室",
            "available": True,
            "method": "POST",
            "url": "/api/v1/war-rooms/quick",
            "body": {
                "source_type": "intel_alert",
                "source_id": alert.id,
                "title": (f"{customer.name} 资金需求" if need else f"{customer.name}：{item.title}")[:128],
                "customer_id": customer.id,
                "kind": "project_marketing",
                "invite_suggested": True,  # one tap: the room starts with its suggested members invited
            },
        }
    )
    return out


def alert_detail(session: Session, *, user: User, alert_id: int) -> dict[str, Any]:
    alert = get_alert_for(session, user=user, alert_id=alert_id)
    item = session.get(IntelItem, alert.item_id)
    customer = session.get(Customer, alert.customer_id)
    assert item is not None and customer is not None
    owners = _owner_ids(session, user)
    others = session.exec(
        select(IntelAlert, Customer)
        .join(Customer, col(Customer.id) == col(IntelAlert.customer_id))
        .where(IntelAlert.item_id == item.id, col(IntelAlert.rm_id).in_(owners))
        .order_by(col(IntelAlert.score).desc(), col(IntelAlert.id))
        .limit(50)
    ).all()
    sources = session.exec(
        select(IntelSource.name)
        .join(IntelItemSource, col(IntelItemSource.source_id) == col(IntelSource.id))
        .where(IntelItemSource.item_id == item.id)
    ).all()
    out = alert_public(alert, item, customer)
    out.update(
        {
            "summary": item.summary,
            "funding_need": alert.funding_need,
            "funding_need_text": (
                f"预计资金需求 {funding.yuan(alert.funding_need['need_cents'])}"
                if alert.funding_need
                else None
            ),
            "enrichment": {
                "companies": item.companies,
                "credit_codes": item.credit_codes,
                "amount_cents": item.amount_cents,
                "dates": item.dates,
                "region_codes": item.region_codes,
                "industry_codes": item.industry_codes,
                "event_kind": item.event_kind,
                "sentiment_terms": item.sentiment_terms,
            },
            "sources": list(sources),
            "matched_customers": [
                {
                    "alert_id": a.id,
                    "customer_id": c.id,
                    "name": c.name,
                    "score": a.score,
                    "reason": a.reason,
                    "sentiment": a.sentiment,
                }
                for a, c in others
            ],
            "actions": actions(alert, item, customer),
        }
    )
    return out


def set_alert_state(
    session: Session, *, user: User, alert_id: int, read: bool | None, dismissed: bool | None
) -> dict:
    alert = get_alert_for(session, user=user, alert_id=alert_id)
    if alert.rm_id != user.id:
        raise forbidden("Only the customer's RM changes an alert's state.")
    now = utcnow()
    if read is not None:
        alert.read_at = now if read else None
    if dismissed is not None:
        alert.dismissed_at = now if dismissed else None
    session.add(alert)
    session.commit()
    return {"id": alert.id, "read": alert.read_at is not None, "dismissed": alert.dismissed_at is not None}


def unread_counts(session: Session, *, user: User) -> dict[str, int]:
    from sqlmodel import func

    owners = _owner_ids(session, user)
    if not owners:
        return {}
    rows = session.exec(
        select(IntelAlert.category, func.count())
        .where(
            col(IntelAlert.rm_id).in_(owners),
            col(IntelAlert.read_at).is_(None),
            col(IntelAlert.dismissed_at).is_(None),
        )
        .group_by(IntelAlert.category)
    ).all()
    return {str(category): count for category, count in rows}
