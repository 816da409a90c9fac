"""Knowledge scores (知彼度) stored in `knowledge_score`, computed by one set-based SQL statement
(`recompute`) for one customer or for all of them: the same statement, so batch and incremental
results agree, and both agree with the reference `model.score_facts`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, text
from sqlmodel import Session

from server.customers.models import Customer
from server.db import is_postgres, row_id, table_of
from server.knowledge.catalogue import CATALOGUE
from server.knowledge.facts import bind_ids, sync_profile_facts
from server.knowledge.model import Dimension, Model, load_model
from server.knowledge.models import CustomerFact, KnowledgeScore
from server.timeutil import as_utc, utcnow


def _num(value: float) -> str:
    return f"CAST({float(value)!r} AS DOUBLE PRECISION)"


def _score_sql(model: Model, *, postgres: bool, scoped: bool) -> str:
    """One INSERT ... SELECT over customer_fact joined to the weights (temporary table
    knowledge_weight: fact_key -> dimension index, weight, half-life), pivoted per dimension."""
    dims = list(model.dimensions)
    if postgres:
        age = (
            "GREATEST(CAST(EXTRACT(EPOCH FROM (CAST(:now AS TIMESTAMPTZ) - f.learned_at)) "
            "AS DOUBLE PRECISION) / 86400.0, 0)"
        )
    else:
        age = "MAX(:now_jd - julianday(f.learned_at), 0)"
    sums = ",\n".join(f"SUM(CASE WHEN v.dim = {i} THEN v.v ELSE 0 END) AS s{i}" for i in range(len(dims)))
    scope_f = " WHERE f.customer_id IN :ids" if scoped else ""
    scope_c = " WHERE c.id IN :ids" if scoped else ""

    def dim_score(i: int, d: Dimension) -> str:
        if d.fact_weight_sum <= 0:
            return _num(0)
        return f"(100.0 * COALESCE(a.s{i}, 0) / {_num(d.fact_weight_sum)})"

    totals, jsons = [], []
    for kind in CATALOGUE:
        weight_sum = model.effective_weight_sum(kind)
        members = [(i, d) for i, d in enumerate(dims) if d.kind == kind]
        terms = " + ".join(
            f"{_num(d.weight)} * {dim_score(i, d)}" for i, d in members if d.fact_weight_sum > 0
        )
        totals.append(f"WHEN '{kind}' THEN ({terms}) / {_num(weight_sum)}")
        pieces = []
        for n, (i, d) in enumerate(members):
            pieces.append(f"'{',' if n else '{'}\"{d.code}\":'")
            pieces.append(f"CAST(ROUND(CAST({dim_score(i, d)} AS NUMERIC), 2) AS VARCHAR(20))")
        pieces.append("'}'")
        jsons.append(f"WHEN '{kind}' THEN " + " || ".join(pieces))
    dims_expr = "CASE c.kind " + " ".join(jsons) + " ELSE '{}' END"
    if postgres:
        dims_expr = f"CAST({dims_expr} AS JSON)"
    return (
        "INSERT INTO knowledge_score (customer_id, total, dims, computed_at)\n"
        f"WITH a AS (SELECT v.customer_id AS customer_id,\n{sums}\n"
        f"FROM (SELECT f.customer_id AS customer_id, w.dim AS dim, w.weight * power(0.5, {age} / w.half_life) AS v "
        f"FROM customer_fact f JOIN knowledge_weight w ON w.fact_key = f.fact_key{scope_f}) AS v "
        "GROUP BY v.customer_id)\n"
        f"SELECT c.id, COALESCE(CASE c.kind {' '.join(totals)} END, 0), {dims_expr}, :computed_at\n"
        f"FROM customer c LEFT JOIN a ON a.customer_id = c.id{scope_c}"
    )


def _load_weights_table(session: Session, model: Model) -> None:
    """The weights as a small indexed temporary table (per connection), so the scoring join is an
    index lookup per fact rather than a scan of the catalogue."""
    session.execute(
        text(
            "CREATE TEMPORARY TABLE IF NOT EXISTS knowledge_weight (fact_key VARCHAR(32) PRIMARY KEY, "
            "dim INTEGER NOT NULL, weight DOUBLE PRECISION NOT NULL, half_life DOUBLE PRECISION NOT NULL)"
        )
    )
    session.execute(text("DELETE FROM knowledge_weight"))
    rows = [
        {"k": f.key, "d": i, "w": f.weight, "h": d.half_life_days}
        for i, d in enumerate(model.dimensions)
        for f in d.facts
    ]
    session.execute(
        text("INSERT INTO knowledge_weight (fact_key, dim, weight, half_life) VALUES (:k, :d, :w, :h)"), rows
    )


def _julian_day(moment: datetime) -> float:
    return as_utc(moment).timestamp() / 86400.0 + 2440587.5


def recompute(
    session: Session,
    *,
    customer_ids: list[int] | None = None,
    now: datetime | None = None,
    model: Model | None = None,
) -> None:
    """Recomputes the scores of the given customers (all when None) in one set-based statement.
    Does not commit."""
    if customer_ids is not None and not customer_ids:
        return
    now = now or utcnow()
    model = model or load_model(session)
    postgres = is_postgres(session)
    scoped = customer_ids is not None
    session.exec(
        bind_ids(
            text("DELETE FROM knowledge_score" + (" WHERE customer_id IN :ids" if scoped else "")),
            customer_ids,
        )
    )
    statement = text(_score_sql(model, postgres=postgres, scoped=scoped)).bindparams(
        bindparam("computed_at", value=now, type_=table_of(KnowledgeScore).c.computed_at.type)
    )
    if postgres:
        statement = statement.bindparams(
            bindparam("now", value=now, type_=table_of(CustomerFact).c.learned_at.type)
        )
    else:
        statement = statement.bindparams(now_jd=_julian_day(now))
    _load_weights_table(session, model)
    session.exec(bind_ids(statement, customer_ids))
    session.execute(text("DROP TABLE knowledge_weight"))


def refresh_customers(session: Session, *, customer_ids: list[int], now: datetime | None = None) -> None:
    """Incremental path: sync profile facts and rescore these customers. Does not commit."""
    sync_profile_facts(session, customer_ids=customer_ids, now=now)
    recompute(session, customer_ids=customer_ids, now=now)


def recompute_all(session: Session, *, now: datetime | None = None, sync_profile: bool = True) -> None:
    """Batch path: the same statements over every customer, then commit."""
    if sync_profile:
        sync_profile_facts(session, now=now)
    recompute(session, now=now)
    session.commit()


def ensure_scored(session: Session, *, customer: Customer) -> None:
    """A customer never scored yet (created moments ago, before the worker ran) is scored now, so the
    first read shows the same number every later read will."""
    if session.get(KnowledgeScore, customer.id) is None:
        refresh_customers(session, customer_ids=[row_id(customer)])
        session.commit()
