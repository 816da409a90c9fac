"""The departing-RM check: every rule over the last 90 days for one RM, booked as a job, and the
customers most likely to follow them out."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlmodel import Session, col, func, select

from server import events
from server.audit import service as audit
from server.conduct.access import get_visible_rm
from server.conduct.data import BankData, load
from server.conduct.engine import evaluate
from server.conduct.models import DepartingCheck
from server.conduct.rule_settings import internal_networks, load_settings
from server.conduct.rules.registry import RULES
from server.conduct.runs import bank_today
from server.customers.models import Customer
from server.db import row_id
from server.errors import not_found
from server.org.models import User
from server.products.models import Holding
from server.timeutil import iso, utcnow

DEPARTING_WINDOW_DAYS = 90


def request_departing_check(session: Session, *, user: User, rm_id: int, ip: str | None) -> DepartingCheck:
    get_visible_rm(session, user=user, rm_id=rm_id)
    check = DepartingCheck(rm_id=rm_id, requested_by=row_id(user))
    session.add(check)
    session.flush()
    audit.record(
        session,
        actor_id=user.id,
        action="conduct.departing_check",
        object_type="user",
        object_id=rm_id,
        ip=ip,
        detail={"check_id": check.id},
    )
    events.publish(session, "conduct.departing_check", {"check_id": check.id})
    session.commit()
    return check


def get_check(session: Session, *, user: User, check_id: int) -> dict[str, Any]:
    check = session.get(DepartingCheck, check_id)
    if check is None:
        raise not_found("check")
    get_visible_rm(session, user=user, rm_id=check.rm_id)
    return {
        "id": check.id,
        "rm_id": check.rm_id,
        "status": check.status,
        "progress": check.progress,
        "result": check.result,
        "error": check.error,
        "created_at": iso(check.created_at),
        "finished_at": iso(check.finished_at),
    }


def run_departing_check(session: Session, *, check_id: int) -> DepartingCheck | None:
    """Every rule over the last 90 days for one RM, and the customers at risk of leaving with them."""
    check = session.get(DepartingCheck, check_id)
    if check is None or check.status == "done":
        return check
    check.status, check.progress = "running", 10
    session.add(check)
    session.commit()
    as_of = bank_today()
    settings = load_settings(session)
    narrowed = {
        rule.name: {
            **settings.get(rule.name, {}),
            **({"window_days": DEPARTING_WINDOW_DAYS} if "window_days" in rule.defaults else {}),
        }
        for rule in RULES
    }
    narrowed["_score"] = settings.get("_score", {})
    data = load(
        session, as_of=as_of, window_days=DEPARTING_WINDOW_DAYS, internal_networks=internal_networks(settings)
    )
    check.progress = 50
    session.add(check)
    session.commit()
    r = data.index_of(check.rm_id)
    if r is None:
        check.status, check.error, check.finished_at = "failed", "not an active RM", utcnow()
        session.add(check)
        session.commit()
        return check
    ev = evaluate(data, narrowed)
    signals: list[dict[str, Any]] = []
    evidence_customers: dict[int, list[str]] = {}
    for res in ev.results:
        value = res.reading.value[r]
        evidence = res.rule.evidence(data, res.params, r) if (res.fired[r] or res.points[r] > 0) else []
        for e in evidence:
            if e.get("customer_id"):
                evidence_customers.setdefault(int(e["customer_id"]), []).append(res.rule.title)
        signals.append(
            {
                "rule": res.rule.name,
                "title": res.rule.title,
                "fired": bool(res.fired[r]),
                "z": round(float(np.nan_to_num(res.z[r])), 2),
                "explanation": res.rule.explain(
                    res.reading, r, float(np.nan_to_num(res.median[r])), res.params
                )
                if np.isfinite(value)
                else "活动量不足，未评估。",
            }
        )
    signals.sort(key=lambda s: (not s["fired"], -float(s["z"])))
    check.result = {
        "as_of": as_of.isoformat(),
        "window_days": DEPARTING_WINDOW_DAYS,
        "score": round(float(ev.score[r]), 1),
        "signals": signals,
        "customers": customers_at_risk(
            session, data=data, r=r, evidence_customers=evidence_customers, as_of=as_of
        ),
    }
    check.status, check.progress, check.finished_at = "done", 100, utcnow()
    session.add(check)
    session.commit()
    return check


def customers_at_risk(
    session: Session,
    *,
    data: BankData,
    r: int,
    evidence_customers: dict[int, list[str]],
    as_of: date,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """The RM's customers most likely to follow them out: their details looked at lately (reveals),
    named in the evidence of the RM's signals, money maturing soon, high value tier."""
    rm_id = int(data.rm_ids[r])
    rv = data.reveals
    s = rv.slice_of(r, data.n)
    recent = rv.ts[s] >= data.now_ts - DEPARTING_WINDOW_DAYS * 86400
    reveal_counts: dict[int, int] = {}
    for c in rv.customer[s][recent]:
        if c > 0:
            reveal_counts[int(c)] = reveal_counts.get(int(c), 0) + 1
    customers = [
        (int(c or 0), n, t, k)
        for c, n, t, k in session.exec(
            select(Customer.id, Customer.name, Customer.tier, Customer.kind).where(Customer.owner_id == rm_id)
        ).all()
    ]
    horizon = as_of + timedelta(days=DEPARTING_WINDOW_DAYS)
    holdings = session.exec(
        select(Holding.customer_id, func.sum(Holding.balance_cents), func.sum(Holding.loan_balance_cents))
        .join(Customer, col(Customer.id) == Holding.customer_id)
        .where(Customer.owner_id == rm_id, Holding.status == "active")
        .group_by(col(Holding.customer_id))
    ).all()
    maturing = dict(
        session.exec(
            select(Holding.customer_id, func.sum(Holding.balance_cents))
            .join(Customer, col(Customer.id) == Holding.customer_id)
            .where(
                Customer.owner_id == rm_id,
                Holding.status == "active",
                col(Holding.matures_on) >= as_of,
                col(Holding.matures_on) <= horizon,
            )
            .group_by(col(Holding.customer_id))
        ).all()
    )
    balances = {int(c): int(b or 0) for c, b, _ in holdings}
    out: list[dict[str, Any]] = []
    for cid, name, tier, kind in customers:
        why: list[str] = []
        points = 0.0
        if reveal_counts.get(cid):
            why.append(f"近90天被查看敏感信息{reveal_counts[cid]}次")
            points += 2 + min(reveal_counts[cid], 5)
        if cid in evidence_customers:
            why.append("出现在预警证据中：" + "、".join(sorted(set(evidence_customers[cid]))))
            points += 3
        if maturing.get(cid):
            why.append(f"90天内到期资金{int(maturing[cid]) / 100 / 10000:,.1f}万元")
            points += 2
        if tier in ("vip", "high"):
            points += 1 if why else 0
            if why:
                why.append("高价值客户")
        if points > 0:
            out.append(
                {
                    "customer_id": cid,
                    "name": name,
                    "kind": kind,
                    "tier": tier,
                    "balance_cents": balances.get(cid, 0),
                    "points": points,
                    "reasons": why,
                }
            )
    out.sort(key=lambda c: (-float(c["points"]), -int(c["balance_cents"])))
    return out[:limit]
