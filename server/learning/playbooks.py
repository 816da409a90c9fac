"""Playbooks (打法): what the team's best RMs do differently, measured on the bank's records over the
last half year, and shown beside the RM's own figures and the team's.

- The best RMs: the top quarter of the team (at least one) by revenue against target over the last
  six full and current months (sum of `revenue` ledger entries / sum of revenue targets).
- Visit cadence on top customers: an RM's top customers are their 20 largest by balance (deposits,
  assets and loans across active holdings); days between contacts = 180 / (the RM's contacts with
  them in 180 days / number of them). Lower is closer.
- Share of top customers contacted in the last 90 days.
- Time from alert to visit: for intel alerts on the RM's customers in the last 180 days, the median
  hours until the RM's first recorded contact with that customer after the alert (within 30 days);
  and the share followed up within 7 days.
- Product sequences: for customers that opened two or more products, the most common pair "first
  category → next category" among the best RMs' customers, and among the RM's own.
A group figure is the median of its members' figures (an RM without data for a figure is left out).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from server.customers.models import Customer, CustomerVisit
from server.db import row_id
from server.intel.models import IntelAlert
from server.org.models import User
from server.org.teams import team_rm_ids
from server.performance.models import PerformanceEntry, PerformanceTarget
from server.products.models import Holding, Product
from server.timeutil import as_utc, month_key, shift_month, utcnow

WINDOW_DAYS = 180
RECENT_DAYS = 90
FOLLOW_UP_DAYS = 30
QUICK_DAYS = 7
BEST_SHARE = 0.25
TOP_COUNT = 20


def completion(session: Session, *, rm_ids: list[int], now: datetime) -> dict[int, float]:
    """Revenue against target over the last six months (this one included)."""
    months = [shift_month(month_key(now.date()), -i) for i in range(6)]
    targets = dict(
        session.exec(
            select(PerformanceTarget.rm_id, func.sum(PerformanceTarget.revenue_target_cents))
            .where(col(PerformanceTarget.rm_id).in_(rm_ids), col(PerformanceTarget.month).in_(months))
            .group_by(col(PerformanceTarget.rm_id))
        ).all()
    )
    first = datetime.strptime(months[-1], "%Y-%m").date()
    done = dict(
        session.exec(
            select(PerformanceEntry.rm_id, func.sum(PerformanceEntry.amount_cents))
            .where(
                col(PerformanceEntry.rm_id).in_(rm_ids),
                PerformanceEntry.kind == "revenue",
                PerformanceEntry.booked_on >= first,
            )
            .group_by(col(PerformanceEntry.rm_id))
        ).all()
    )
    # PostgreSQL sums to Decimal: plain floats from here on.
    return {rm: float(done.get(rm) or 0) / float(t) for rm, t in targets.items() if t}


def top_customers(session: Session, *, rm_ids: list[int]) -> dict[int, list[int]]:
    """Each RM's top customers: their TOP_COUNT largest by active balance (one grouped query)."""
    size = func.sum(Holding.balance_cents + Holding.loan_balance_cents)
    rows = session.exec(
        select(col(Customer.owner_id), col(Customer.id), size)
        .join(Holding, col(Holding.customer_id) == Customer.id)
        .where(col(Customer.owner_id).in_(rm_ids), Holding.status == "active")
        .group_by(col(Customer.owner_id), col(Customer.id))
    ).all()
    by_owner: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for owner, customer_id, total in rows:
        by_owner[owner].append((-int(total or 0), int(customer_id or 0)))
    return {owner: [c for _, c in sorted(pairs)[:TOP_COUNT]] for owner, pairs in by_owner.items()}


def _cadence(session: Session, *, rm_ids: list[int], now: datetime) -> dict[int, dict[str, float]]:
    since, recent = now - timedelta(days=WINDOW_DAYS), now - timedelta(days=RECENT_DAYS)
    top_lists = top_customers(session, rm_ids=rm_ids)
    tops = {owner: len(ids) for owner, ids in top_lists.items()}
    owner_of = {c: owner for owner, ids in top_lists.items() for c in ids}
    visits = [
        (owner_of[c], c, at)
        for rm, c, at in session.exec(
            select(CustomerVisit.rm_id, CustomerVisit.customer_id, CustomerVisit.occurred_at).where(
                col(CustomerVisit.customer_id).in_(list(owner_of)), CustomerVisit.occurred_at >= since
            )
        ).all()
        if owner_of.get(c) == rm
    ]
    count: Counter[int] = Counter()
    reached: dict[int, set[int]] = defaultdict(set)
    for owner, customer_id, at in visits:
        count[owner] += 1
        if as_utc(at) >= recent:
            reached[owner].add(customer_id)
    out: dict[int, dict[str, float]] = {}
    for rm, n_top in tops.items():
        if not n_top:
            continue
        per_customer = count[rm] / n_top
        figures = {"top_reached_share": round(len(reached[rm]) / n_top, 3)}
        if per_customer:
            figures["visit_cadence_days"] = round(WINDOW_DAYS / per_customer, 1)
        out[rm] = figures
    return out


def _alert_to_visit(session: Session, *, rm_ids: list[int], now: datetime) -> dict[int, dict[str, float]]:
    since = now - timedelta(days=WINDOW_DAYS)
    alerts = session.exec(
        select(IntelAlert.rm_id, IntelAlert.customer_id, IntelAlert.created_at).where(
            col(IntelAlert.rm_id).in_(rm_ids), IntelAlert.created_at >= since
        )
    ).all()
    if not alerts:
        return {}
    visits: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    for rm, customer_id, at in session.exec(
        select(CustomerVisit.rm_id, CustomerVisit.customer_id, CustomerVisit.occurred_at)
        .where(
            col(CustomerVisit.rm_id).in_(rm_ids),
            col(CustomerVisit.customer_id).in_({a[1] for a in alerts}),
            CustomerVisit.occurred_at >= since,
        )
        .order_by(col(CustomerVisit.occurred_at))
    ).all():
        visits[(rm, customer_id)].append(as_utc(at))
    hours: dict[int, list[float]] = defaultdict(list)
    total: Counter[int] = Counter()
    for rm, customer_id, at in alerts:
        total[rm] += 1
        alert_at = as_utc(at)
        first = next(
            (
                v
                for v in visits.get((rm, customer_id), [])
                if alert_at <= v <= alert_at + timedelta(days=FOLLOW_UP_DAYS)
            ),
            None,
        )
        if first is not None:
            hours[rm].append((first - alert_at).total_seconds() / 3600)
    out: dict[int, dict[str, float]] = {}
    for rm, n in total.items():
        figures = {"alert_quick_share": round(sum(1 for h in hours[rm] if h <= QUICK_DAYS * 24) / n, 3)}
        if hours[rm]:
            figures["alert_to_visit_hours"] = round(median(hours[rm]), 1)
        out[rm] = figures
    return out


def _sequences(session: Session, *, rm_ids: list[int]) -> dict[int, Counter[tuple[str, str]]]:
    rows = session.exec(
        select(
            col(Customer.owner_id), col(Holding.customer_id), col(Product.category), col(Holding.opened_on)
        )
        .join(Customer, col(Customer.id) == Holding.customer_id)
        .join(Product, col(Product.id) == Holding.product_id)
        .where(col(Customer.owner_id).in_(rm_ids))
        .order_by(col(Holding.customer_id), col(Holding.opened_on), col(Holding.id))
    ).all()
    by_customer: dict[tuple[int, int], list[str]] = defaultdict(list)
    for owner, customer_id, category, _opened in rows:
        cats = by_customer[(owner, customer_id)]
        if not cats or cats[-1] != category:
            cats.append(str(category))
    out: dict[int, Counter[tuple[str, str]]] = defaultdict(Counter)
    for (owner, _c), cats in by_customer.items():
        for a, b in zip(cats, cats[1:], strict=False):
            out[owner][(a, b)] += 1
    return out


FIGURES = ("visit_cadence_days", "top_reached_share", "alert_to_visit_hours", "alert_quick_share")
LOWER_IS_BETTER = {"visit_cadence_days", "alert_to_visit_hours"}


def _group(values: dict[int, dict[str, float]], ids: list[int], key: str) -> float | None:
    xs = [values[i][key] for i in ids if i in values and key in values[i]]
    return round(median(xs), 3) if xs else None


def playbook(session: Session, *, user: User, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    uid = row_id(user)
    team = sorted(set(team_rm_ids(session, rm=user)) | {uid})
    done = completion(session, rm_ids=team, now=now)
    ranked = sorted(done, key=lambda rm: done[rm], reverse=True)
    n_best = max(1, round(len(ranked) * BEST_SHARE)) if ranked else 0
    best = [rm for rm in ranked[:n_best] if rm != uid] or ranked[:n_best]
    figures: dict[int, dict[str, float]] = defaultdict(dict)
    for part in (_cadence(session, rm_ids=team, now=now), _alert_to_visit(session, rm_ids=team, now=now)):
        for rm, values in part.items():
            figures[rm].update(values)
    rows = []
    for key in FIGURES:
        rows.append(
            {
                "key": key,
                "mine": figures.get(uid, {}).get(key),
                "best": _group(figures, best, key),
                "team": _group(figures, team, key),
                "lower_is_better": key in LOWER_IS_BETTER,
            }
        )
    sequences = _sequences(session, rm_ids=team)
    best_pairs: Counter[tuple[str, str]] = Counter()
    for rm in best:
        best_pairs.update(sequences.get(rm, Counter()))
    mine_pairs = sequences.get(uid, Counter())
    return {
        "team_size": len(team),
        "best_count": len(best),
        "i_am_best": uid in ranked[:n_best],
        "completion": {
            "mine": round(done[uid], 3) if uid in done else None,
            "best": round(median([done[r] for r in best]), 3) if best else None,
        },
        "figures": rows,
        "sequences": {
            "best": [{"from": a, "to": b, "count": n} for (a, b), n in best_pairs.most_common(3)],
            "mine": [{"from": a, "to": b, "count": n} for (a, b), n in mine_pairs.most_common(3)],
        },
        "window_days": WINDOW_DAYS,
    }
