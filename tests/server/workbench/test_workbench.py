"""Know yourself (知己): the mirror's hand-computed model and its monthly cycle, the customer rating
link (public, single-use, expiring, reads nothing else), performance, customer mix, sellable
products, resources booked without double booking (real threads), and the home cards per persona."""

from __future__ import annotations

import threading
import uuid
from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from server import db
from server.customers.models import CustomerKind, CustomerVisit
from server.errors import Problem
from server.mirror import model as mirror_model
from server.mirror.models import MirrorRatingLink
from server.org.models import Persona, RmProfile, Role
from server.performance.models import PerformanceEntry, PerformanceTarget
from server.personas import mentoring
from server.products.models import Holding, Product, ProductBranch, ProductCase, ProductFit
from server.resources import service as resources
from server.resources.models import Resource
from server.timeutil import current_month, month_start, shift_month, utcnow
from tests import factories

SCORES = {"professional": 3, "responsive": 3, "trustworthy": 3, "proactive": 3}


def _all(n: int) -> dict[str, int]:
    return {k: n for k in SCORES}


# --- the model, by hand ----------------------------------------------------------------------------


def test_mirror_hand_computed_example():
    inputs = mirror_model.MirrorInputs(
        revenue_target_cents=1_200_000,
        revenue_cents=900_000,
        previous_revenue_cents=[1_000_000, 800_000, 1_200_000],
        new_customers=2,
        new_customers_target=4,
        new_products=1,
        new_business_cents=1_000_000,
        difficult_new_business_cents=300_000,
        team_median_revenue_cents=600_000,
        customers_visited=5,
        customers_converted=2,
        customer_rating=4.5,
        customer_ratings=2,
        peer_rating=3.0,
        peer_ratings=2,
    )
    result = mirror_model.score(inputs)
    # challenge: stretch 1.2x -> (1.2-0.8)/0.7 = 57.14; new customers 2/4 -> 50; one new product -> 50;
    # difficult 30% -> 60.  (30*57.14 + 30*50 + 20*50 + 20*60) / 100 = 54.14
    assert result["challenge_power"]["score"] == pytest.approx(54.1)
    # combat: revenue 1.5x median -> 75; completion 75%; conversion 2/5 -> 40; customers 4.5 -> 87.5;
    # peers 3.0 -> 50.  (25*75 + 30*75 + 15*40 + 15*87.5 + 15*50) / 100 = 67.875
    assert result["combat_power"]["score"] == pytest.approx(67.875, abs=0.05)
    assert [d["indicator"] for d in result["combat_power"]["top_drivers"]] == [
        "completion",
        "revenue",
        "customer_rating",
    ]
    assert result["combat_power"]["top_drivers"][0]["contribution"] == pytest.approx(7.5)
    assert result["combat_power"]["top_drivers"][0]["explanation"] == "完成率 75%"
    assert [d["indicator"] for d in result["challenge_power"]["top_drivers"][:2]] == [
        "target_stretch",
        "difficult_segments",
    ]
    assert len(result["radar"]) == 9


def test_mirror_missing_inputs_are_neutral_and_weights_configurable():
    empty = mirror_model.score(mirror_model.MirrorInputs())
    # no history/ratings -> 50, but zero new customers and products score 0: (30*50 + 20*50) / 100
    assert empty["challenge_power"]["score"] == pytest.approx(25.0)
    assert empty["combat_power"]["score"] == pytest.approx(50.0)
    weights = mirror_model.merged(
        mirror_model.validate_overrides({"challenge_power": {"new_customers": 0, "new_products": 0}})
    )
    assert mirror_model.score(mirror_model.MirrorInputs(), weights)["challenge_power"]["score"] == 50.0
    with pytest.raises(Problem):
        mirror_model.validate_overrides(
            {"combat_power": {k: 0 for k in mirror_model.DEFAULT_WEIGHTS["combat_power"]}}
        )
    with pytest.raises(Problem):
        mirror_model.validate_overrides({"combat_power": {"charm": 10}})


# --- the monthly cycle, end to end ------------------------------------------------------------------


@pytest.fixture
def team_setup(db_session, data_key):
    lead = factories.make_user(db_session, role=Role.team_lead, persona=None)
    team = factories.make_team(db_session, lead=lead)
    a = factories.make_user(db_session, team=team, display_name="甲经理")
    b = factories.make_user(db_session, team=team, display_name="乙经理")
    month = current_month()
    start = month_start(month)
    hard = factories.make_customer(
        db_session, owner=a, data_key=data_key, ownership="central_soe", size="large"
    )
    easy = factories.make_customer(db_session, owner=a, data_key=data_key, ownership="private", size="small")
    others = [factories.make_customer(db_session, owner=a, data_key=data_key) for _ in range(3)]
    p1 = Product(
        code=factories.unique("P")[:16], name="供应链融资", category="loan", segment="corporate", terms="1年"
    )
    p2 = Product(
        code=factories.unique("P")[:16], name="单位定期", category="deposit", segment="corporate", terms="3月"
    )
    db_session.add_all([p1, p2])
    db_session.commit()
    db_session.add(
        PerformanceTarget(
            rm_id=a.id,
            month=month,
            revenue_target_cents=1_200_000,
            new_business_target_cents=1,
            new_customers_target=4,
        )
    )
    db_session.add(
        PerformanceTarget(
            rm_id=a.id,
            month=shift_month(month, -1),
            revenue_target_cents=1_000_000,
            new_business_target_cents=1,
            new_customers_target=4,
        )
    )

    def entry(rm, month_key, kind, amount, customer=None, product=None):
        db_session.add(
            PerformanceEntry(
                rm_id=rm.id,
                booked_on=month_start(month_key),
                kind=kind,
                amount_cents=amount,
                customer_id=customer.id if customer else None,
                product_id=product.id if product else None,
            )
        )

    entry(a, month, "revenue", 800_000)
    entry(a, month, "shared_credit", 100_000)
    for n, amount in ((1, 1_000_000), (2, 800_000), (3, 1_200_000)):
        entry(a, shift_month(month, -n), "revenue", amount)
    entry(a, shift_month(month, -1), "new_business", 50_000, easy, p2)
    entry(a, month, "new_customer", 0, hard)
    entry(a, month, "new_customer", 0, easy)
    entry(a, month, "new_business", 300_000, hard, p1)
    entry(a, month, "new_business", 700_000, easy, p2)
    entry(b, month, "revenue", 300_000)
    now = utcnow()
    for c in [hard, easy, *others]:
        db_session.add(
            CustomerVisit(customer_id=c.id, rm_id=a.id, channel="visit", occurred_at=now, outcome="拜访")
        )
    db_session.commit()
    assert start <= date.today()
    return {"lead": lead, "a": a, "b": b, "hard": hard, "easy": easy, "month": month}


def test_mirror_cycle_matches_the_hand_computed_example(db_session, login, client, team_setup):
    a, b, lead = team_setup["a"], team_setup["b"], team_setup["lead"]
    api_a, api_b, api_lead = login(a), login(b), login(lead)
    assert {p["rm_id"] for p in api_b.get("/api/v1/mirror/pending").get_json()["items"]} == {a.id, b.id}
    assert (
        api_a.post("/api/v1/mirror/evaluations", json={"rm_id": a.id, "scores": _all(5)}).status_code == 201
    )
    assert (
        api_b.post("/api/v1/mirror/evaluations", json={"rm_id": a.id, "scores": _all(3)}).status_code == 201
    )
    assert (
        api_b.post("/api/v1/mirror/evaluations", json={"rm_id": a.id, "scores": _all(3)}).status_code == 409
    )
    assert (
        api_lead.post("/api/v1/mirror/evaluations", json={"rm_id": a.id, "scores": _all(3)}).status_code
        == 201
    )
    outsider = login(factories.make_user(db_session))
    assert (
        outsider.post("/api/v1/mirror/evaluations", json={"rm_id": a.id, "scores": _all(1)}).status_code
        == 404
    )
    bad = api_b.post("/api/v1/mirror/evaluations", json={"rm_id": b.id, "scores": {"professional": 9}})
    assert bad.status_code == 422
    for stars in (5, 4):
        link = api_a.post(
            "/api/v1/mirror/rating-links", json={"customer_id": team_setup["hard"].id}
        ).get_json()
        assert link["url"].endswith("/r/" + link["token"]) and link["qr_svg"].startswith("<svg")
        response = client.post(f"/api/v1/public/ratings/{link['token']}", json={"scores": _all(stars)})
        assert response.status_code == 201
    portrait = api_a.get("/api/v1/mirror").get_json()
    assert portrait["challenge_power"]["score"] == pytest.approx(54.1)
    assert portrait["combat_power"]["score"] == pytest.approx(67.875, abs=0.05)
    assert portrait["percentile"] == {"challenge_power": 75.0, "combat_power": 75.0, "team_size": 2}
    assert portrait["evaluations"]["customer"]["count"] == 2
    assert portrait["self_vs_others"] == pytest.approx(5 - (4.5 * 2 + 3 + 3) / 4)
    assert [t["month"] for t in portrait["trend"]][-1] == team_setup["month"] and len(portrait["trend"]) == 6
    # B: no target, no new business: challenge (30*50 + 20*50)/100 = 25; combat revenue 0.5x median -> 25
    b_view = api_lead.get(f"/api/v1/mirror?rm_id={b.id}").get_json()
    assert b_view["challenge_power"]["score"] == 25.0 and b_view["combat_power"]["score"] == pytest.approx(
        43.75, abs=0.05
    )
    assert api_b.get(f"/api/v1/mirror?rm_id={a.id}").status_code == 404  # a colleague cannot read A's mirror


def test_rating_link_is_public_single_use_expiring_and_reads_nothing_else(
    db_session, data_key, login, client, app
):
    rm = factories.make_user(db_session, display_name="丙经理")
    customer = factories.make_customer(
        db_session, owner=rm, data_key=data_key, name=factories.unique("保密客户")
    )
    link = login(rm).post("/api/v1/mirror/rating-links", json={"customer_id": customer.id}).get_json()
    anonymous = app.test_client()
    form = anonymous.get(f"/api/v1/public/ratings/{link['token']}")
    assert form.status_code == 200 and form.headers["Cache-Control"] == "no-store"
    assert set(form.get_json()) == {"rm_display_name", "month", "criteria", "expires_at"}
    assert form.get_json()["rm_display_name"] == "丙经理" and customer.name not in form.get_data(as_text=True)
    # The token opens nothing else: no session, so every other API call is refused.
    for path in (
        f"/api/v1/customers/{customer.id}",
        f"/api/v1/customers/{customer.id}/360",
        "/api/v1/mirror",
        f"/api/v1/knowledge/customers/{customer.id}",
        "/api/v1/home",
    ):
        assert anonymous.get(path, headers={"Authorization": f"Bearer {link['token']}"}).status_code == 401
        assert anonymous.get(path + f"?token={link['token']}").status_code == 401
    assert anonymous.get(f"/api/v1/public/ratings/{link['token']}x").status_code == 404
    assert anonymous.get(f"/r/{link['token']}").status_code == 200  # the page the QR code opens
    assert (
        anonymous.post(f"/api/v1/public/ratings/{link['token']}", json={"scores": {"x": 1}}).status_code
        == 422
    )
    assert (
        anonymous.post(f"/api/v1/public/ratings/{link['token']}", json={"scores": _all(4)}).status_code == 201
    )
    again = anonymous.post(f"/api/v1/public/ratings/{link['token']}", json={"scores": _all(1)})
    assert (
        again.status_code == 410
        and anonymous.get(f"/api/v1/public/ratings/{link['token']}").status_code == 410
    )
    other = login(factories.make_user(db_session))
    assert other.post("/api/v1/mirror/rating-links", json={"customer_id": customer.id}).status_code == 404
    expired = login(rm).post("/api/v1/mirror/rating-links", json={"customer_id": customer.id}).get_json()
    row = db_session.get(MirrorRatingLink, expired["id"])
    row.expires_at = utcnow() - timedelta(seconds=1)
    db_session.add(row)
    db_session.commit()
    assert (
        anonymous.post(f"/api/v1/public/ratings/{expired['token']}", json={"scores": _all(5)}).status_code
        == 410
    )


def test_rating_link_concurrent_submissions_one_wins(app, db_session, data_key, login):
    rm = factories.make_user(db_session)
    customer = factories.make_customer(db_session, owner=rm, data_key=data_key)
    token = (
        login(rm).post("/api/v1/mirror/rating-links", json={"customer_id": customer.id}).get_json()["token"]
    )
    results: list[int] = []
    barrier = threading.Barrier(4)

    def submit():
        client = app.test_client()
        barrier.wait()
        results.append(client.post(f"/api/v1/public/ratings/{token}", json={"scores": _all(5)}).status_code)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 410, 410, 410]


# --- performance and customer mix --------------------------------------------------------------------


def test_performance_and_mix(login, team_setup, db_session, data_key):
    a = team_setup["a"]
    for gender in ("F", "F", "M"):
        factories.make_customer(
            db_session, owner=a, kind=CustomerKind.individual, data_key=data_key, gender=gender
        )
    body = login(a).get("/api/v1/performance").get_json()
    assert body["revenue"] == {
        "target_cents": 1_200_000,
        "achieved_cents": 900_000,
        "shared_credit_cents": 100_000,
        "completion": 0.75,
    }
    assert body["customers"] == {"new": 2, "existing": 8}
    assert body["business"]["new_cents"] == 1_000_000
    assert body["team_rank"] == {"rank": 1, "team_size": 2}
    assert body["trend"][-1]["revenue_cents"] == 900_000 and len(body["trend"]) == 6
    month = team_setup["month"]
    same_year = [shift_month(month, -n) for n in range(4) if shift_month(month, -n)[:4] == month[:4]]
    expected = {0: 900_000, 1: 1_000_000, 2: 800_000, 3: 1_200_000}
    assert body["annual"]["achieved_cents"] == sum(expected[n] for n in range(len(same_year)))
    mix = login(a).get("/api/v1/customer-mix").get_json()
    gender = next(d for d in mix["dimensions"] if d["dimension"] == "gender")
    female = next(i for i in gender["items"] if i["value"] == "F")
    assert female["customers"] == 2 and female["share"] == pytest.approx(2 / 3, abs=1e-4)
    assert mix["central_soe_share"]["share"] == pytest.approx(1 / 5)  # 1 of A's 5 corporate customers
    assert mix["team_size"] == 2
    # segments need 3+ customers: A's 5 corporate manufacturing mass customers, 2 with new business
    assert mix["best_segments"][0]["customers"] >= 3


# --- sellable products --------------------------------------------------------------------------------


def test_sellable_products_by_qualification_branch_and_fit(db_session, data_key, login):
    branch = factories.make_branch(db_session)
    qualified = factories.make_user(db_session, branch=branch, qualifications=["fund_sales"])
    plain = factories.make_user(db_session, branch=branch)
    fund = Product(
        code=factories.unique("F")[:16],
        name="稳健基金",
        category="fund",
        segment="individual",
        terms="开放式",
        required_qualification="fund_sales",
        selling_points=["稳", "准", "快", "多余"],
        advantages=[f"优势{n}" for n in range(25)],
        target_profile="中高端个人客户",
    )
    elsewhere = Product(
        code=factories.unique("E")[:16], name="他行专属", category="loan", segment="corporate", terms="-"
    )
    db_session.add_all([fund, elsewhere])
    db_session.commit()
    db_session.add(ProductFit(product_id=fund.id, tiers=["vip", "high"]))
    db_session.add(
        ProductCase(
            product_id=fund.id,
            customer_label="某私营企业主(50岁)",
            story="配置后年化稳定",
            result="AUM +200万",
        )
    )
    db_session.add(ProductBranch(product_id=elsewhere.id, branch_id=factories.make_branch(db_session).id))
    fits = factories.make_customer(
        db_session, owner=qualified, kind=CustomerKind.individual, data_key=data_key, tier="vip"
    )
    holds = factories.make_customer(
        db_session, owner=qualified, kind=CustomerKind.individual, data_key=data_key, tier="high"
    )
    factories.make_customer(
        db_session, owner=qualified, kind=CustomerKind.individual, data_key=data_key, tier="mass"
    )
    db_session.add(Holding(customer_id=holds.id, product_id=fund.id, balance_cents=1, opened_on=date.today()))
    db_session.commit()
    mine = {p["id"]: p for p in login(qualified).get("/api/v1/products/sellable").get_json()["items"]}
    assert fund.id in mine and elsewhere.id not in mine
    assert mine[fund.id]["selling_points"] == ["稳", "准", "快"] and len(mine[fund.id]["advantages"]) == 20
    assert mine[fund.id]["fitting_customers"] == 1
    detail = login(qualified).get(f"/api/v1/products/sellable/{fund.id}").get_json()
    assert [c["id"] for c in detail["customers"]] == [fits.id]
    assert detail["cases"][0]["customer_label"] == "某私营企业主(50岁)"
    assert fund.id not in {p["id"] for p in login(plain).get("/api/v1/products/sellable").get_json()["items"]}
    assert login(plain).get(f"/api/v1/products/sellable/{fund.id}").status_code == 404


# --- resources ------------------------------------------------------------------------------------------


def test_booking_has_no_double_booking_under_concurrency(app, db_session, login):
    branch = factories.make_branch(db_session)
    users = [factories.make_user(db_session, branch=branch) for _ in range(4)]
    room = Resource(kind="meeting_room", name="3楼洽谈室", branch_id=branch.id, detail={"seats": 8})
    budget = Resource(kind="gift_budget", name="营销礼品额度", branch_id=branch.id, amount_cents=100_000)
    db_session.add_all([room, budget])
    db_session.commit()
    start = utcnow().replace(microsecond=0) + timedelta(days=1)
    outcomes: list[str] = []
    barrier = threading.Barrier(len(users))

    def book(user, resource, **kw):
        with Session(db.engine_for(app), expire_on_commit=False) as session:
            barrier.wait()
            try:
                resources.book(
                    session,
                    user=user,
                    resource_id=resource.id,
                    purpose="客户洽谈",
                    customer_id=None,
                    ip=None,
                    **kw,
                )
                outcomes.append("ok")
            except Problem as problem:
                outcomes.append(problem.code)

    def run(resource, **kw):
        outcomes.clear()
        threads = [threading.Thread(target=book, args=(u, resource), kwargs=kw) for u in users]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sorted(outcomes)

    assert run(room, starts_at=start, ends_at=start + timedelta(hours=1), amount_cents=None) == [
        "ok",
        "slot-taken",
        "slot-taken",
        "slot-taken",
    ]
    assert run(budget, starts_at=start, ends_at=None, amount_cents=40_000) == [
        "insufficient",
        "insufficient",
        "ok",
        "ok",
    ]
    api = login(users[0])
    listing = api.get("/api/v1/resources").get_json()
    room_row = next(r for r in listing["office"] if r["id"] == room.id)
    assert len(room_row["upcoming"]) == 1
    assert next(r for r in listing["office"] if r["id"] == budget.id)["remaining_cents"] == 20_000
    adjacent = api.post(
        f"/api/v1/resources/{room.id}/bookings",
        json={
            "starts_at": (start + timedelta(hours=1)).isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
            "purpose": "紧接着的会议",
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert adjacent.status_code == 201  # touching slots do not overlap
    overlap = api.post(
        f"/api/v1/resources/{room.id}/bookings",
        json={
            "starts_at": (start + timedelta(minutes=90)).isoformat(),
            "ends_at": (start + timedelta(hours=3)).isoformat(),
            "purpose": "冲突",
        },
    )
    assert overlap.status_code == 409 and overlap.get_json()["code"] == "slot-taken"
    assert api.delete(f"/api/v1/resources/bookings/{adjacent.get_json()['id']}").status_code == 200
    assert (
        api.post(
            f"/api/v1/resources/{room.id}/bookings",
            json={
                "starts_at": (start + timedelta(minutes=90)).isoformat(),
                "ends_at": (start + timedelta(hours=3)).isoformat(),
                "purpose": "取消后可订",
            },
        ).status_code
        == 201
    )
    assert listing["tools"]["calculators"] == ["loan", "deposit", "fx"]
    outsider = login(factories.make_user(db_session))  # another branch
    assert (
        outsider.post(
            f"/api/v1/resources/{room.id}/bookings",
            json={
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=1)).isoformat(),
                "purpose": "x",
            },
        ).status_code
        == 404
    )


# --- home per persona --------------------------------------------------------------------------------


def test_home_cards_follow_the_persona(db_session, data_key, login):
    lead = factories.make_user(db_session, role=Role.team_lead, persona=None)
    team = factories.make_team(db_session, lead=lead)
    mentor = factories.make_user(db_session, team=team, persona=Persona.excellent, display_name="导师")
    newcomer = factories.make_user(db_session, team=team, persona=Persona.newcomer)
    veteran = factories.make_user(db_session, team=team, persona=Persona.veteran, display_name="老王")
    general = factories.make_user(db_session, team=team, persona=Persona.general)
    superstar = factories.make_user(db_session, team=team, persona=Persona.super)
    factories.make_customer(db_session, owner=veteran, data_key=data_key, tier="vip")
    neglected = factories.make_customer(db_session, owner=mentor, data_key=data_key, tier="vip")
    visited = factories.make_customer(db_session, owner=mentor, data_key=data_key, tier="vip")
    db_session.add(
        CustomerVisit(
            customer_id=visited.id,
            rm_id=mentor.id,
            channel="call",
            occurred_at=utcnow(),
            outcome="电话",
            next_step="回访报价",
            next_step_at=utcnow(),
        )
    )
    db_session.commit()
    # the newcomer joined a month ago; the mentor comes from the pairing (server/personas)
    db_session.get(RmProfile, newcomer.id).hire_date = utcnow().date() - timedelta(days=30)
    mentoring.pair_newcomers(db_session, today=utcnow().date())
    db_session.commit()

    def cards(user):
        body = login(user).get("/api/v1/home").get_json()
        return body["persona"], {c["type"]: c for c in body["cards"]}

    persona, c = cards(newcomer)
    assert persona == "newcomer" and {"summary", "persona", "learning", "mentor"} <= set(c)
    assert c["mentor"]["mentor"]["display_name"] == "导师"
    persona, c = cards(mentor)
    assert [m["id"] for m in c["mentees"]["items"]] == [newcomer.id]
    persona, c = cards(general)
    assert persona == "general" and "opportunities" in c
    persona, c = cards(mentor)
    assert persona == "excellent" and [i["id"] for i in c["neglected"]["items"]] == [neglected.id]
    assert any("回访报价" in i["title"] for i in c["reminders"]["items"])
    persona, c = cards(superstar)
    assert persona == "super" and any(t["code"] == "loan_calculator" for t in c["tools"]["items"])
    persona, c = cards(lead)
    assert persona == "team_lead"
    prompt = c["oversight"]["items"][0]
    assert (
        prompt["display_name"] == "老王"
        and prompt["silent_top_customers"] == 1
        and "老王" in prompt["prompt"]
    )


def test_workbench_demo_seed_is_idempotent(db_session, data_key):
    from server.demo.workbench import seed_workbench_demo

    branch = factories.make_branch(db_session)
    factories.make_user(db_session, branch=branch, persona=Persona.super)
    product = Product(
        code=factories.unique("D")[:16], name="演示贷款", category="loan", segment="corporate", terms="1年"
    )
    db_session.add(product)
    db_session.commit()
    first = seed_workbench_demo(db_session)
    assert first["resources"] >= 7 and first["product_fits"] >= 1
    kinds = {r.kind for r in db_session.exec(select(Resource).where(Resource.branch_id == branch.id))}
    assert kinds == {"meeting_room", "car", "gift_budget", "product_quota", "pricing_authority", "expert"}
    assert db_session.get(ProductFit, product.id).kinds == ["corporate"]
    assert seed_workbench_demo(db_session) == {"resources": 0, "product_fits": 0, "product_cases": 0}
