"""The pre-visit brief (拜访简报): one page to read in the lift.

- who: the customer detail as the 360 shows it, through the one masking function (phone, ID number;
  contacts' phones masked), trimmed to what a visit needs;
- since the last contact (the latest visit or call by anyone; 90 days when there is none): life and
  company events, intel alerts, transactions, maturities (matured since, or maturing in 30 days),
  opportunities created or moved;
- three questions: the knowledge-degree gaps worth most points (server/knowledge ranks them);
- next best products with why (server/assistant/recommender.py) and the talking points: each
  product's selling points and an anonymised case card;
- who in the bank knows them: the RM, previous owners, referrers (referral links from customers),
  war-room members working on them, opportunity originators;
- open risks: unfavourable alerts, risk tags, loans maturing within 30 days, stale opportunities.

Access is exactly the customer detail's (`get_customer_for`): a colleague's customer answers 404.
`as_text` gives the shareable version for a war room: no phone, no ID number, a person's name
masked."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from server.assistant import recommender
from server.customers import service as customers
from server.customers.models import (
    Customer,
    CustomerEvent,
    CustomerLink,
    CustomerTag,
    CustomerVisit,
    OwnershipChange,
    Tag,
)
from server.errors import Problem
from server.intel.models import IntelAlert, IntelItem
from server.knowledge import scores as knowledge_scores
from server.knowledge import service as knowledge
from server.masking import mask
from server.opportunities.models import Opportunity
from server.org.models import User
from server.performance.models import PerformanceEntry
from server.products.models import Holding, Product
from server.timeutil import as_utc, iso, utcnow
from server.warrooms.models import WarRoom, WarRoomMember, WarRoomTarget

DEFAULT_LOOKBACK_DAYS = 90
MATURITY_AHEAD_DAYS = 30
OPEN_OPPORTUNITY = ("draft", "shared", "claimed", "in_progress")
KIND_LABELS = {
    "revenue": "收入",
    "new_business": "新增业务",
    "existing_business": "存量业务",
    "new_customer": "新客户",
    "shared_credit": "共享效益",
}


def _d(value: Any) -> date:
    return (
        value
        if isinstance(value, date) and not isinstance(value, datetime)
        else date.fromisoformat(str(value)[:10])
    )


def _who(session: Session, customer: Customer, data_key: str) -> dict[str, Any]:
    detail = customers.detail(session, customer=customer, data_key=data_key)
    keep = (
        "id",
        "kind",
        "name",
        "tier",
        "industry_name",
        "region_name",
        "size",
        "ownership",
        "tags",
        "phone_masked",
    )
    who = {k: detail.get(k) for k in keep}
    if customer.kind == "corporate":
        corp = detail.get("corporate") or {}
        who["corporate"] = {
            k: corp.get(k)
            for k in ("short_name", "employees", "founded_on", "main_products", "revenue_cents")
        }
        who["contacts"] = [
            {k: c.get(k) for k in ("name", "title", "role", "influence", "preferences", "phone_masked")}
            for c in (detail.get("contacts") or [])[:4]
        ]
    else:
        ind = detail.get("individual") or {}
        who["individual"] = {
            k: ind.get(k)
            for k in ("age", "occupation", "income_band", "risk_appetite", "interests", "id_number_masked")
        }
    return who


def _last_contact(session: Session, customer_id: int) -> datetime | None:
    row = session.exec(
        select(CustomerVisit.occurred_at)
        .where(CustomerVisit.customer_id == customer_id)
        .order_by(col(CustomerVisit.occurred_at).desc())
    ).first()
    return as_utc(row) if row else None


def _changes(session: Session, customer: Customer, since: datetime, now: datetime) -> list[dict[str, Any]]:
    cid = customer.id
    out: list[dict[str, Any]] = []
    for e in session.exec(
        select(CustomerEvent).where(
            CustomerEvent.customer_id == cid, CustomerEvent.occurred_on >= since.date()
        )
    ).all():
        out.append({"kind": "event", "at": iso(e.occurred_on), "title": e.title})
    for a, title in session.exec(
        select(IntelAlert, IntelItem.title)
        .join(IntelItem, col(IntelItem.id) == IntelAlert.item_id)
        .where(IntelAlert.customer_id == cid, IntelAlert.created_at >= since)
        .order_by(col(IntelAlert.created_at).desc())
        .limit(10)
    ).all():
        out.append({"kind": "alert", "at": iso(a.created_at), "title": title, "detail": a.reason})
    for entry, product in session.exec(
        select(PerformanceEntry, Product.name)
        .join(Product, col(Product.id) == PerformanceEntry.product_id, isouter=True)
        .where(PerformanceEntry.customer_id == cid, PerformanceEntry.booked_on >= since.date())
        .order_by(col(PerformanceEntry.booked_on).desc())
        .limit(10)
    ).all():
        amount = f"{entry.amount_cents / 1_000_000:.1f} 万元"
        out.append(
            {
                "kind": "transaction",
                "at": iso(entry.booked_on),
                "title": f"{product or ''}{KIND_LABELS.get(entry.kind, entry.kind)} {amount}".strip(),
            }
        )
    today = now.date()
    for h, product in session.exec(
        select(Holding, Product.name)
        .join(Product, col(Product.id) == Holding.product_id)
        .where(
            Holding.customer_id == cid,
            col(Holding.matures_on) >= since.date(),
            col(Holding.matures_on) <= today + timedelta(days=MATURITY_AHEAD_DAYS),
        )
    ).all():
        matures = _d(h.matures_on)
        verb = "已到期" if matures <= today else "将到期"
        out.append({"kind": "maturity", "at": matures.isoformat(), "title": f"{product}{verb}"})
    for o in session.exec(
        select(Opportunity).where(Opportunity.customer_id == cid, Opportunity.updated_at >= since).limit(10)
    ).all():
        out.append({"kind": "opportunity", "at": iso(o.updated_at), "title": f"商机:{o.title}({o.status})"})
    out.sort(key=lambda i: i["at"] or "", reverse=True)
    return out


def _who_knows(session: Session, customer: Customer) -> list[dict[str, Any]]:
    cid = customer.id
    people: dict[tuple[str, int], dict[str, Any]] = {}

    def add(user_id: int | None, relation: str, detail: str | None = None) -> None:
        if user_id is None:
            return
        key = (relation, user_id)
        if key in people:
            return
        user = session.get(User, user_id)
        if user is not None:
            people[key] = {
                "user_id": user_id,
                "display_name": user.display_name,
                "relation": relation,
                "detail": detail,
            }

    add(customer.owner_id, "owner")
    for o in session.exec(
        select(OwnershipChange).where(
            OwnershipChange.customer_id == cid, col(OwnershipChange.ended_at).is_not(None)
        )
    ).all():
        add(o.rm_id, "previous_owner", o.reason)
    for link, name, owner_id in session.exec(
        select(CustomerLink, Customer.name, Customer.owner_id)
        .join(Customer, col(Customer.id) == CustomerLink.from_customer_id)
        .where(
            CustomerLink.to_customer_id == cid,
            col(CustomerLink.kind).in_(("referral", "family", "colleague")),
        )
    ).all():
        if owner_id != customer.owner_id:
            add(owner_id, "referral", link.label or link.kind)
        else:
            people.setdefault(
                ("referrer", -int(link.id or 0)),
                {
                    "user_id": None,
                    "display_name": name if link.kind != "family" else mask("person_name", name),
                    "relation": "referrer",
                    "detail": link.label or link.kind,
                },
            )
    for room, user_id in session.exec(
        select(WarRoom, WarRoomMember.user_id)
        .join(WarRoomTarget, col(WarRoomTarget.room_id) == WarRoom.id)
        .join(WarRoomMember, col(WarRoomMember.room_id) == WarRoom.id)
        .where(WarRoomTarget.customer_id == cid, WarRoomMember.status == "active")
        .limit(20)
    ).all():
        add(user_id, "war_room", room.title)
    for opp in session.exec(select(Opportunity).where(Opportunity.customer_id == cid).limit(10)).all():
        if opp.originator_id != customer.owner_id:
            add(opp.originator_id, "originator", opp.title)
    return list(people.values())


def _risks(session: Session, customer: Customer, now: datetime) -> list[dict[str, Any]]:
    cid = customer.id
    out: list[dict[str, Any]] = []
    for a, title in session.exec(
        select(IntelAlert, IntelItem.title)
        .join(IntelItem, col(IntelItem.id) == IntelAlert.item_id)
        .where(
            IntelAlert.customer_id == cid,
            IntelAlert.sentiment == "unfavourable",
            col(IntelAlert.dismissed_at).is_(None),
        )
        .limit(5)
    ).all():
        out.append({"kind": "alert", "title": title, "detail": a.reason})
    for name in session.exec(
        select(Tag.name)
        .join(CustomerTag, col(CustomerTag.tag_id) == Tag.id)
        .where(CustomerTag.customer_id == cid, col(Tag.category).in_(("risk",)) | (Tag.name == "流失预警"))
    ).all():
        out.append({"kind": "tag", "title": name})
    today = now.date()
    for h, product in session.exec(
        select(Holding, Product.name)
        .join(Product, col(Product.id) == Holding.product_id)
        .where(
            Holding.customer_id == cid,
            Holding.status == "active",
            Holding.loan_balance_cents > 0,
            col(Holding.matures_on) <= today + timedelta(days=MATURITY_AHEAD_DAYS),
        )
    ).all():
        out.append(
            {
                "kind": "loan_maturity",
                "title": f"{product} {_d(h.matures_on).isoformat()} 到期",
                "detail": f"贷款余额 {h.loan_balance_cents / 1_000_000:.1f} 万元",
            }
        )
    for o in session.exec(
        select(Opportunity).where(
            Opportunity.customer_id == cid, col(Opportunity.status).in_(OPEN_OPPORTUNITY)
        )
    ).all():
        last = o.last_activity_at or o.claimed_at or o.created_at
        if o.status in ("claimed", "in_progress") and (now - as_utc(last)).days >= 14:
            out.append(
                {
                    "kind": "stale_opportunity",
                    "title": f"商机「{o.title}」{(now - as_utc(last)).days} 天无进展",
                }
            )
    return out


def brief(
    session: Session, *, user: User, customer_id: int, data_key: str, now: datetime | None = None
) -> dict[str, Any]:
    now = as_utc(now or utcnow())
    customer = customers.get_customer_for(session, user=user, customer_id=customer_id)
    knowledge_scores.ensure_scored(session, customer=customer)
    last = _last_contact(session, int(customer.id or 0))
    since = last or now - timedelta(days=DEFAULT_LOOKBACK_DAYS)
    know = knowledge.customer_knowledge(session, customer=customer, now=now, gap_limit=3)
    try:
        products = recommender.next_products(
            session, user=user, customer=customer, limit=3, now=now, record=False
        )
        product_items, products_available = products["items"], True
    except Problem as problem:
        if problem.code != "recommender_not_trained":
            raise
        product_items, products_available = [], False
    return {
        "customer_id": customer.id,
        "generated_at": iso(now),
        "who": _who(session, customer, data_key),
        "last_contact_at": iso(last),
        "since": iso(since),
        "changes": _changes(session, customer, since, now),
        "knowledge": {"total": know["total"], "questions": know["next_visit_questions"][:3]},
        "next_products": product_items,
        "next_products_available": products_available,
        "talking_points": [
            {"product": p["name"], "selling_points": p["selling_points"], "case": p["case"]}
            for p in product_items
        ],
        "who_knows": _who_knows(session, customer),
        "risks": _risks(session, customer, now),
    }


RELATIONS = {
    "owner": "客户经理",
    "previous_owner": "前任客户经理",
    "referral": "转介绍",
    "referrer": "推荐人",
    "war_room": "作战室",
    "originator": "商机提供人",
}


def as_text(data: dict[str, Any]) -> str:
    """The shareable version (for a war room): no phone numbers or ID numbers; a person's name masked."""
    who = data["who"]
    name = who["name"] if who["kind"] == "corporate" else mask("person_name", who["name"])
    lines = [f"【拜访简报】{name}"]
    facts = [who.get("industry_name"), who.get("region_name"), who.get("tier")]
    lines.append(" · ".join(str(f) for f in facts if f))
    if data["changes"]:
        lines.append("近期变化:")
        lines += [f"- {c['at'][:10]} {c['title']}" for c in data["changes"][:6]]
    if data["knowledge"]["questions"]:
        lines.append(f"知彼度 {data['knowledge']['total']},本次要问:")
        lines += [f"- {q['question']}" for q in data["knowledge"]["questions"]]
    if data["next_products"]:
        lines.append("推荐产品:")
        lines += [f"- {p['name']}:{p['reason']}" for p in data["next_products"]]
    if data["risks"]:
        lines.append("风险提示:")
        lines += [f"- {r['title']}" for r in data["risks"]]
    knows = [
        f"{k['display_name']}({RELATIONS.get(k['relation'], k['relation'])})"
        for k in data["who_knows"]
        if k["user_id"]
    ]
    if knows:
        lines.append("行内熟悉的人:" + "、".join(knows))
    return "\n".join(lines)
