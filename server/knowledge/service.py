"""Knowledge degree (知彼度): how well the RM knows a customer, 0-100.

Model (documented in docs/workbench.md):
- Each fact k the RM knows has a weight w_k inside its dimension d and a freshness
  f_k = 0.5 ** (age_days / half_life_d): a fact as old as the dimension's half-life counts half.
- Dimension score S_d = 100 * sum(w_k * f_k for known k in d) / sum(w_k for all k in d).
- Total = sum(W_d * S_d) / sum(W_d) over the dimensions of the customer's kind.
- The value of learning (or re-verifying) fact k is the points it would add:
  100 * W_d / sum(W) * w_k / sum(w in d) * (1 - f_k). Missing and stale facts ranked by that value are
  the "questions for your next visit".

Facts live in `customer_fact` (one row per customer and fact key, with learned_at). Facts the profile
already holds (columns, contacts, links, events) are synced into it by SQL (`sync_profile_facts`);
facts learned on visits are written by the visit log. Scores are computed by one set-based SQL
statement (`recompute`), for one customer or for all of them: the same statement, so batch and
incremental results agree."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlmodel import Session, col, select

from server.customers.models import Customer
from server.db import is_postgres, row_id, table_of
from server.errors import Problem
from server.knowledge.catalogue import CATALOGUE, FACT_KEYS, DimensionDef
from server.knowledge.models import CustomerFact, KnowledgeScore
from server.masking import mask_sql
from server.overrides import service as model_overrides
from server.timeutil import as_utc, iso, utcnow

CONFIG_NAME = "knowledge"
DISTRIBUTION_BUCKETS = ((0, 20), (20, 40), (40, 60), (60, 80), (80, 101))


# --- the effective model (defaults + admin overrides) ---------------------------------------------


@dataclass
class Fact:
    key: str
    label: str
    weight: float
    question: str
    derived: bool


@dataclass
class Dimension:
    kind: str
    code: str
    label: str
    weight: float
    half_life_days: float
    facts: list[Fact] = field(default_factory=list)

    @property
    def fact_weight_sum(self) -> float:
        return sum(f.weight for f in self.facts)


@dataclass
class Model:
    dimensions: list[Dimension]

    def for_kind(self, kind: str) -> list[Dimension]:
        return [d for d in self.dimensions if d.kind == kind]

    def effective_weight_sum(self, kind: str) -> float:
        return sum(d.weight for d in self.for_kind(kind) if d.fact_weight_sum > 0)

    def describe(self) -> dict[str, Any]:
        return {
            kind: [
                {
                    "code": d.code,
                    "label": d.label,
                    "weight": d.weight,
                    "half_life_days": d.half_life_days,
                    "facts": [
                        {
                            "key": f.key,
                            "label": f.label,
                            "weight": f.weight,
                            "question": f.question,
                            "from_profile": f.derived,
                        }
                        for f in d.facts
                    ],
                }
                for d in self.for_kind(kind)
            ]
            for kind in CATALOGUE
        }


def _dimension_key(kind: str, code: str) -> str:
    return f"{kind}.{code}"


def validate_overrides(value: dict[str, Any]) -> dict[str, Any]:
    """Overrides: {"dimensions": {"corporate.basic": {"weight": 20, "half_life_days": 730}},
    "facts": {"industry": 3}}. Unknown names, negative weights or a kind left with no weight are 422."""
    errors: list[dict[str, Any]] = []
    clean: dict[str, Any] = {"dimensions": {}, "facts": {}}
    known_dims = {_dimension_key(k, d.code) for k, dims in CATALOGUE.items() for d in dims}
    if not isinstance(value, dict) or set(value) - {"dimensions", "facts"}:
        raise Problem(422, "Unprocessable Content", "Send `dimensions` and/or `facts`.", code="validation")
    for name, spec in (value.get("dimensions") or {}).items():
        if name not in known_dims or not isinstance(spec, dict) or set(spec) - {"weight", "half_life_days"}:
            errors.append({"field": f"dimensions.{name}", "message": "unknown dimension or setting"})
            continue
        entry: dict[str, float] = {}
        if "weight" in spec:
            w = spec["weight"]
            if not isinstance(w, int | float) or isinstance(w, bool) or not 0 <= w <= 100:
                errors.append({"field": f"dimensions.{name}.weight", "message": "a number from 0 to 100"})
            else:
                entry["weight"] = float(w)
        if "half_life_days" in spec:
            h = spec["half_life_days"]
            if not isinstance(h, int | float) or isinstance(h, bool) or not 7 <= h <= 3650:
                errors.append(
                    {"field": f"dimensions.{name}.half_life_days", "message": "a number of days, 7 to 3650"}
                )
            else:
                entry["half_life_days"] = float(h)
        clean["dimensions"][name] = entry
    for key, w in (value.get("facts") or {}).items():
        if key not in FACT_KEYS:
            errors.append({"field": f"facts.{key}", "message": "unknown fact"})
        elif not isinstance(w, int | float) or isinstance(w, bool) or not 0 <= w <= 100:
            errors.append({"field": f"facts.{key}", "message": "a number from 0 to 100"})
        else:
            clean["facts"][key] = float(w)
    if not errors:
        model = model_from_overrides(clean)
        for kind in CATALOGUE:
            if model.effective_weight_sum(kind) <= 0:
                errors.append({"field": "dimensions", "message": f"{kind} customers need some weight"})
    if errors:
        raise Problem(
            422, "Unprocessable Content", "Some settings are invalid.", code="validation", errors=errors
        )
    return clean


def model_from_overrides(overrides: dict[str, Any]) -> Model:
    dim_over = overrides.get("dimensions") or {}
    fact_over = overrides.get("facts") or {}
    dims: list[Dimension] = []
    for kind, defs in CATALOGUE.items():
        for d in defs:
            o = dim_over.get(_dimension_key(kind, d.code), {})
            dims.append(_dimension(kind, d, o, fact_over))
    return Model(dims)


def _dimension(kind: str, d: DimensionDef, o: dict[str, float], fact_over: dict[str, float]) -> Dimension:
    return Dimension(
        kind=kind,
        code=d.code,
        label=d.label,
        weight=float(o.get("weight", d.weight)),
        half_life_days=float(o.get("half_life_days", d.half_life_days)),
        facts=[
            Fact(f.key, f.label, float(fact_over.get(f.key, f.weight)), f.question, f.derived)
            for f in d.facts
        ],
    )


def load_model(session: Session) -> Model:
    overrides, _version = model_overrides.get_overrides(session, CONFIG_NAME)
    return model_from_overrides(overrides)


# --- pure scoring (one customer; the reference the SQL must agree with) ----------------------------


def freshness(age_days: float, half_life_days: float) -> float:
    return 0.5 ** (max(age_days, 0.0) / half_life_days)


@dataclass
class Gap:
    key: str
    label: str
    dimension: str
    status: str  # missing, stale
    value: float  # points the total would gain
    question: str
    learned_at: datetime | None = None


@dataclass
class Result:
    total: float
    dims: dict[str, float]
    gaps: list[Gap]


def score_facts(kind: str, learned: dict[str, datetime], model: Model, now: datetime) -> Result:
    dims = model.for_kind(kind)
    weight_sum = model.effective_weight_sum(kind)
    total = 0.0
    scores: dict[str, float] = {}
    gaps: list[Gap] = []
    for d in dims:
        denominator = d.fact_weight_sum
        if denominator <= 0:
            scores[d.code] = 0.0
            continue
        got = 0.0
        for f in d.facts:
            at = learned.get(f.key)
            fresh = freshness((now - as_utc(at)).total_seconds() / 86400, d.half_life_days) if at else 0.0
            got += f.weight * fresh
            gain = 100 * d.weight / weight_sum * f.weight / denominator * (1 - fresh)
            if f.weight > 0 and (at is None or fresh < 0.5):
                question = f.question
                if at is not None:
                    days = int((now - as_utc(at)).total_seconds() // 86400)
                    question = f"再核实:{f.question}(上次了解于 {days} 天前)"
                gaps.append(
                    Gap(f.key, f.label, d.code, "missing" if at is None else "stale", gain, question, at)
                )
        scores[d.code] = 100 * got / denominator
        total += d.weight * scores[d.code]
    gaps.sort(key=lambda g: (-g.value, g.key))
    return Result(total / weight_sum if weight_sum else 0.0, scores, gaps)


# --- profile facts, synced by SQL ------------------------------------------------------------------

# fact key -> SQL selecting (customer_id, value_summary) for the customers that have the fact.
# `{ids}` is replaced by a customer filter (or nothing for all customers). Summaries never carry an
# ID number or a full phone number.
_CORP = "FROM customer c JOIN corporate_profile p ON p.customer_id = c.id WHERE c.kind = 'corporate'{ids}"
_IND = "FROM customer c JOIN individual_profile p ON p.customer_id = c.id WHERE c.kind = 'individual'{ids}"
# Masked by `mask_sql` when the statement is built, so the rules in force apply (see _derived_select).
_MASKED_PHONE = "{masked_phone}"


def _column(expr: str, source: str, present: str | None = None) -> str:
    present = present or f"{expr} IS NOT NULL"
    return f"SELECT c.id AS customer_id, substr(CAST({expr} AS VARCHAR(200)), 1, 200) AS s {source} AND {present}"


def _count(table: str, key: str, condition: str, minimum: int = 1) -> str:
    return (
        f"SELECT t.{key} AS customer_id, CAST(COUNT(*) AS VARCHAR(200)) AS s FROM {table} t "
        f"WHERE {condition}{{tids}} GROUP BY t.{key} HAVING COUNT(*) >= {minimum}"
    )


PROFILE_FACTS: dict[str, str] = {
    "industry": _column("c.industry_code", _CORP),
    "size": _column("c.size", _CORP),
    "ownership": _column("c.ownership", _CORP),
    "location": _column("c.region_code", _CORP),
    "address": _column("p.address", _CORP),
    "registered_capital": _column("p.registered_capital_cents", _CORP),
    "founded_on": _column("p.founded_on", _CORP),
    "office_phone": _column(_MASKED_PHONE, _CORP, "c.phone IS NOT NULL"),
    "decision_maker": _count("contact", "customer_id", "t.role = 'decision_maker'"),
    "finance_head": _count("contact", "customer_id", "t.title LIKE '%财务%'"),
    "dm_preferences": _count("contact", "customer_id", "t.preferences IS NOT NULL"),
    "contact_network": _count("contact", "customer_id", "1 = 1", minimum=2),
    "business_scope": _column("p.business_scope", _CORP),
    "main_products": _column("p.main_products", _CORP),
    "revenue": _column("p.revenue_cents", _CORP),
    "employees": _column("p.employees", _CORP),
    "suppliers": _count("customer_link", "from_customer_id", "t.kind = 'supplier'"),
    "buyers": _count("customer_link", "from_customer_id", "t.kind = 'buyer'"),
    "milestones": _count("customer_event", "customer_id", "t.kind <> 'financing'"),
    "financing_history": _count("customer_event", "customer_id", "t.kind = 'financing'"),
    "shareholders": _count("customer_link", "from_customer_id", "t.kind = 'shareholder'"),
    "gender": _column("c.gender", _IND),
    "birth_date": _column("'已登记'", _IND, "p.birth_date IS NOT NULL"),
    "mobile": _column(_MASKED_PHONE, _IND, "c.phone IS NOT NULL"),
    "home_region": _column("c.region_code", _IND),
    "occupation": _column("p.occupation", _IND),
    "employer": _column("p.employer", _IND),
    "income_band": _column("p.income_band", _IND),
    "risk_appetite": _column("p.risk_appetite", _IND),
    "family": _count("customer_link", "from_customer_id", "t.kind = 'family'"),
    "referrals": _count("customer_link", "from_customer_id", "t.kind = 'referral'"),
    "colleagues": _count("customer_link", "from_customer_id", "t.kind = 'colleague'"),
    "interests": _column("p.interests", _IND, "CAST(p.interests AS VARCHAR(400)) NOT IN ('[]', 'null')"),
    "life_events": _count(
        "customer_event", "customer_id", "t.kind NOT IN ('marriage', 'child', 'education', 'wedding')"
    ),
    "family_milestones": _count(
        "customer_event", "customer_id", "t.kind IN ('marriage', 'child', 'education', 'wedding')"
    ),
}
assert set(PROFILE_FACTS) == {
    f.key for dims in CATALOGUE.values() for d in dims for f in d.facts if f.derived
}
# Corporate-only and individual-only counts: a link or event on the other kind must not create a
# fact its catalogue does not have; the scoring join ignores keys of the other kind anyway.


def _derived_select(customer_ids: list[int] | None) -> str:
    ids = " AND c.id IN :ids" if customer_ids is not None else ""
    parts = []
    masked_phone = mask_sql("phone", "c.phone")
    for key, sql in PROFILE_FACTS.items():
        tids_col = (
            "customer_id" if "FROM contact" in sql or "FROM customer_event" in sql else "from_customer_id"
        )
        tids = f" AND t.{tids_col} IN :ids" if customer_ids is not None else ""
        parts.append(
            f"SELECT customer_id, '{key}' AS fact_key, s AS value_summary FROM ("
            + sql.replace("{ids}", ids).replace("{tids}", tids).replace(_MASKED_PHONE, masked_phone)
            + ") AS d_"
            + key
        )
    return "\nUNION ALL\n".join(parts)


def _bind_ids(statement, customer_ids: list[int] | None):
    if customer_ids is not None:
        return statement.bindparams(bindparam("ids", expanding=True, value=list(customer_ids)))
    return statement


def sync_profile_facts(
    session: Session, *, customer_ids: list[int] | None = None, now: datetime | None = None
) -> None:
    """Brings profile-derived facts up to date: a new or changed value is (re)learned now, a value
    that disappeared from the profile is forgotten. Facts learned on visits are left alone. Does not
    commit."""
    if customer_ids is not None and not customer_ids:
        return
    now = now or utcnow()
    when = bindparam("now", value=now, type_=table_of(CustomerFact).c.learned_at.type)
    # IF NOT EXISTS + DELETE: a failed earlier run may have left the (per-connection) table behind.
    session.execute(
        text(
            "CREATE TEMPORARY TABLE IF NOT EXISTS derived_fact (customer_id INTEGER NOT NULL, "
            "fact_key VARCHAR(32) NOT NULL, value_summary VARCHAR(200), PRIMARY KEY (customer_id, fact_key))"
        )
    )
    session.execute(text("DELETE FROM derived_fact"))
    session.exec(
        _bind_ids(
            text(
                "INSERT INTO derived_fact (customer_id, fact_key, value_summary) "
                + _derived_select(customer_ids)
            ),
            customer_ids,
        )
    )
    session.execute(
        text(
            "UPDATE customer_fact SET value_summary = d.value_summary, learned_at = :now, source = 'profile', "
            "learned_by = NULL FROM derived_fact d WHERE d.customer_id = customer_fact.customer_id "
            "AND d.fact_key = customer_fact.fact_key "
            "AND (customer_fact.value_summary IS NULL OR customer_fact.value_summary <> d.value_summary)"
        ).bindparams(when)
    )
    session.execute(
        text(
            "INSERT INTO customer_fact (customer_id, fact_key, value_summary, learned_at, source) "
            "SELECT d.customer_id, d.fact_key, d.value_summary, :now, 'profile' FROM derived_fact d "
            "WHERE NOT EXISTS (SELECT 1 FROM customer_fact f "
            "WHERE f.customer_id = d.customer_id AND f.fact_key = d.fact_key) "
            # two first opens of one customer at once: the second finds the row the first just wrote
            "ON CONFLICT (customer_id, fact_key) DO NOTHING"
        ).bindparams(when)
    )
    keys = ", ".join(f"'{k}'" for k in PROFILE_FACTS)
    scope = " AND customer_fact.customer_id IN :ids" if customer_ids is not None else ""
    session.exec(
        _bind_ids(
            text(
                f"DELETE FROM customer_fact WHERE source = 'profile' AND fact_key IN ({keys}){scope} "
                "AND NOT EXISTS (SELECT 1 FROM derived_fact d WHERE d.customer_id = customer_fact.customer_id "
                "AND d.fact_key = customer_fact.fact_key)"
            ),
            customer_ids,
        )
    )
    session.execute(text("DROP TABLE derived_fact"))


# --- scores, computed by SQL -----------------------------------------------------------------------


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
        _bind_ids(
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
    session.exec(_bind_ids(statement, customer_ids))
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


# --- learning facts on visits ----------------------------------------------------------------------


def learn_facts(
    session: Session,
    *,
    customer: Customer,
    facts: list[tuple[str, str | None]],
    rm_id: int,
    now: datetime | None = None,
) -> int:
    """Records facts learned (or verified) now; the fact keys must belong to the customer's kind.
    Does not commit."""
    now = now or utcnow()
    errors = [
        {"field": f"facts.{n}.key", "message": f"not a fact of a {customer.kind} customer"}
        for n, (key, _value) in enumerate(facts)
        if FACT_KEYS.get(key, ("", ""))[0] != customer.kind
    ]
    if errors:
        raise Problem(422, "Unprocessable Content", "Unknown facts.", code="validation", errors=errors)
    existing = {
        f.fact_key: f
        for f in session.exec(
            select(CustomerFact).where(
                CustomerFact.customer_id == customer.id, col(CustomerFact.fact_key).in_([k for k, _ in facts])
            )
        ).all()
    }
    for key, value in facts:
        row = existing.get(key) or CustomerFact(customer_id=row_id(customer), fact_key=key)
        is_new = key not in existing
        row.learned_at = now
        row.learned_by = rm_id
        if value or is_new:
            row.source = "visit"
        if value:
            row.value_summary = value[:200]
        session.add(row)
        existing[key] = row
    session.flush()
    return len(facts)


# --- reading -------------------------------------------------------------------------------------


def ensure_scored(session: Session, *, customer: Customer) -> None:
    """A customer never scored yet (created moments ago, before the worker ran) is scored now, so the
    first read shows the same number every later read will."""
    if session.get(KnowledgeScore, customer.id) is None:
        refresh_customers(session, customer_ids=[row_id(customer)])
        session.commit()


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
        _bind_ids(
            text(
                f"SELECT COUNT(*), AVG(COALESCE(k.total, 0)), {cases} FROM customer c "
                "LEFT JOIN knowledge_score k ON k.customer_id = c.id WHERE c.owner_id IN :ids"
            ),
            owner_ids,
        )
    ).one()
    lowest = session.exec(
        _bind_ids(
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
        _bind_ids(
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
