"""The demo bank's conduct story: the demo veteran (login `rm_veteran`, 老油) shows, in the months a
monitor reads, the patterns conduct oversight looks for — month-end bursts booked late and reversed
days later, a sale without the licence, amounts parked just under an approval limit, a night of
scrolling through the whole customer list, and a firm in his book whose decision maker registers his
own work e-mail: pool claims he won land there, and a customer's statements go to that mailbox too.
The other demo RMs get nothing from here.

Called once by the demo generator after the bank's own history is written (same connection)."""

from __future__ import annotations

import calendar
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from server.audit.models import AuditEntry
from server.customers.models import Contact, Customer
from server.db import table_of
from server.opportunities.models import Opportunity, OpportunityTransition
from server.org.models import RmProfile, User
from server.performance.models import PerformanceEntry
from server.products.models import Product

VETERAN = "rm_veteran"


def _utc(day: date, hour: int, minute: int) -> datetime:
    """A Beijing wall-clock time on `day`, stored in UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def _credit_only_licensed_sales(conn: Connection, *, veteran_id: int) -> None:
    """The bank's ledger credits an RM only with products they may sell: the generator picks ledger
    products from the customers' holdings, so for every RM but the demo veteran a sale of a product
    needing a licence the RM lacks is re-pointed to a product of the same category needing none."""
    prof, prod, pe = table_of(RmProfile), table_of(Product), table_of(PerformanceEntry)
    products = conn.execute(
        select(prod.c.id, prod.c.required_qualification, prod.c.category).order_by(prod.c.id)
    ).all()
    plain_by_category: dict[str, int] = {}
    for pid, qual, category in products:
        if not qual:
            plain_by_category.setdefault(category, int(pid))
    needs = {int(pid): (qual, category) for pid, qual, category in products if qual}
    for rm_id, quals in conn.execute(
        select(prof.c.user_id, prof.c.qualifications).where(prof.c.user_id != veteran_id)
    ).all():
        held = set(quals or [])
        for pid, (qual, category) in needs.items():
            if qual not in held:
                conn.execute(
                    update(pe)
                    .where(pe.c.rm_id == rm_id, pe.c.product_id == pid)
                    .values(product_id=plain_by_category.get(category))
                )


def plant_conduct_demo(conn: Connection, *, today: date, seed: int) -> dict[str, int]:
    rng = random.Random(seed * 7919 + 16)
    user, prof = table_of(User), table_of(RmProfile)
    found = conn.execute(
        select(user.c.id, prof.c.qualifications)
        .join(prof, prof.c.user_id == user.c.id)
        .where(user.c.username == VETERAN)
    ).first()
    if found is None:
        return {}
    rm_id, quals = int(found[0]), set(found[1] or [])
    _credit_only_licensed_sales(conn, veteran_id=int(found[0]))
    cust = table_of(Customer)
    customers = [
        int(c)
        for c in conn.execute(select(cust.c.id).where(cust.c.owner_id == rm_id).order_by(cust.c.id)).scalars()
    ]
    if not customers:
        return {}
    prod = table_of(Product)
    products = conn.execute(select(prod.c.id, prod.c.required_qualification, prod.c.category)).all()
    licensed = [int(p[0]) for p in products if p[1] and p[1] in quals and p[2] in ("loan", "deposit", "fund")]
    unlicensed = [int(p[0]) for p in products if p[1] and p[1] not in quals]
    plain = [int(p[0]) for p in products if not p[1]] or licensed
    ledger: list[dict[str, Any]] = []
    ref = 0

    def book(
        day: date,
        amount: int,
        product: int,
        customer: int,
        *,
        hour: int,
        source: str = "core",
        source_ref: str | None = None,
    ) -> None:
        ledger.append(
            {
                "rm_id": rm_id,
                "booked_on": day,
                "kind": "new_business",
                "amount_cents": amount,
                "customer_id": customer,
                "product_id": product,
                "source": source,
                "source_ref": source_ref,
                "created_at": _utc(day, hour, rng.randrange(60)),
            }
        )

    # The last three complete months: month-end bursts, booked late, much of it reversed days later.
    first_of_month = today.replace(day=1)
    for back in (1, 2, 3):
        y, m = divmod(first_of_month.year * 12 + first_of_month.month - 1 - back, 12)
        m += 1
        last = calendar.monthrange(y, m)[1]
        for _ in range(rng.randint(5, 7)):
            ref += 1
            day = date(y, m, last - rng.randint(0, 1))
            amount = rng.randint(80, 260) * 10_000_00
            customer = rng.choice(customers)
            product = rng.choice(plain)
            tx = f"TX{seed}-C{ref:05d}"
            book(day, amount, product, customer, hour=rng.randint(20, 23), source_ref=tx)
            if rng.random() < 0.75:
                back_day = day + timedelta(days=rng.randint(2, 6))
                if back_day < today:
                    book(
                        back_day,
                        -int(amount * rng.uniform(0.5, 0.9)),
                        product,
                        customer,
                        hour=10,
                        source="adjustment",
                        source_ref=f"reversal:{tx}",
                    )
        # amounts parked just under the 3-million approval limit
        for _ in range(2):
            day = date(y, m, rng.randint(5, 20))
            book(
                day,
                rng.randint(2_860_000, 2_995_000) * 100,
                rng.choice(plain),
                rng.choice(customers),
                hour=rng.randint(9, 17),
            )
    # a product sold without the licence it needs
    if unlicensed:
        day = today - timedelta(days=rng.randint(20, 60))
        book(day, rng.randint(30, 90) * 10_000_00, rng.choice(unlicensed), rng.choice(customers), hour=21)
    conn.execute(insert(table_of(PerformanceEntry)), ledger)

    # A night scrolling the whole customer list, page after page (data hoarding before leaving).
    audit_rows = []
    night = today - timedelta(days=rng.randint(3, 9))
    at = _utc(night, 23, 5)
    pages = max(40, len(customers) * 4 // 20)
    for page in range(2, pages + 2):
        at += timedelta(seconds=rng.randint(4, 15))
        audit_rows.append(
            {
                "at": at,
                "actor_id": rm_id,
                "action": "customer.list_page",
                "object_type": "customer",
                "object_id": None,
                "ip": f"117.{rng.randint(20, 200)}.{rng.randint(0, 255)}.{rng.randint(2, 250)}",
                "detail": {"page": page, "rows": 20},
            }
        )
    conn.execute(insert(table_of(AuditEntry)), audit_rows)
    steered = _related_firm(conn, rm_id=rm_id, customers=customers, today=today, rng=rng)
    return {
        "conduct_ledger": len(ledger),
        "conduct_audit": len(audit_rows),
        "conduct_related_claims": steered,
    }


def _related_firm(
    conn: Connection, *, rm_id: int, customers: list[int], today: date, rng: random.Random
) -> int:
    """The veteran's staff contact details, a firm in his book whose decision maker gives his own
    work e-mail (a relative's company), pool claims he won landing there, and one more customer whose
    statements go to the same mailbox."""
    user, cust = table_of(User), table_of(Customer)
    email = "zhou.guoqing@zhanye-bank.cn"
    conn.execute(update(user).where(user.c.id == rm_id).values(phone="13700001016", email=email))
    firms = [
        int(c)
        for c in conn.execute(
            select(cust.c.id).where(cust.c.owner_id == rm_id, cust.c.kind == "corporate").order_by(cust.c.id)
        ).scalars()
    ]
    if not firms:
        return 0
    firm = firms[rng.randrange(len(firms))]
    conn.execute(
        insert(table_of(Contact)).values(
            customer_id=firm,
            name="周**",
            title="执行董事",
            role="decision_maker",
            influence=5,
            email=email.upper(),
        )
    )
    others = [c for c in customers if c != firm]
    if others:
        conn.execute(update(cust).where(cust.c.id == others[rng.randrange(len(others))]).values(email=email))
    opp, tr = table_of(Opportunity), table_of(OpportunityTransition)
    # shared to the pool by a colleague (a branch referral), claimed and won by the veteran
    colleague = (
        conn.execute(
            select(user.c.id).where(user.c.role == "rm", user.c.id != rm_id).order_by(user.c.id).limit(1)
        ).scalar()
        or rm_id
    )
    claims = 3
    for k in range(claims):
        at = _utc(today - timedelta(days=20 + 35 * k), 10, rng.randrange(60))
        new_id = conn.execute(
            insert(opp).values(
                title="流动资金贷款（商机池认领）",
                customer_id=firm,
                customer_kind="corporate",
                tier="mid",
                source="branch_referral",
                originator_id=colleague,
                owner_id=rm_id,
                visibility="branch",
                quality_score=60,
                status="won",
                shared_at=at - timedelta(days=2),
                claimed_at=at,
                closed_at=at + timedelta(days=9),
                won_amount_cents=rng.randint(200, 600) * 10_000_00,
                version=1,
                created_at=at - timedelta(days=2),
                updated_at=at,
            )
        ).inserted_primary_key
        assert new_id is not None
        conn.execute(
            insert(tr).values(
                opportunity_id=new_id[0], actor_id=rm_id, from_status="shared", to_status="claimed", at=at
            )
        )
    return claims
