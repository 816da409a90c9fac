"""Today (今日): the RM's day on one screen, ordered by what matters.

"Today" is the RM's local calendar day in their own time zone (the reminder settings' zone; Beijing
by default), never the UTC day: the window is [local midnight, next local midnight) converted to UTC.

What is on it, each item with a priority (0-100, higher first; ties by time):
- reminders and to-dos due today (notebook reminders, note to-dos, visit next steps): 60, urgent 90,
  overdue next steps 70;
- maturities this week (an active holding maturing in the next 7 local days): 55 + up to 25 by
  amount (log scale: 1万 → +0, 1亿 → +25), + 10 when it matures today or tomorrow;
- new alerts on own customers (unread, undismissed, last 3 days): the alert's relevance score × 0.8;
- claimed opportunities going stale (no activity for STALE_DAYS, before the pool's recycle period
  takes them back): 65, + 15 when recycling is 2 days away or less;
- planned visits: the customers of today's reminders, to-dos and next steps that have coordinates,
  ordered as a route (nearest neighbour + 2-opt from the RM's branch) with each leg's distance."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from server.assistant.route import haversine_km, plan_route
from server.customers.models import Customer, CustomerVisit
from server.intel.models import IntelAlert, IntelItem
from server.notebook.models import Note, Reminder, ReminderSetting
from server.opportunities.models import Opportunity
from server.opportunities.policy import get_policy, recycle_days
from server.org.models import Branch, User
from server.products.models import Holding, Product
from server.timeutil import as_utc, iso, utcnow

DEFAULT_ZONE = "Asia/Shanghai"
MATURITY_DAYS = 7
ALERT_DAYS = 3
STALE_DAYS = 5
OVERDUE_DAYS = 7
LIMIT = 60


def user_zone(session: Session, *, user: User) -> ZoneInfo:
    setting = session.get(ReminderSetting, user.id)
    try:
        return ZoneInfo(setting.timezone if setting else DEFAULT_ZONE)
    except (KeyError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def local_day(zone: ZoneInfo, now: datetime) -> tuple[date, datetime, datetime]:
    """The user's day and its bounds in UTC."""
    day = as_utc(now).astimezone(zone).date()
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return day, start, end


def _amount_bonus(cents: int) -> float:
    yuan = max(cents, 0) / 100
    return max(0.0, min(25.0, (math.log10(yuan) - 4) * 25 / 4)) if yuan > 0 else 0.0


def today(session: Session, *, user: User, now: datetime | None = None) -> dict[str, Any]:
    now = as_utc(now or utcnow())
    zone = user_zone(session, user=user)
    day, start, end = local_day(zone, now)
    items: list[dict[str, Any]] = []
    reminded_notes: set[int] = set()
    visit_reasons: dict[int, list[str]] = {}

    def plan(customer_id: int | None, why: str) -> None:
        if customer_id is not None:
            visit_reasons.setdefault(customer_id, []).append(why)

    for r in session.exec(
        select(Reminder)
        .where(Reminder.user_id == user.id, Reminder.due_at >= start, Reminder.due_at < end)
        .order_by(col(Reminder.due_at))
        .limit(LIMIT)
    ).all():
        items.append(
            {
                "kind": "reminder",
                "priority": 90 if r.urgent else 60,
                "title": r.title or r.body[:40],
                "at": iso(r.due_at),
                "customer_id": r.customer_id,
                "ref": {"reminder_id": r.id, "kind": r.kind},
            }
        )
        if r.note_id is not None:
            reminded_notes.add(r.note_id)
        if r.kind in ("note", "follow_up"):
            plan(r.customer_id, r.title or r.body[:20])
    for n in session.exec(
        select(Note)
        .where(
            Note.owner_id == user.id,
            col(Note.todo),
            ~col(Note.done),
            col(Note.remind_at) >= start,
            col(Note.remind_at) < end,
        )
        .order_by(col(Note.remind_at))
        .limit(LIMIT)
    ).all():
        if n.id in reminded_notes:
            continue  # already on the list as its reminder
        items.append(
            {
                "kind": "task",
                "priority": 90 if n.urgent else 60,
                "title": n.body[:60],
                "at": iso(n.remind_at),
                "customer_id": n.customer_id,
                "ref": {"note_id": n.id},
            }
        )
        plan(n.customer_id, n.body[:20])
    for v, name in session.exec(
        select(CustomerVisit, Customer.name)
        .join(Customer, col(Customer.id) == CustomerVisit.customer_id)
        .where(
            CustomerVisit.rm_id == user.id,
            Customer.owner_id == user.id,
            col(CustomerVisit.next_step_at) >= start - timedelta(days=OVERDUE_DAYS),
            col(CustomerVisit.next_step_at) < end,
            col(CustomerVisit.reminder_id).is_(None),  # a next step with a reminder shows as that reminder
        )
        .order_by(col(CustomerVisit.next_step_at))
        .limit(LIMIT)
    ).all():
        assert v.next_step_at is not None
        overdue = as_utc(v.next_step_at) < start
        items.append(
            {
                "kind": "next_step",
                "priority": 70 if overdue else 60,
                "title": f"{name}:{v.next_step or ''}",
                "at": iso(v.next_step_at),
                "customer_id": v.customer_id,
                "overdue": overdue,
                "ref": {"visit_id": v.id},
            }
        )
        plan(v.customer_id, v.next_step or "跟进")

    week_end = day + timedelta(days=MATURITY_DAYS)
    for h, product, customer in session.exec(
        select(Holding, Product.name, Customer)
        .join(Customer, col(Customer.id) == Holding.customer_id)
        .join(Product, col(Product.id) == Holding.product_id)
        .where(
            Customer.owner_id == user.id,
            Holding.status == "active",
            col(Holding.matures_on) >= day,
            col(Holding.matures_on) < week_end,
        )
        .order_by(col(Holding.matures_on))
        .limit(LIMIT)
    ).all():
        amount = h.balance_cents or h.loan_balance_cents
        matures = h.matures_on if isinstance(h.matures_on, date) else date.fromisoformat(str(h.matures_on))
        soon = (matures - day).days <= 1
        items.append(
            {
                "kind": "maturity",
                "priority": round(55 + _amount_bonus(amount) + (10 if soon else 0), 1),
                "title": f"{customer.name}:{product}到期",
                "at": matures.isoformat(),
                "customer_id": customer.id,
                "amount_cents": amount,
                "ref": {"holding_id": h.id},
            }
        )

    for a, title, customer_name in session.exec(
        select(IntelAlert, IntelItem.title, Customer.name)
        .join(IntelItem, col(IntelItem.id) == IntelAlert.item_id)
        .join(Customer, col(Customer.id) == IntelAlert.customer_id)
        .where(
            IntelAlert.rm_id == user.id,
            Customer.owner_id == user.id,
            col(IntelAlert.dismissed_at).is_(None),
            col(IntelAlert.read_at).is_(None),
            IntelAlert.created_at >= now - timedelta(days=ALERT_DAYS),
        )
        .order_by(col(IntelAlert.score).desc())
        .limit(20)
    ).all():
        items.append(
            {
                "kind": "alert",
                "priority": round(a.score * 0.8, 1),
                "title": f"{customer_name}:{title}",
                "detail": a.reason,
                "at": iso(a.created_at),
                "customer_id": a.customer_id,
                "ref": {"alert_id": a.id},
            }
        )

    policy = get_policy(session)
    for o in session.exec(
        select(Opportunity)
        .where(
            Opportunity.owner_id == user.id,
            col(Opportunity.status).in_(("claimed", "in_progress")),
            or_(
                func.coalesce(Opportunity.last_activity_at, Opportunity.claimed_at)
                < now - timedelta(days=STALE_DAYS),
                col(Opportunity.claimed_at).is_(None),
            ),
        )
        .limit(20)
    ).all():
        last = o.last_activity_at or o.claimed_at or o.created_at
        idle = (now - as_utc(last)).days
        left = recycle_days(policy, o.tier) - idle
        items.append(
            {
                "kind": "stale_opportunity",
                "priority": 80 if left <= 2 else 65,
                "title": o.title,
                "detail": f"{idle} 天无进展" + (f",{max(left, 0)} 天后回收" if left <= 2 else ""),
                "at": iso(last),
                "customer_id": o.customer_id,
                "ref": {"opportunity_id": o.id},
            }
        )

    items.sort(key=lambda i: (-i["priority"], i.get("at") or ""))
    return {
        "date": day.isoformat(),
        "timezone": zone.key,
        "generated_at": iso(now),
        "items": items[:LIMIT],
        "counts": _counts(items),
        "visits": _visits(session, user=user, reasons=visit_reasons),
    }


def _counts(items: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in items:
        out[i["kind"]] = out.get(i["kind"], 0) + 1
    return out


def _visits(session: Session, *, user: User, reasons: dict[int, list[str]]) -> dict[str, Any]:
    branch = session.get(Branch, user.branch_id) if user.branch_id else None
    start = (branch.latitude, branch.longitude) if branch else None
    customers = (
        session.exec(
            select(Customer)
            .where(col(Customer.id).in_(list(reasons)), Customer.owner_id == user.id)
            .order_by(col(Customer.id))
        ).all()
        if reasons
        else []
    )
    located = [c for c in customers if c.latitude is not None and c.longitude is not None]
    points = [(float(c.latitude or 0), float(c.longitude or 0)) for c in located]
    order, total = plan_route(points, start=start)
    stops = []
    here = start
    for n, i in enumerate(order, start=1):
        c = located[i]
        leg = haversine_km(here, points[i]) if here is not None else 0.0
        here = points[i]
        stops.append(
            {
                "order": n,
                "customer_id": c.id,
                "name": c.name,
                "latitude": c.latitude,
                "longitude": c.longitude,
                "leg_km": round(leg, 1),
                "reasons": reasons.get(int(c.id or 0), [])[:3],
            }
        )
    return {
        "start": {"name": branch.name, "latitude": branch.latitude, "longitude": branch.longitude}
        if branch
        else None,
        "stops": stops,
        "total_km": round(total, 1),
        "unlocated": [{"customer_id": c.id, "name": c.name} for c in customers if c not in located],
    }
