"""Asking in Chinese (问展业): parse (server/assistant/ask_parse.py), then answer with the right list,
customer or figure, always within what the user may see (their own book; a team lead their team's).
The filters understood come back with labels; `without` drops some of them (a removed chip)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, or_
from sqlmodel import Session, col, func, select

from server.assistant.ask_lexicon import TITLES, Vocabulary
from server.assistant.ask_parse import Filter, Parsed, parse
from server.assistant.today import local_day, user_zone
from server.customers import service as customers
from server.customers.models import Contact, Customer, CustomerTag, CustomerVisit, Tag
from server.intel.models import IntelAlert, IntelItem
from server.knowledge import service as knowledge
from server.notebook.models import Reminder
from server.opportunities.models import Opportunity
from server.org.models import Role, User
from server.performance import service as performance
from server.products.models import Holding, Product
from server.products.service import sellable_products
from server.timeutil import iso, utcnow

LIST_LIMIT = 20
VOCAB_TTL_SECONDS = 300
_vocab_lock = threading.Lock()
_vocab: tuple[float, Vocabulary] | None = None

FIGURE_LABELS = {
    "completion": "本月收入完成率",
    "team_rank": "团队排名",
    "knowledge_average": "知彼度均分",
    "revenue_gap": "距本月目标",
    "fee_income": "本月收入",
    "deposit_growth": "本月新增业务",
    "deposit_balance": "存款余额",
    "loan_balance": "贷款余额",
    "new_customers": "本月新增客户",
    "customer_count": "客户数",
}


def vocabulary(session: Session) -> Vocabulary:
    """The bank's vocabularies (products and tags from the database), rebuilt every few minutes."""
    global _vocab
    with _vocab_lock:
        if _vocab is None or time.monotonic() - _vocab[0] > VOCAB_TTL_SECONDS:
            products = [
                (int(p.id or 0), p.code, p.name, str(p.category)) for p in session.exec(select(Product)).all()
            ]
            tags = list(session.exec(select(Tag.name)).all())
            _vocab = (time.monotonic(), Vocabulary.build(products=products, tags=tags))
        return _vocab[1]


def ask(
    session: Session, *, user: User, q: str, without: list[str] | None = None, now: datetime | None = None
) -> dict[str, Any]:
    now = now or utcnow()
    zone = user_zone(session, user=user)
    today, _start, _end = local_day(zone, now)
    started = time.perf_counter()
    parsed = parse(q, vocab=vocabulary(session), today=today)
    dropped = set(without or [])
    parsed.filters = [f for f in parsed.filters if f.key not in dropped]
    answer = ANSWERS[parsed.intent](session, user, parsed, today)
    return {
        "q": q,
        "intent": parsed.intent,
        "filters": [f.public() for f in parsed.filters],
        "name": parsed.name,
        "metric": parsed.metric,
        "result": answer,
        "took_ms": round((time.perf_counter() - started) * 1000, 1),
    }


def _owners(session: Session, user: User) -> list[int]:
    return customers.visible_owner_ids(session, user=user)


def _range(f: Filter | None) -> tuple[date, date] | None:
    if f is None:
        return None
    return date.fromisoformat(f.value["from"]), date.fromisoformat(f.value["to"])


def _category_products(session: Session, category: str) -> list[int]:
    """Resolved once per question, so the per-customer probe compares against constants."""
    return [
        int(i) for i in session.exec(select(Product.id).where(col(Product.category) == category)).all() if i
    ]


_TIER_RANK = case({"vip": 0, "high": 1, "mid": 2, "mass": 3}, value=col(Customer.tier), else_=9)


def _customer_conditions(
    session: Session, user: User, parsed: Parsed, today: date
) -> list[ColumnElement[bool]]:
    owners = _owners(session, user)
    conditions: list[ColumnElement[bool]] = [col(Customer.owner_id).in_(owners or [-1])]
    category = parsed.get("category")
    product = parsed.get("product")
    for f in parsed.filters:
        if f.key == "region":
            conditions.append(col(Customer.region_code) == f.value)
        elif f.key == "industry":
            conditions.append(col(Customer.industry_code).startswith(f.value))
        elif f.key == "kind":
            conditions.append(col(Customer.kind) == f.value)
        elif f.key == "size":
            conditions.append(col(Customer.size).in_(["small", "micro"] if f.value == "micro" else [f.value]))
        elif f.key == "tier":
            conditions.append(col(Customer.tier) == f.value)
        elif f.key == "ownership":
            conditions.append(col(Customer.ownership) == f.value)
        elif f.key == "tag":
            conditions.append(
                exists().where(
                    and_(
                        col(CustomerTag.customer_id) == Customer.id,
                        col(CustomerTag.tag_id) == Tag.id,
                        col(Tag.name) == f.value,
                    )
                )
            )
        elif f.key in ("holds_category", "lacks_category", "holds_product", "lacks_product"):
            held = [col(Holding.customer_id) == Customer.id, col(Holding.status) == "active"]
            if f.key.endswith("product"):
                held.append(col(Holding.product_id) == f.value)
            else:
                held.append(col(Holding.product_id).in_(_category_products(session, f.value)))
            clause = exists().where(and_(*held))
            conditions.append(clause if f.key.startswith("holds") else ~clause)
        elif f.key == "matures":
            start, end = _range(f) or (today, today)
            held = [
                col(Holding.customer_id) == Customer.id,
                col(Holding.status) == "active",
                col(Holding.matures_on) >= start,
                col(Holding.matures_on) <= end,
            ]
            if product is not None:
                held.append(col(Holding.product_id) == product.value)
            elif category is not None:
                held.append(
                    col(Holding.product_id).in_(
                        select(Product.id).where(col(Product.category) == category.value)
                    )
                )
            conditions.append(exists().where(and_(*held)))
        elif f.key == "never_contacted":
            conditions.append(~exists().where(col(CustomerVisit.customer_id) == Customer.id))
        elif f.key == "not_contacted_days":
            since = datetime.combine(today - timedelta(days=int(f.value)), datetime.min.time(), tzinfo=UTC)
            conditions.append(
                ~exists().where(
                    and_(
                        col(CustomerVisit.customer_id) == Customer.id, col(CustomerVisit.occurred_at) >= since
                    )
                )
            )
    return conditions


def _customers(session: Session, user: User, parsed: Parsed, today: date) -> dict[str, Any]:
    conditions = _customer_conditions(session, user, parsed, today)
    # One pass over the book: every matching id in order (a book is at most some thousands), then the
    # first page's rows.
    ids = list(
        session.exec(select(Customer.id).where(*conditions).order_by(_TIER_RANK, col(Customer.name))).all()
    )
    page = ids[:LIST_LIMIT]
    by_id = (
        {c.id: c for c in session.exec(select(Customer).where(col(Customer.id).in_(page))).all()}
        if page
        else {}
    )
    rows = [by_id[i] for i in page if i in by_id]
    return {"kind": "customers", "total": len(ids), "items": customers.summaries(session, rows)}


def _customer(session: Session, user: User, parsed: Parsed, today: date) -> dict[str, Any]:
    owners = _owners(session, user) or [-1]
    name = (parsed.name or "").strip()
    matches: list[Customer] = []
    if name:
        if len(name) >= 2 and name[1:] in TITLES:  # 张总: a contact's surname at one of the customers
            has_contact = exists().where(
                and_(col(Contact.customer_id) == Customer.id, col(Contact.name).startswith(name[0]))
            )
            matches = list(
                session.exec(
                    select(Customer)
                    .where(col(Customer.owner_id).in_(owners), has_contact)
                    .order_by(col(Customer.tier), col(Customer.name))
                    .limit(LIST_LIMIT)
                ).all()
            )
        else:
            pattern = "%" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            matches = list(
                session.exec(
                    select(Customer)
                    .where(col(Customer.owner_id).in_(owners), col(Customer.name).like(pattern, escape="\\"))
                    .order_by(col(Customer.tier), col(Customer.name))
                    .limit(LIST_LIMIT)
                ).all()
            )
    return {"kind": "customer", "total": len(matches), "items": customers.summaries(session, matches)}


def _figure(session: Session, user: User, parsed: Parsed, today: date) -> dict[str, Any]:
    metric = parsed.metric or "completion"
    owners = _owners(session, user) or [-1]
    value: Any = None
    unit = ""
    if metric in ("completion", "team_rank", "revenue_gap", "fee_income", "deposit_growth", "new_customers"):
        if user.role != Role.rm:
            return {
                "kind": "figure",
                "metric": metric,
                "label": FIGURE_LABELS[metric],
                "value": None,
                "unit": "",
            }
        result = performance.performance(session, rm=user, months=1, today=today)
        if metric == "completion":
            value, unit = result["revenue"]["completion"], "ratio"
        elif metric == "team_rank":
            value, unit = result["team_rank"], "rank"
        elif metric == "revenue_gap":
            target = result["revenue"]["target_cents"]
            value, unit = (max(0, target - result["revenue"]["achieved_cents"]) if target else None), "cents"
        elif metric == "fee_income":
            value, unit = result["revenue"]["achieved_cents"], "cents"
        elif metric == "deposit_growth":
            value, unit = result["business"]["new_cents"], "cents"
        else:
            value, unit = result["customers"]["new"], "count"
    elif metric == "knowledge_average":
        value, unit = knowledge.owners_summary(session, owner_ids=owners)["average"], "score"
    elif metric in ("deposit_balance", "loan_balance"):
        column = Holding.balance_cents if metric == "deposit_balance" else Holding.loan_balance_cents
        value = session.exec(
            select(func.coalesce(func.sum(column), 0))
            .join(Customer, col(Customer.id) == Holding.customer_id)
            .where(col(Customer.owner_id).in_(owners), col(Holding.status) == "active")
        ).one()
        value, unit = int(value or 0), "cents"
    else:  # customer_count, with any customer filters understood
        conditions = _customer_conditions(session, user, parsed, today)
        value, unit = (
            int(session.exec(select(func.count()).select_from(Customer).where(*conditions)).one()),
            "count",
        )
    return {"kind": "figure", "metric": metric, "label": FIGURE_LABELS[metric], "value": value, "unit": unit}


def _bounds(f: Filter | None) -> tuple[datetime, datetime] | None:
    r = _range(f)
    if r is None:
        return None
    return (
        datetime.combine(r[0], datetime.min.time(), tzinfo=UTC),
        datetime.combine(r[1] + timedelta(days=1), datetime.min.time(), tzinfo=UTC),
    )


def _opportunities(session: Session, user: User, parsed: Parsed, today: date) -> dict[str, Any]:
    mine = or_(col(Opportunity.owner_id) == user.id, col(Opportunity.originator_id) == user.id)
    claimable = and_(
        col(Opportunity.status) == "shared",
        or_(col(Opportunity.branch_id) == user.branch_id, col(Opportunity.visibility) == "bank"),
    )
    conditions: list[ColumnElement[bool]] = [or_(mine, claimable)]
    text = parsed.text
    if (
        any(w in text for w in ("认领的", "跟进", "我的商机"))
        and "可以认领" not in text
        and "未认领" not in text
        and "没人认领" not in text
    ):
        conditions = [col(Opportunity.owner_id) == user.id]
    elif any(w in text for w in ("可以认领", "未认领", "没人认领", "池")):
        conditions = [claimable]
    for f in parsed.filters:
        if f.key == "region":
            conditions.append(col(Opportunity.region_code) == f.value)
        elif f.key == "industry":
            conditions.append(col(Opportunity.industry_code).startswith(f.value))
        elif f.key == "category":
            conditions.append(
                col(Opportunity.product_id).in_(select(Product.id).where(col(Product.category) == f.value))
            )
    span = _bounds(parsed.get("date"))
    if span:
        conditions.append(col(Opportunity.created_at) >= span[0])
        conditions.append(col(Opportunity.created_at) < span[1])
    rows = session.exec(
        select(Opportunity).where(*conditions).order_by(col(Opportunity.created_at).desc()).limit(LIST_LIMIT)
    ).all()
    total = session.exec(select(func.count()).select_from(Opportunity).where(*conditions)).one()
    return {
        "kind": "opportunities",
        "total": int(total),
        "items": [
            {
                "id": o.id,
                "title": o.title,
                "status": o.status,
                "estimated_amount_cents": o.estimated_amount_cents,
                "created_at": iso(o.created_at),
            }
            for o in rows
        ],
    }


def _alerts(session: Session, user: User, parsed: Parsed, today: date) -> dict[str, Any]:
    conditions: list[ColumnElement[bool]] = [
        col(IntelAlert.rm_id) == user.id,
        col(IntelAlert.dismissed_at).is_(None),
    ]
    text = parsed.text
    if "利空" in text or "负面" in text:
        conditions.append(col(IntelAlert.sentiment) == "unfavourable")
    elif "利好" in text:
        conditions.append(col(IntelAlert.sentiment) == "favourable")
    if "未读" in text:
        conditions.append(col(IntelAlert.read_at).is_(None))
    for word, category in (("政策", "policy"), ("天气", "weather"), ("市场", "market"), ("行业", "industry")):
        if word in text:
            conditions.append(col(IntelAlert.category) == category)
            break
    if "资金需求" in text:
        conditions.append(col(IntelAlert.funding_need).is_not(None))
    for f in parsed.filters:
        if f.key == "industry":
            conditions.append(col(Customer.industry_code).startswith(f.value))
    span = _bounds(parsed.get("date"))
    if span:
        conditions.append(col(IntelAlert.created_at) >= span[0])
        conditions.append(col(IntelAlert.created_at) < span[1])
    rows = session.exec(
        select(IntelAlert, IntelItem.title, Customer.name)
        .join(IntelItem, col(IntelItem.id) == IntelAlert.item_id)
        .join(Customer, col(Customer.id) == IntelAlert.customer_id)
        .where(*conditions)
        .order_by(col(IntelAlert.created_at).desc())
        .limit(LIST_LIMIT)
    ).all()
    return {
        "kind": "alerts",
        "total": len(rows),
        "items": [
            {
                "id": a.id,
                "title": title,
                "customer_id": a.customer_id,
                "customer_name": name,
                "reason": a.reason,
                "created_at": iso(a.created_at),
            }
            for a, title, name in rows
        ],
    }


def _reminders(session: Session, user: User, parsed: Parsed, today: date) -> dict[str, Any]:
    zone = user_zone(session, user=user)
    r = _range(parsed.get("date")) or (today, today)
    start = datetime.combine(r[0], datetime.min.time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(r[1] + timedelta(days=1), datetime.min.time(), tzinfo=zone).astimezone(UTC)
    conditions: list[ColumnElement[bool]] = [col(Reminder.user_id) == user.id]
    if any(w in parsed.text for w in ("逾期", "过期", "没完成", "没做")):
        conditions += [
            col(Reminder.due_at) < datetime.combine(today, datetime.min.time(), tzinfo=zone).astimezone(UTC)
        ]
        conditions.append(col(Reminder.due_at) >= start - timedelta(days=30))
    else:
        conditions += [col(Reminder.due_at) >= start, col(Reminder.due_at) < end]
    if "生日" in parsed.text:
        conditions.append(col(Reminder.kind) == "birthday")
    rows = session.exec(
        select(Reminder).where(*conditions).order_by(col(Reminder.due_at)).limit(LIST_LIMIT)
    ).all()
    return {
        "kind": "reminders",
        "total": len(rows),
        "items": [
            {
                "id": x.id,
                "kind": x.kind,
                "title": x.title or x.body[:40],
                "due_at": iso(x.due_at),
                "customer_id": x.customer_id,
            }
            for x in rows
        ],
    }


def _products(session: Session, user: User, parsed: Parsed, today: date) -> dict[str, Any]:
    if user.role != Role.rm:
        return {"kind": "products", "total": 0, "items": []}
    rows = sellable_products(session, rm=user)
    for f in parsed.filters:
        if f.key == "category":
            rows = [p for p in rows if p.category == f.value]
        elif f.key == "product":
            rows = [p for p in rows if p.id == f.value]
        elif f.key == "risk_level":
            rows = [p for p in rows if p.risk_level == f.value]
        elif f.key == "kind":
            rows = [p for p in rows if p.segment in (f.value, "both")]
        elif f.key == "size" and f.value in ("small", "micro"):
            rows = [p for p in rows if p.segment in ("corporate", "both")]
    return {
        "kind": "products",
        "total": len(rows),
        "items": [
            {
                "id": p.id,
                "name": p.name,
                "category": p.category,
                "risk_level": p.risk_level,
                "selling_points": list(p.selling_points)[:3],
            }
            for p in rows[:LIST_LIMIT]
        ],
    }


ANSWERS = {
    "customers": _customers,
    "customer": _customer,
    "figure": _figure,
    "opportunities": _opportunities,
    "alerts": _alerts,
    "reminders": _reminders,
    "products": _products,
}
