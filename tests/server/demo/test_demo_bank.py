"""The demo bank: deterministic for a seed, personas by construction, working demo logins, valid
identifiers, personal data masked in the API, a realistic product shelf."""

from __future__ import annotations

import hashlib
import os
import statistics
import uuid
from collections import defaultdict
from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session, col, func, select

from server import create_app, db
from server.audit.models import AuditEntry
from server.config import sqlalchemy_url
from server.crypto import decrypt_field, field_digest
from server.customers.models import Contact, CorporateProfile, Customer, IndividualProfile
from server.demo import catalog
from server.demo.generator import DEMO_LOGINS, DEMO_PASSWORD, DemoBankError, load_demo_bank
from server.org.models import Persona, RmProfile, Role, Team, User
from server.performance.models import PerformanceEntry, PerformanceTarget
from server.products.models import Holding, Product, ProductCategory
from server.reference import INDUSTRIES, REGIONS
from server.validators import id_birth_date, is_valid_credit_code, is_valid_id_number, is_valid_mobile
from tests.conftest import migrate

CUSTOMERS = 300
SEED = 11
TODAY = date(2026, 11, 29)


@pytest.fixture(scope="module")
def fresh_database(tmp_path_factory):
    """Fresh, migrated databases of the same kind the suite runs on (PostgreSQL when DATABASE_URL
    names one, so the COPY path is tested there too)."""
    made: list[str] = []
    base = os.environ.get("DATABASE_URL", "")

    def make(kind: str | None = None) -> str:
        if (kind or ("postgres" if base.startswith("postgres") else "sqlite")) == "postgres":
            pg = sqlalchemy_url(base)
            name = f"zhanye_demo_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            admin = create_engine(pg.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            url = pg.rsplit("/", 1)[0] + "/" + name
            made.append(url)
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
        migrate(url)
        return url

    yield make
    for url in made:
        db.get_engine(url).dispose()
        admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def demo_app(fresh_database, test_config, tmp_path_factory):
    config = {**test_config, "DATABASE_URL": fresh_database(), "VAR_DIR": tmp_path_factory.mktemp("demo_var")}
    app = create_app(config)
    counts = load_demo_bank(
        db.engine_for(app), customers=CUSTOMERS, seed=SEED, data_key=app.config["SETTINGS"].DATA_KEY
    )
    app.config["DEMO_COUNTS"] = counts
    return app


@pytest.fixture
def demo_session(demo_app):
    with Session(db.engine_for(demo_app), expire_on_commit=False) as session:
        yield session


def _login(demo_app, username: str):
    client = demo_app.test_client()
    response = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.get_data(as_text=True)
    return client, response.get_json()


def _digest(url: str) -> str:
    """A digest of the key columns of every generated table (ciphertexts excluded: their nonces are
    random on purpose; the keyed digest of each ID number stands in for it)."""
    queries = [
        "SELECT id, code, name, region_code, parent_id, latitude, longitude FROM branch ORDER BY id",
        "SELECT id, name, branch_id, lead_id FROM team ORDER BY id",
        'SELECT id, username, display_name, role, branch_id, team_id FROM "user" ORDER BY id',
        "SELECT user_id, persona, hire_date, grade, qualifications FROM rm_profile ORDER BY user_id",
        "SELECT id, kind, name, name_initials, owner_id, region_code, industry_code, size, ownership, gender,"
        " tier, phone, latitude, longitude, created_at FROM customer ORDER BY id",
        "SELECT customer_id, credit_code, registered_capital_cents, revenue_cents, employees, founded_on"
        " FROM corporate_profile ORDER BY customer_id",
        "SELECT customer_id, birth_date, id_number_digest, occupation, employer, income_band, risk_appetite,"
        " interests FROM individual_profile ORDER BY customer_id",
        "SELECT customer_id, name, title, role, influence, phone FROM contact ORDER BY id",
        "SELECT customer_id, occurred_on, kind, title FROM customer_event ORDER BY id",
        "SELECT from_customer_id, to_customer_id, to_name, kind, label FROM customer_link ORDER BY id",
        "SELECT customer_id, tag_id FROM customer_tag ORDER BY customer_id, tag_id",
        "SELECT customer_id, rm_id, started_at, ended_at, reason FROM ownership_change ORDER BY id",
        "SELECT customer_id, product_id, balance_cents, loan_balance_cents, fee_income_cents, opened_on,"
        " matures_on, status FROM holding ORDER BY id",
        "SELECT rm_id, month, revenue_target_cents, new_business_target_cents FROM performance_target ORDER BY id",
        "SELECT rm_id, booked_on, kind, amount_cents, customer_id, product_id, source, source_ref"
        " FROM performance_entry ORDER BY id",
        "SELECT at, actor_id, action, object_id, ip FROM audit_entry ORDER BY id",
    ]
    engine = db.get_engine(url)
    h = hashlib.sha256()
    with engine.connect() as conn:
        for q in queries:
            for row in conn.execute(text(q)):
                h.update(repr(tuple(row)).encode())
    return h.hexdigest()


def test_same_seed_gives_the_same_bank(fresh_database, data_key):
    digests = []
    for seed in (SEED, SEED, SEED + 1):
        url = fresh_database("sqlite")
        load_demo_bank(db.get_engine(url), customers=CUSTOMERS, seed=seed, data_key=data_key, today=TODAY)
        digests.append(_digest(url))
    assert digests[0] == digests[1]
    assert digests[0] != digests[2]


def test_counts_and_refusal_to_load_twice(demo_app):
    counts = demo_app.config["DEMO_COUNTS"]
    assert counts["customer"] == CUSTOMERS
    assert counts["corporate_profile"] + counts["individual_profile"] == CUSTOMERS
    assert counts["rm_profile"] == 40
    assert counts["holding"] >= CUSTOMERS
    with pytest.raises(DemoBankError):
        load_demo_bank(db.engine_for(demo_app), customers=10, seed=1, data_key="x")
    runner = demo_app.test_cli_runner()
    result = runner.invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0 and "not loaded" in result.output
    result = runner.invoke(args=["demo", "load", "--customers", "10"])
    assert result.exit_code != 0 and "empty" in result.output


def test_make_runs_demo_step_loads_the_bank_and_every_feature_on_an_empty_database(
    fresh_database, test_config, tmp_path_factory
):
    """`make run`'s demo step, as it runs it (`flask demo load --if-empty`, the CLI's own sessions)
    on an empty database: the bank and every feature's demo data, then nothing on a second start."""
    from server.demo.features import FEATURES

    config = {**test_config, "DATABASE_URL": fresh_database(), "VAR_DIR": tmp_path_factory.mktemp("run_var")}
    runner = create_app(config).test_cli_runner()
    result = runner.invoke(args=["demo", "load", "--if-empty", "--customers", "200"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "Demo bank loaded" in result.output
    for name, _step in FEATURES:
        assert f"Demo {name}:" in result.output, result.output
    assert "'war_rooms': 1" in result.output  # the running war room, with its chat
    again = runner.invoke(args=["demo", "load", "--if-empty"])
    assert again.exit_code == 0 and "not loaded" in again.output


def test_personas_by_construction(demo_session):
    s = demo_session
    today = date.today()
    rms = s.exec(select(User, RmProfile).join(RmProfile, RmProfile.user_id == User.id)).all()  # type: ignore[arg-type]
    assert 35 <= len(rms) <= 45
    by_persona = defaultdict(list)
    for user, profile in rms:
        by_persona[profile.persona].append((user, profile))
    assert set(by_persona) == set(Persona)

    book = {
        owner: (n, total or 0)
        for owner, n, total in s.exec(
            select(
                Customer.owner_id,
                func.count(func.distinct(Customer.id)),
                func.sum(Holding.balance_cents + Holding.loan_balance_cents),
            )
            .join(Holding, Holding.customer_id == Customer.id, isouter=True)  # type: ignore[arg-type]
            .group_by(Customer.owner_id)
        ).all()
    }
    demo = {u.username: (u, p) for u, p in rms if u.username.startswith("rm_")}
    assert {p.persona for _, p in demo.values()} == set(Persona)
    for username, (user, profile) in demo.items():
        assert profile.persona == Persona(username.removeprefix("rm_"))
        assert book[user.id][0] >= 1, f"{username} owns no customers"

    for _, profile in by_persona[Persona.newcomer]:
        assert profile.hire_date > today - timedelta(days=183)
    for persona in (Persona.general, Persona.excellent, Persona.super, Persona.veteran):
        for _, profile in by_persona[persona]:
            assert profile.hire_date < today - timedelta(days=183)
    super_rm = demo["rm_super"][0]
    others = [u for u, _ in demo.values() if u.id != super_rm.id]
    assert all(book[super_rm.id][0] > book[u.id][0] for u in others)
    assert all(book[super_rm.id][1] > book[u.id][1] for u in others)
    assert demo["rm_super"][1].hire_date == min(p.hire_date for _, p in demo.values())
    assert (
        book[demo["rm_newcomer"][0].id][0]
        < book[demo["rm_general"][0].id][0]
        < book[demo["rm_excellent"][0].id][0]
    )

    # All five demo RMs are in the team `lead` leads.
    lead = s.exec(select(User).where(User.username == "lead")).one()
    team = s.exec(select(Team).where(Team.lead_id == lead.id)).one()
    assert {u.team_id for u, _ in demo.values()} == {team.id}
    assert {u.username: u.role for u in s.exec(select(User).where(col(User.username).in_(DEMO_LOGINS)))} == {
        **{u: Role.rm for u in demo},
        "lead": Role.team_lead,
        "risk": Role.risk_officer,
        "admin": Role.admin,
    }
    # Every team has a lead who is a team lead.
    for t in s.exec(select(Team)).all():
        assert s.get(User, t.lead_id).role == Role.team_lead


def _monthly_achievement(s: Session, rm_id: int) -> list[float]:
    targets = {
        t.month: t.revenue_target_cents
        for t in s.exec(select(PerformanceTarget).where(PerformanceTarget.rm_id == rm_id))
    }
    revenue: dict[str, int] = defaultdict(int)
    for e in s.exec(
        select(PerformanceEntry).where(PerformanceEntry.rm_id == rm_id, PerformanceEntry.kind == "revenue")
    ):
        revenue[e.booked_on.strftime("%Y-%m")] += e.amount_cents
    current = date.today().strftime("%Y-%m")
    return [revenue[m] / targets[m] for m in sorted(targets) if m != current and m in revenue]


def test_results_and_conduct_signals_follow_the_persona(demo_session):
    s = demo_session
    rows = s.exec(select(User, RmProfile).join(RmProfile, RmProfile.user_id == User.id)).all()  # type: ignore[arg-type]
    ids = {u.username: u.id for u, _ in rows}
    ratios = {u.username: _monthly_achievement(s, u.id) for u, _ in rows}
    mean = {name: statistics.mean(r) for name, r in ratios.items() if r}
    assert mean["rm_general"] == pytest.approx(1.03, abs=0.1)
    assert mean["rm_general"] < mean["rm_excellent"] < mean["rm_super"]
    assert len(ratios["rm_general"]) == len(ratios["rm_super"]) == 23  # 24 months, the last still open
    newcomers = [ratios[u.username] for u, p in rows if p.persona == Persona.newcomer]
    assert sum(len(r) for r in newcomers) >= 3 and max(max(r, default=0) for r in newcomers) < 0.9
    spread = {name: statistics.pstdev(ratios[name]) for name in ("rm_general", "rm_excellent", "rm_super")}
    assert statistics.pstdev(ratios["rm_veteran"]) > 3 * max(spread.values())

    veteran = ids["rm_veteran"]
    reversals = s.exec(
        select(PerformanceEntry).where(
            PerformanceEntry.rm_id == veteran, PerformanceEntry.source == "adjustment"
        )
    ).all()
    assert reversals and all(e.amount_cents < 0 and e.source_ref.startswith("reversal:TX") for e in reversals)
    for name in ("rm_general", "rm_excellent", "rm_super", "rm_newcomer"):
        assert not s.exec(
            select(PerformanceEntry).where(
                PerformanceEntry.rm_id == ids[name], PerformanceEntry.source == "adjustment"
            )
        ).first()
    # Sales of products the veteran holds no licence for.
    quals = set(s.get(RmProfile, veteran).qualifications)
    sold = s.exec(
        select(Product.required_qualification)
        .join(PerformanceEntry, PerformanceEntry.product_id == Product.id)  # type: ignore[arg-type]
        .where(PerformanceEntry.rm_id == veteran, PerformanceEntry.kind == "new_business")
    ).all()
    assert {q for q in sold if q} - quals
    # Late-night bursts of reveals (Beijing time = UTC+8).
    reveals = s.exec(
        select(AuditEntry).where(AuditEntry.actor_id == veteran, AuditEntry.action == "customer.reveal")
    ).all()
    late = [a for a in reveals if (a.at.hour + 8) % 24 >= 22]
    assert len(late) >= 30


def test_identifiers_are_valid(demo_session, demo_app):
    s = demo_session
    key = demo_app.config["SETTINGS"].DATA_KEY
    codes = s.exec(select(CorporateProfile.credit_code)).all()
    assert codes and all(is_valid_credit_code(c) for c in codes)
    assert len(set(codes)) == len(codes)
    people = s.exec(
        select(IndividualProfile, Customer).join(Customer, Customer.id == IndividualProfile.customer_id)
    ).all()  # type: ignore[arg-type]
    assert people
    for profile, customer in people:
        number = decrypt_field(profile.id_number_encrypted, key)
        assert is_valid_id_number(number), number
        assert id_birth_date(number) == profile.birth_date
        assert int(number[16]) % 2 == (1 if customer.gender == "M" else 0)
        assert profile.id_number_digest == field_digest(number, key)
        assert 2 <= len(customer.name) <= 3 and customer.name_initials.isalpha()
    for customer in s.exec(select(Customer)).all():
        assert is_valid_mobile(customer.phone)
        assert customer.region_code in REGIONS
        if customer.kind == "corporate":
            assert customer.industry_code in INDUSTRIES
            assert customer.name.endswith(
                ("有限公司", "局", "中心", "医院", "保健院", "学院", "中学", "小学", "分公司")
            )
    # a contact may give only an e-mail (the veteran's story); every phone given is a valid mobile
    assert all(is_valid_mobile(p) for p in s.exec(select(Contact.phone)).all() if p is not None)


def test_demo_logins_work(demo_app):
    for username in DEMO_LOGINS:
        client, body = _login(demo_app, username)
        assert body["user"]["username"] == username
        me = client.get("/api/v1/me").get_json()["user"]
        assert me["username"] == username
        expected = {"lead": "team_lead", "risk": "risk_officer", "admin": "admin"}.get(username, "rm")
        assert me["role"] == expected
        if expected == "rm":
            assert me["persona"] == username.removeprefix("rm_")
    bad = demo_app.test_client().post(
        "/api/v1/auth/login", json={"username": "rm_general", "password": "nope"}
    )
    assert bad.status_code == 401


def test_no_unmasked_personal_data_in_api(demo_app, demo_session):
    s = demo_session
    key = demo_app.config["SETTINGS"].DATA_KEY
    for username in ("rm_super", "lead"):
        client, _ = _login(demo_app, username)
        listing = client.get("/api/v1/customers?page_size=100")
        assert listing.status_code == 200
        assert "no-store" in listing.headers["Cache-Control"]
        items = listing.get_json()["items"]
        assert items
        ids = [item["id"] for item in items]
        secrets = set()
        for customer in s.exec(select(Customer).where(col(Customer.id).in_(ids))).all():
            secrets.add(customer.phone)
            profile = s.get(IndividualProfile, customer.id)
            if profile:
                secrets.add(decrypt_field(profile.id_number_encrypted, key))
        secrets |= set(s.exec(select(Contact.phone).where(col(Contact.customer_id).in_(ids))).all())
        bodies = [listing.get_data(as_text=True)]
        for cid in ids[:25]:
            detail = client.get(f"/api/v1/customers/{cid}")
            assert detail.status_code == 200
            bodies.append(detail.get_data(as_text=True))
        for body in bodies:
            leaked = [v for v in secrets if v and v in body]
            assert not leaked
        assert all(item["phone_masked"] and "****" in item["phone_masked"] for item in items)


def test_search_finds_demo_customers_by_name_and_initials(demo_app, demo_session):
    s = demo_session
    owner = s.exec(select(User).where(User.username == "rm_super")).one()
    customer = s.exec(
        select(Customer).where(Customer.owner_id == owner.id, Customer.kind == "corporate")
    ).first()
    client, _ = _login(demo_app, "rm_super")
    for q in (customer.name[2:6], customer.name_initials[:4]):
        got = client.get("/api/v1/customers", query_string={"q": q, "page_size": 100}).get_json()
        assert customer.id in {item["id"] for item in got["items"]}, q


def test_products_shelf(demo_session):
    products = demo_session.exec(select(Product)).all()
    assert 28 <= len(products) <= 35
    assert {p.category for p in products} == set(ProductCategory)
    for p in products:
        assert len(p.selling_points) == 3 and len(p.advantages) >= 2 and p.terms
        assert p.required_qualification in (None, *catalog.QUALIFICATIONS)
        if p.category == ProductCategory.fund:
            assert p.required_qualification == "fund_sales"
        if p.category == ProductCategory.insurance:
            assert p.required_qualification == "insurance_agent"
    assert any(p.code == "PAY-PAYROLL" and p.name == "代发工资" for p in products)
    held = demo_session.exec(select(func.count(func.distinct(Holding.product_id)))).one()
    assert held >= 25


def test_past_prospect_development_is_recorded_as_a_bank_records_it(demo_session):
    """A history of developed prospects: each has an RM's ended claim and a visit; the converted ones
    carry their status and date (what `record_conversions` writes), the rest a lapsed claim."""
    from server.prospects.models import Prospect, ProspectActivity, ProspectClaim

    claims = demo_session.exec(select(ProspectClaim)).all()
    prospects = demo_session.exec(select(Prospect).where(col(Prospect.status) != "merged")).all()
    assert 0.02 * len(prospects) < len(claims) < 0.1 * len(prospects)
    assert all(c.ended_at is not None and c.end_reason in ("converted", "expired") for c in claims)
    visited = set(
        demo_session.exec(select(ProspectActivity.prospect_id).where(col(ProspectActivity.kind) == "visited"))
    )
    assert {c.prospect_id for c in claims} == visited
    status = {p.id: p for p in prospects}
    for c in claims:
        if c.prospect_id in status:
            converted = status[c.prospect_id].status == "converted"
            assert converted == (c.end_reason == "converted")
            assert converted == (status[c.prospect_id].converted_at is not None)
