"""The facts the RM knows about a customer (知彼度's input).

Facts live in `customer_fact` (one row per customer and fact key, with learned_at). Facts the profile
already holds (columns, contacts, links, events) are synced into it by SQL (`sync_profile_facts`);
facts learned on visits are written by the visit log (`learn_facts`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, text
from sqlmodel import Session, col, select

from server.customers.models import Customer
from server.db import row_id, table_of
from server.errors import unprocessable
from server.knowledge.catalogue import CATALOGUE, FACT_KEYS
from server.knowledge.models import CustomerFact
from server.masking import mask_sql
from server.timeutil import utcnow

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


def bind_ids(statement, customer_ids: list[int] | None):
    """Binds `:ids` (an expanding IN list); None leaves the statement unscoped (everyone)."""
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
        bind_ids(
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
        bind_ids(
            text(
                f"DELETE FROM customer_fact WHERE source = 'profile' AND fact_key IN ({keys}){scope} "
                "AND NOT EXISTS (SELECT 1 FROM derived_fact d WHERE d.customer_id = customer_fact.customer_id "
                "AND d.fact_key = customer_fact.fact_key)"
            ),
            customer_ids,
        )
    )
    session.execute(text("DROP TABLE derived_fact"))


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
        raise unprocessable("Unknown facts.", errors=errors)
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
