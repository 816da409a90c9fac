"""Knowledge degree (知彼度) answers: one customer's degree with its facts and the questions for the
next visit, and the averages over an RM's (or a team's) book. The model is in model.py, the facts in
facts.py, the stored scores in scores.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, select

from server.customers.models import Customer
from server.knowledge.facts import bind_ids
from server.knowledge.model import load_model, score_facts
from server.knowledge.models import CustomerFact, KnowledgeScore
from server.timeutil import iso, utcnow

DISTRIBUTION_BUCKETS = ((0, 20), (20, 40), (40, 60), (60, 80), (80, 101))


def customer_knowledge(
    session: Session, *, customer: Customer, now: datetime | None = None, gap_limit: int = 8
) -> dict[str, Any]:
    now = now or utcnow()
    model = load_model(session)
    facts = session.exec(select(CustomerFact).where(CustomerFact.customer_id == customer.id)).all()
    result = score_facts(customer.kind, {f.fact_key: f.learned_at for f in facts}, model, now)
    stored = session.get(KnowledgeScore, customer.id)
    labels = {f.key: (f.label, d.code) for d in model.for_kind(customer.kind) for f in d.facts}
    return {
        "total": round(stored.total if stored else result.total, 1),
        "computed_at": iso(stored.computed_at) if stored else None,
        "live_total": round(result.total, 1),
        "dimensions": [
            {"code": d.code, "label": d.label, "weight": d.weight, "score": round(result.dims[d.code], 1)}
            for d in model.for_kind(customer.kind)
        ],
        "facts": [
            {
                "key": f.fact_key,
                "label": labels[f.fact_key][0],
                "dimension": labels[f.fact_key][1],
                "value": f.value_summary,
                "learned_at": iso(f.learned_at),
                "source": f.source,
            }
            for f in sorted(facts, key=lambda f: f.fact_key)
            if f.fact_key in labels
        ],
        "next_visit_questions": [
            {
                "key": g.key,
                "label": g.label,
                "dimension": g.dimension,
                "status": g.status,
                "gain": round(g.value, 1),
                "question": g.question,
            }
            for g in result.gaps[:gap_limit]
        ],
    }


def owners_summary(session: Session, *, owner_ids: list[int]) -> dict[str, Any]:
    """Average and distribution of the knowledge degree over these RMs' customers (one query)."""
    if not owner_ids:
        return {"customers": 0, "average": 0.0, "distribution": [], "lowest": []}
    cases = ", ".join(
        f"SUM(CASE WHEN COALESCE(k.total, 0) >= {lo} AND COALESCE(k.total, 0) < {hi} THEN 1 ELSE 0 END)"
        for lo, hi in DISTRIBUTION_BUCKETS
    )
    row = session.exec(
        bind_ids(
            text(
                f"SELECT COUNT(*), AVG(COALESCE(k.total, 0)), {cases} FROM customer c "
                "LEFT JOIN knowledge_score k ON k.customer_id = c.id WHERE c.owner_id IN :ids"
            ),
            owner_ids,
        )
    ).one()
    lowest = session.exec(
        bind_ids(
            text(
                "SELECT c.id, c.name, c.tier, COALESCE(k.total, 0) AS t FROM customer c "
                "LEFT JOIN knowledge_score k ON k.customer_id = c.id WHERE c.owner_id IN :ids "
                "ORDER BY CASE c.tier WHEN 'vip' THEN 0 WHEN 'high' THEN 1 WHEN 'mid' THEN 2 ELSE 3 END, t, c.id "
                "LIMIT 10"
            ),
            owner_ids,
        )
    ).all()
    return {
        "customers": int(row[0] or 0),
        "average": round(float(row[1] or 0), 1),
        "distribution": [
            {"from": lo, "to": min(hi, 100), "customers": int(row[2 + n] or 0)}
            for n, (lo, hi) in enumerate(DISTRIBUTION_BUCKETS)
        ],
        "lowest": [{"id": r[0], "name": r[1], "tier": r[2], "total": round(float(r[3]), 1)} for r in lowest],
    }


def average_by_owner(session: Session, *, owner_ids: list[int]) -> list[dict[str, Any]]:
    if not owner_ids:
        return []
    rows = session.exec(
        bind_ids(
            text(
                "SELECT c.owner_id, u.display_name, COUNT(*), AVG(COALESCE(k.total, 0)) FROM customer c "
                'JOIN "user" u ON u.id = c.owner_id '
                "LEFT JOIN knowledge_score k ON k.customer_id = c.id WHERE c.owner_id IN :ids "
                "GROUP BY c.owner_id, u.display_name ORDER BY c.owner_id"
            ),
            owner_ids,
        )
    ).all()
    return [
        {"rm_id": r[0], "display_name": r[1], "customers": int(r[2]), "average": round(float(r[3] or 0), 1)}
        for r in rows
    ]
