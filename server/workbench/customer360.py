"""Customer 360 (客户数据一张图): one read of everything the RM needs about a customer, and the visit
or call log (拜访记录) whose facts raise the knowledge degree and whose next step becomes a reminder.

Visits, transactions, history, notes (server/notebook) and alerts (server/intel) make the timeline;
open opportunities (server/opportunities) their own list. To add a source, add one reader function
to `TIMELINE_SOURCES`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from server import events
from server.audit import service as audit
from server.customers import service as customers
from server.customers.models import Contact, Customer, CustomerEvent, CustomerLink, CustomerVisit
from server.db import row_id
from server.errors import unprocessable
from server.intel.models import IntelAlert, IntelItem
from server.knowledge import facts as knowledge_facts
from server.knowledge import scores as knowledge_scores
from server.knowledge import service as knowledge
from server.notebook import service as notebook
from server.notebook.models import Note
from server.notebook.schemas import NoteCreate
from server.opportunities.models import Opportunity
from server.org.models import User
from server.performance.models import PerformanceEntry
from server.products.models import Holding, Product
from server.timeutil import as_utc, iso, utcnow

log = logging.getLogger(__name__)

TIMELINE_LIMIT = 60


# --- timeline sources: (session, customer, user) -> items -----------------------------------------


def _visits(session: Session, customer: Customer, _user: User) -> list[dict[str, Any]]:
    rows = session.exec(
        select(CustomerVisit)
        .where(CustomerVisit.customer_id == customer.id)
        .order_by(col(CustomerVisit.occurred_at).desc())
        .limit(20)
    ).all()
    return [
        {
            "kind": v.channel if v.channel in ("visit", "call") else "contact",
            "at": iso(v.occurred_at),
            "title": v.outcome[:60],
            "detail": {
                "location": v.location,
                "attendees": v.attendees,
                "outcome": v.outcome,
                "next_step": v.next_step,
                "next_step_at": iso(v.next_step_at),
                "facts_learned": v.facts_learned,
            },
            "ref": {"visit_id": v.id},
        }
        for v in rows
    ]


def _transactions(session: Session, customer: Customer, _user: User) -> list[dict[str, Any]]:
    rows = session.exec(
        select(PerformanceEntry, Product.name)
        .join(Product, col(Product.id) == col(PerformanceEntry.product_id), isouter=True)
        .where(PerformanceEntry.customer_id == customer.id)
        .order_by(col(PerformanceEntry.booked_on).desc())
        .limit(20)
    ).all()
    return [
        {
            "kind": "transaction",
            "at": iso(e.booked_on),
            "title": f"{product or ''} {e.kind}".strip(),
            "detail": {"kind": e.kind, "amount_cents": e.amount_cents, "product": product},
            "ref": {"entry_id": e.id},
        }
        for e, product in rows
    ]


def _history(session: Session, customer: Customer, _user: User) -> list[dict[str, Any]]:
    rows = session.exec(
        select(CustomerEvent)
        .where(CustomerEvent.customer_id == customer.id)
        .order_by(col(CustomerEvent.occurred_on).desc())
        .limit(10)
    ).all()
    return [
        {
            "kind": "event",
            "at": iso(e.occurred_on),
            "title": e.title,
            "detail": {"kind": e.kind, "detail": e.detail},
            "ref": {"event_id": e.id},
        }
        for e in rows
    ]


def _notes(session: Session, customer: Customer, user: User) -> list[dict[str, Any]]:
    rows = session.exec(
        select(Note)
        .where(Note.customer_id == customer.id, Note.owner_id == user.id)  # notes are personal
        .order_by(col(Note.created_at).desc())
        .limit(20)
    ).all()
    return [
        {
            "kind": "note",
            "at": iso(n.created_at),
            "title": n.body[:60],
            "detail": {"todo": n.todo, "done": n.done, "remind_at": iso(n.remind_at)},
            "ref": {"note_id": n.id},
        }
        for n in rows
    ]


def _alerts(session: Session, customer: Customer, _user: User) -> list[dict[str, Any]]:
    rows = session.exec(
        select(IntelAlert, IntelItem.title)
        .join(IntelItem, col(IntelItem.id) == col(IntelAlert.item_id))
        .where(IntelAlert.customer_id == customer.id, col(IntelAlert.dismissed_at).is_(None))
        .order_by(col(IntelAlert.created_at).desc())
        .limit(10)
    ).all()
    return [
        {
            "kind": "alert",
            "at": iso(a.created_at),
            "title": title,
            "detail": {"category": a.category, "reason": a.reason, "score": a.score},
            "ref": {"alert_id": a.id},
        }
        for a, title in rows
    ]


TIMELINE_SOURCES: dict[str, Callable[[Session, Customer, User], list[dict[str, Any]]]] = {
    "visits": _visits,
    "transactions": _transactions,
    "history": _history,
    "notes": _notes,
    "alerts": _alerts,
}


def _opportunities(session: Session, customer: Customer) -> list[dict[str, Any]]:
    open_states = ("draft", "shared", "claimed", "in_progress")
    rows = session.exec(
        select(Opportunity)
        .where(Opportunity.customer_id == customer.id, col(Opportunity.status).in_(open_states))
        .order_by(col(Opportunity.created_at).desc())
        .limit(20)
    ).all()
    return [
        {
            "id": o.id,
            "title": o.title,
            "status": o.status,
            "estimated_amount_cents": o.estimated_amount_cents,
            "expected_date": iso(o.expected_date),
        }
        for o in rows
    ]


# --- relationship graph --------------------------------------------------------------------------


def relationship_graph(
    session: Session, *, customer: Customer, user: User
) -> dict[str, list[dict[str, Any]]]:
    """Nodes and edges around the customer: decision makers (corporate), family and referrals
    (individual), supply chain and shareholders. Inbound links only from the same RM's customers.

    A linked customer the viewer may not read (another RM's, seen through a war room's grant on this
    one) appears without name or id, as `masked` with kind `customer` (本行其他客户); a party that
    is no customer of the bank and has no name recorded is `masked` with kind `external` (他行客户).
    The PWA words masked nodes from its catalogs."""
    center = f"c{customer.id}"
    nodes: dict[str, dict[str, Any]] = {
        center: {"id": center, "label": customer.name, "kind": "customer", "center": True}
    }
    edges: list[dict[str, Any]] = []
    for contact in session.exec(
        select(Contact).where(Contact.customer_id == customer.id).order_by(col(Contact.influence).desc())
    ).all():
        node = f"p{contact.id}"
        nodes[node] = {
            "id": node,
            "label": f"{contact.name}({contact.title})",
            "kind": "person",
            "influence": contact.influence,
        }
        edges.append({"from": center, "to": node, "kind": contact.role, "label": contact.title})
    outbound = session.exec(
        select(CustomerLink, Customer.name, Customer.owner_id)
        .join(Customer, col(Customer.id) == col(CustomerLink.to_customer_id), isouter=True)
        .where(CustomerLink.from_customer_id == customer.id)
    ).all()
    inbound = session.exec(
        select(CustomerLink, Customer.name, Customer.owner_id)
        .join(Customer, col(Customer.id) == col(CustomerLink.from_customer_id))
        .where(CustomerLink.to_customer_id == customer.id, Customer.owner_id == customer.owner_id)
    ).all()
    # The viewer's own customers need no look-up (the usual case: an RM on their own customer).
    readable = {link.to_customer_id for link, _, owner in outbound if owner == user.id}
    readable |= {link.from_customer_id for link, _, owner in inbound if owner == user.id}
    others = {link.to_customer_id for link, _, _ in outbound if link.to_customer_id}
    others |= {link.from_customer_id for link, _, _ in inbound}
    readable |= customers.readable_ids(session, user=user, customer_ids=others - readable)

    def node_for(customer_id: int | None, name: str | None, link: CustomerLink) -> str:
        if customer_id is not None and customer_id in readable:
            node = f"c{customer_id}"
            nodes.setdefault(node, {"id": node, "label": name or "", "kind": "customer"})
        elif customer_id is not None:
            node = f"m{link.id}"  # no customer id: the link's own, which names nobody
            nodes[node] = {"id": node, "label": "", "kind": "customer", "masked": True}
        elif link.to_name:
            node = f"x{link.id}"
            nodes[node] = {"id": node, "label": link.to_name, "kind": "external"}
        else:
            node = f"x{link.id}"
            nodes[node] = {"id": node, "label": "", "kind": "external", "masked": True}
        return node

    for link, name, _owner in outbound:
        node = node_for(link.to_customer_id, name, link)
        edges.append({"from": center, "to": node, "kind": link.kind, "label": link.label})
    for link, name, _owner in inbound:
        node = node_for(link.from_customer_id, name, link)
        edges.append({"from": node, "to": center, "kind": link.kind, "label": link.label})
    return {"nodes": list(nodes.values()), "edges": edges}


# --- the 360 ----------------------------------------------------------------------------------------


def customer_360(session: Session, *, user: User, customer_id: int, data_key: str) -> dict[str, Any]:
    customer = customers.get_customer_for(session, user=user, customer_id=customer_id)
    knowledge_scores.ensure_scored(session, customer=customer)
    holdings = session.exec(
        select(Holding, Product)
        .join(Product, col(Product.id) == col(Holding.product_id))
        .where(Holding.customer_id == customer.id)
        .order_by(col(Holding.opened_on).desc())
    ).all()
    timeline: list[dict[str, Any]] = []
    for reader in TIMELINE_SOURCES.values():
        timeline.extend(reader(session, customer, user))
    timeline.sort(key=lambda item: item["at"] or "", reverse=True)
    active = [h for h, _p in holdings if h.status == "active"]
    return {
        "profile": customers.detail(session, customer=customer, data_key=data_key),
        "holdings": [
            {
                "id": h.id,
                "product_id": p.id,
                "product_name": p.name,
                "category": p.category,
                "balance_cents": h.balance_cents,
                "loan_balance_cents": h.loan_balance_cents,
                "fee_income_cents": h.fee_income_cents,
                "opened_on": iso(h.opened_on),
                "matures_on": iso(h.matures_on),
                "status": h.status,
            }
            for h, p in holdings
        ],
        "holdings_total": {
            "balance_cents": sum(h.balance_cents for h in active),
            "loan_balance_cents": sum(h.loan_balance_cents for h in active),
            "products": len({h.product_id for h in active}),
        },
        "timeline": timeline[:TIMELINE_LIMIT],
        "graph": relationship_graph(session, customer=customer, user=user),
        "opportunities": _opportunities(session, customer),
        "knowledge": knowledge.customer_knowledge(session, customer=customer),
    }


# --- the visit / call log --------------------------------------------------------------------------


def log_visit(session: Session, *, user: User, customer_id: int, data: Any, ip: str | None) -> dict[str, Any]:
    """Records a visit or call, the facts learned on it (raising the knowledge degree at once) and its
    next step as a reminder. Only the owning RM logs visits."""
    customer = customers.get_customer_for(session, user=user, customer_id=customer_id, write=True)
    now = utcnow()
    occurred = as_utc(data.occurred_at)
    if occurred > now + _tolerance():
        raise unprocessable(
            "A visit cannot be in the future.", errors=[{"field": "occurred_at", "message": "in the future"}]
        )
    customer_key = row_id(customer)
    # The score before this visit's facts, on an up-to-date profile.
    knowledge_facts.sync_profile_facts(session, customer_ids=[customer_key], now=now)
    before = knowledge.customer_knowledge(session, customer=customer, now=now)["live_total"]
    visit = CustomerVisit(
        customer_id=customer_key,
        rm_id=row_id(user),
        channel=data.channel,
        occurred_at=occurred,
        location=data.location,
        attendees=data.attendees,
        outcome=data.outcome,
        next_step=data.next_step,
        next_step_at=as_utc(data.next_step_at) if data.next_step_at else None,
        facts_learned=len(data.facts),
        created_at=now,
    )
    session.add(visit)
    knowledge_facts.learn_facts(
        session, customer=customer, facts=[(f.key, f.value) for f in data.facts], rm_id=row_id(user), now=now
    )
    knowledge_scores.recompute(session, customer_ids=[customer_key], now=now)
    audit.record(
        session,
        actor_id=user.id,
        action="customer.visit",
        object_type="customer",
        object_id=customer.id,
        ip=ip,
        detail={"channel": data.channel, "facts": len(data.facts)},
    )
    events.publish(session, "customer.visited", {"customer_id": customer.id, "owner_id": user.id})
    session.commit()
    reminder = _make_reminder(session, user=user, customer=customer, visit=visit)
    after = knowledge.customer_knowledge(session, customer=customer, now=now)
    return {
        "visit": {
            "id": visit.id,
            "channel": visit.channel,
            "occurred_at": iso(visit.occurred_at),
            "next_step": visit.next_step,
            "next_step_at": iso(visit.next_step_at),
            "reminder_note_id": reminder,
        },
        "knowledge_before": before,
        "knowledge": after,
    }


def _tolerance():
    from datetime import timedelta

    return timedelta(hours=1)  # phones' clocks drift; a visit logged "now" may look a little ahead


def _make_reminder(session: Session, *, user: User, customer: Customer, visit: CustomerVisit) -> int | None:
    """The next step becomes a notebook reminder (a to-do note reminding at `next_step_at`)."""
    if not visit.next_step or visit.next_step_at is None:
        return None
    note = notebook.create_note(
        session,
        user=user,
        data=NoteCreate(
            body=f"【拜访跟进】{customer.name}:{visit.next_step}",
            customer_id=customer.id,
            remind_at=visit.next_step_at,
            todo=True,
        ),
    )
    visit.reminder_id = note.id
    session.add(visit)
    session.commit()
    return note.id


def due_next_steps(session: Session, *, user: User, until: datetime) -> list[dict[str, Any]]:
    """Visit next steps due by `until` (for the home page), newest first."""
    rows = session.exec(
        select(CustomerVisit, Customer.name)
        .join(Customer, col(Customer.id) == col(CustomerVisit.customer_id))
        .where(
            CustomerVisit.rm_id == user.id,
            col(CustomerVisit.next_step_at).is_not(None),
            col(CustomerVisit.next_step_at) <= until,
            Customer.owner_id == user.id,
        )
        .order_by(col(CustomerVisit.next_step_at).desc())
        .limit(10)
    ).all()
    return [
        {
            "customer_id": v.customer_id,
            "customer_name": name,
            "next_step": v.next_step,
            "due_at": iso(v.next_step_at),
        }
        for v, name in rows
    ]
