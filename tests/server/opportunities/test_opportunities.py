"""The opportunity pool's rules through the real API and services, on the test database."""

from __future__ import annotations

import base64
import io
from datetime import date, timedelta

import pytest
from sqlmodel import Session, col, select

from server.audit.models import AuditEntry
from server.customers.models import CustomerGrant
from server.errors import Problem
from server.inbox.models import Notification
from server.opportunities.benefits import split_cents
from server.opportunities.claims import claim
from server.opportunities.desk import reassign
from server.opportunities.lifecycle import close, create_opportunity
from server.opportunities.models import ClaimPolicy, FeedEvent, Opportunity, OpportunityTransition
from server.opportunities.policy import OPEN
from server.org.models import Persona, Role
from server.performance.models import PerformanceEntry, PerformanceTarget
from server.timeutil import month_key, utcnow
from tests import factories


@pytest.fixture
def pool(db_session, data_key, policy):
    """A branch with a team: originator A, RMs B (general) and C (excellent), a lead; an RM in
    another branch. No priority window unless a test sets one."""
    policy(priority_window_minutes=0, max_open_claims=5, require_qualification=True)
    branch = factories.make_branch(db_session)
    team = factories.make_team(db_session, branch=branch)
    a = factories.make_user(db_session, branch=branch, team=team, display_name="甲")
    b = factories.make_user(
        db_session, branch=branch, team=team, display_name="乙", qualifications=["fund_sales"]
    )
    c = factories.make_user(
        db_session, branch=branch, team=team, display_name="丙", persona=Persona.excellent
    )
    other = factories.make_user(db_session, display_name="外行")
    lead = db_session.get(factories.User, team.lead_id)
    customer = factories.make_customer(db_session, owner=a, data_key=data_key, size="medium")
    return type(
        "Pool", (), dict(branch=branch, team=team, a=a, b=b, c=c, other=other, lead=lead, customer=customer)
    )


def share(api, **fields):
    body = {
        "title": "扩产需要流动资金贷款",
        "prospect_name": "测试潜客有限公司",
        "region_code": "310000",
        "industry_code": "C36",
        "size": "medium",
        "estimated_amount_cents": 5_000_000_00,
    }
    body.update(fields)
    response = api.post("/api/v1/opportunities", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_share_in_one_call_records_transitions_and_reaches_the_right_pool(login, pool, db_session):
    card = share(
        login(pool.a), customer_id=pool.customer.id, prospect_name=None, source="war_room", source_ref="wr:9"
    )
    assert card["status"] == "shared" and card["customer"]["id"] == pool.customer.id
    assert [(t["from"], t["to"]) for t in card["transitions"]] == [(None, "draft"), ("draft", "shared")]
    feed_b = login(pool.b).get("/api/v1/opportunities/feed").get_json()
    assert card["id"] in [i["id"] for i in feed_b["items"]]
    assert card["id"] not in [
        i["id"] for i in login(pool.other).get("/api/v1/opportunities/feed").get_json()["items"]
    ]
    # the originator does not see their own in their feed, and others' customers stay hidden
    assert card["id"] not in [
        i["id"] for i in login(pool.a).get("/api/v1/opportunities/feed").get_json()["items"]
    ]
    assert login(pool.other).get(f"/api/v1/opportunities/{card['id']}").status_code == 404
    assert (
        db_session.exec(select(FeedEvent).where(FeedEvent.opportunity_id == card["id"])).one().kind
        == "shared"
    )


def test_draft_then_share_and_bad_input_is_problem_details(login, pool):
    api = login(pool.a)
    draft = share(api, share=False)
    assert draft["status"] == "draft"
    assert login(pool.b).get(f"/api/v1/opportunities/{draft['id']}").status_code == 404
    shared = api.post(f"/api/v1/opportunities/{draft['id']}/share", json={"visibility": "team"}).get_json()
    assert shared["status"] == "shared" and shared["visibility"] == "team"
    bad = api.post("/api/v1/opportunities", json={"title": "x"})
    assert bad.status_code == 422 and bad.get_json()["code"] == "validation"
    bad = api.post(
        "/api/v1/opportunities", json={"title": "x", "prospect_name": "y", "region_code": "999999"}
    )
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "region_code"
    assert (
        login(pool.other)
        .post("/api/v1/opportunities", json={"title": "x", "customer_id": pool.customer.id})
        .status_code
        == 404
    )


def test_claim_gives_one_winner_a_customer_grant_and_an_audit_trail(login, pool, db_session):
    card = share(login(pool.a), customer_id=pool.customer.id, prospect_name=None)
    won = login(pool.b).post(f"/api/v1/opportunities/{card['id']}/claim")
    assert won.status_code == 200 and won.get_json()["owner"]["id"] == pool.b.id
    assert won.get_json()["split"] == {"originator_bp": 3000, "closer_bp": 7000}
    lost = login(pool.c).post(f"/api/v1/opportunities/{card['id']}/claim")
    assert lost.status_code == 409
    assert lost.get_json()["code"] == "already-claimed" and lost.get_json()["winner"]["display_name"] == "乙"
    grant = db_session.exec(
        select(CustomerGrant).where(
            CustomerGrant.source_type == "opportunity", CustomerGrant.source_id == card["id"]
        )
    ).one()
    assert grant.user_id == pool.b.id and grant.revoked_at is None
    # the claimer now reads the customer through the grant
    assert login(pool.b).get(f"/api/v1/customers/{pool.customer.id}").status_code == 200
    actions = db_session.exec(
        select(AuditEntry.action).where(AuditEntry.actor_id == pool.b.id).order_by(col(AuditEntry.id))
    ).all()
    assert "opportunity.claim" in actions and "customer.grant" in actions
    assert (
        login(pool.a).post(f"/api/v1/opportunities/{share(login(pool.a))['id']}/claim").get_json()["code"]
        == "own-opportunity"
    )


def test_qualification_cap_and_visibility_rules(login, pool, db_session, policy):
    fund = factories.make_product(db_session, qualification="fund_sales")
    card = share(login(pool.a), product_id=fund.id)
    assert card["id"] not in [
        i["id"] for i in login(pool.c).get("/api/v1/opportunities/feed").get_json()["items"]
    ]
    refused = login(pool.c).post(f"/api/v1/opportunities/{card['id']}/claim")
    assert refused.status_code == 403 and refused.get_json()["code"] == "not-qualified"
    assert login(pool.other).post(f"/api/v1/opportunities/{card['id']}/claim").status_code == 404
    assert login(pool.b).post(f"/api/v1/opportunities/{card['id']}/claim").status_code == 200

    policy(max_open_claims=2)
    api_a, api_c = login(pool.a), login(pool.c)
    ids = [share(api_a)["id"] for _ in range(3)]
    assert [api_c.post(f"/api/v1/opportunities/{i}/claim").status_code for i in ids[:2]] == [200, 200]
    capped = api_c.post(f"/api/v1/opportunities/{ids[2]}/claim")
    assert capped.status_code == 403 and capped.get_json()["code"] == "claim-cap"
    team_only = share(api_a, visibility="team")
    outsider = factories.make_user(db_session, branch=pool.branch)  # same branch, other team
    assert login(outsider).post(f"/api/v1/opportunities/{team_only['id']}/claim").status_code == 404


def test_priority_window_favours_general_persona_and_rms_short_of_target(pool, db_session, policy):
    policy(priority_window_minutes=30)
    opp = create_opportunity(db_session, user=pool.a, data=factories.opportunity_data(), ip=None)
    now = opp.shared_at + timedelta(minutes=5)
    with pytest.raises(Problem) as refused:
        claim(db_session, user=pool.c, opportunity_id=opp.id, ip=None, now=now)
    assert refused.value.code == "priority-window"
    # an excellent RM who is behind this month's target may claim early
    db_session.add(
        PerformanceTarget(
            rm_id=pool.c.id,
            month=month_key(now.date()),
            revenue_target_cents=100_000_00,
            new_business_target_cents=0,
            new_customers_target=0,
        )
    )
    db_session.commit()
    assert claim(db_session, user=pool.c, opportunity_id=opp.id, ip=None, now=now).owner_id == pool.c.id
    # ... and once the window has passed anyone eligible may claim
    late = create_opportunity(db_session, user=pool.a, data=factories.opportunity_data(), ip=None)
    veteran = factories.make_user(db_session, branch=pool.branch, persona=Persona.veteran)
    with pytest.raises(Problem):
        claim(db_session, user=veteran, opportunity_id=late.id, ip=None, now=late.shared_at)
    after = late.shared_at + timedelta(minutes=31)
    assert claim(db_session, user=veteran, opportunity_id=late.id, ip=None, now=after).status == "claimed"


def test_won_credits_both_rms_to_exactly_the_revenue_and_lead_adjusts(login, pool, db_session):
    card = share(login(pool.a))
    api_b = login(pool.b)
    api_b.post(f"/api/v1/opportunities/{card['id']}/claim")
    assert api_b.post(f"/api/v1/opportunities/{card['id']}/close", json={"outcome": "won"}).status_code == 422
    closed = api_b.post(
        f"/api/v1/opportunities/{card['id']}/close",
        json={"outcome": "won", "amount_cents": 3_000_000_00, "revenue_cents": 1_234_57},
    )
    assert closed.status_code == 200 and closed.get_json()["status"] == "won"
    entries = db_session.exec(
        select(PerformanceEntry).where(PerformanceEntry.source_ref.like(f"opportunity:{card['id']}:%"))
    ).all()
    by_rm = {e.rm_id: e.amount_cents for e in entries}
    assert by_rm == {pool.a.id: 37037, pool.b.id: 86420} and sum(by_rm.values()) == 123457
    assert all(e.kind == "shared_credit" and e.source == "opportunity" for e in entries)

    assert (
        login(pool.b)
        .post(
            f"/api/v1/opportunities/{card['id']}/benefit-adjustments",
            json={"originator_share_bp": 5000, "reason": "提供人协助了谈判"},
        )
        .status_code
        == 403
    )
    adjusted = login(pool.lead).post(
        f"/api/v1/opportunities/{card['id']}/benefit-adjustments",
        json={"originator_share_bp": 5000, "reason": "提供人协助了谈判"},
    )
    assert adjusted.status_code == 201, adjusted.get_json()
    assert adjusted.get_json()["to_originator_cents"] == 61729  # half of 123457, rounded half up
    entries = db_session.exec(
        select(PerformanceEntry).where(PerformanceEntry.source_ref.like(f"opportunity:{card['id']}:%"))
    ).all()
    assert len(entries) == 4  # two originals kept, two offsetting entries added
    totals: dict[int, int] = {}
    for e in entries:
        totals[e.rm_id] = totals.get(e.rm_id, 0) + e.amount_cents
    assert totals == {pool.a.id: 61729, pool.b.id: 61728} and sum(totals.values()) == 123457
    audit = db_session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "opportunity.benefit_adjust", AuditEntry.object_id == str(card["id"])
        )
    ).one()
    assert audit.actor_id == pool.lead.id and audit.detail["reason"] == "提供人协助了谈判"
    statement = login(pool.a).get("/api/v1/opportunities/benefits").get_json()
    assert statement["total_cents"] == 61729
    assert {i["role"] for i in statement["items"]} == {"originator", "adjustment"}
    assert (
        login(pool.lead).get(f"/api/v1/opportunities/benefits?rm_id={pool.b.id}").get_json()["total_cents"]
        == 61728
    )
    assert login(pool.c).get(f"/api/v1/opportunities/benefits?rm_id={pool.b.id}").status_code == 404


@pytest.mark.parametrize("revenue,bp", [(1, 3000), (99, 3333), (10_000_001, 7), (5, 5000), (0, 3000)])
def test_split_always_sums_to_the_revenue(revenue, bp):
    originator, closer = split_cents(revenue, bp)
    assert originator + closer == revenue and originator >= 0 and closer >= 0


def test_lead_reassigns_and_transfers_with_reasons_audited(login, pool, db_session):
    card = share(login(pool.a), customer_id=pool.customer.id, prospect_name=None)
    lead = login(pool.lead)
    assert (
        login(pool.c)
        .post(f"/api/v1/opportunities/{card['id']}/reassign", json={"rm_id": pool.c.id, "reason": "就近"})
        .status_code
        == 403
    )
    moved = lead.post(
        f"/api/v1/opportunities/{card['id']}/reassign", json={"rm_id": pool.c.id, "reason": "丙熟悉该客户"}
    )
    assert moved.status_code == 200 and moved.get_json()["owner"]["id"] == pool.c.id
    again = lead.post(
        f"/api/v1/opportunities/{card['id']}/reassign", json={"rm_id": pool.b.id, "reason": "丙休假"}
    )
    assert again.get_json()["owner"]["id"] == pool.b.id
    grants = db_session.exec(
        select(CustomerGrant).where(
            CustomerGrant.source_type == "opportunity", CustomerGrant.source_id == card["id"]
        )
    ).all()
    assert {(g.user_id, g.revoked_at is None) for g in grants} == {(pool.c.id, False), (pool.b.id, True)}
    reasons = [t["reason"] for t in lead.get(f"/api/v1/opportunities/{card['id']}").get_json()["transitions"]]
    assert "reassigned: 丙熟悉该客户" in reasons and "reassigned: 丙休假" in reasons
    assert (
        db_session.exec(
            select(AuditEntry).where(
                AuditEntry.action == "opportunity.reassign", AuditEntry.object_id == str(card["id"])
            )
        )
        .all()
        .__len__()
        == 2
    )
    pooled = share(login(pool.a), visibility="team")
    moved = lead.post(
        f"/api/v1/opportunities/{pooled['id']}/transfer",
        json={"visibility": "bank", "reason": "团队无人跟进"},
    )
    assert moved.status_code == 200 and moved.get_json()["visibility"] == "bank"
    assert pooled["id"] in [
        i["id"] for i in login(pool.other).get("/api/v1/opportunities/feed").get_json()["items"]
    ]
    kinds = db_session.exec(
        select(FeedEvent.kind).where(FeedEvent.opportunity_id == pooled["id"]).order_by(col(FeedEvent.seq))
    ).all()
    assert kinds == ["shared", "withdrawn", "shared"]


def test_lead_reassign_keeps_the_claim_rules_unless_a_cap_override_is_given_and_audited(
    login, pool, db_session, policy
):
    policy(max_open_claims=1)
    lead, api_a = login(pool.lead), login(pool.a)
    fund = factories.make_product(db_session, qualification="fund_sales")
    licensed = share(api_a, product_id=fund.id)
    # a qualification is a licence: no reason lets an unqualified RM hold the product
    refused = lead.post(
        f"/api/v1/opportunities/{licensed['id']}/reassign",
        json={"rm_id": pool.c.id, "reason": "丙有空", "cap_override_reason": "急需跟进"},
    )
    assert refused.status_code == 403 and refused.get_json()["code"] == "not-qualified"

    held = share(api_a)
    assert login(pool.c).post(f"/api/v1/opportunities/{held['id']}/claim").status_code == 200  # 丙 at the cap
    card = share(api_a)
    listed = {
        i["id"]: i for i in lead.get(f"/api/v1/opportunities/{card['id']}/assignees").get_json()["items"]
    }
    assert pool.a.id not in listed  # the originator never holds their own
    assert listed[pool.c.id]["at_cap"] is True and listed[pool.c.id]["qualified"] is True
    assert listed[pool.c.id]["open_claims"] == 1 and listed[pool.b.id]["at_cap"] is False
    assert login(pool.b).get(f"/api/v1/opportunities/{card['id']}/assignees").get_json()["code"] == "not-lead"

    capped = lead.post(
        f"/api/v1/opportunities/{card['id']}/reassign", json={"rm_id": pool.c.id, "reason": "丙熟悉该客户"}
    )
    assert capped.status_code == 403
    assert capped.get_json()["code"] == "claim-cap" and capped.get_json()["open_claims"] == 1
    db_session.expire_all()
    assert db_session.get(Opportunity, card["id"]).owner_id is None
    audits = select(AuditEntry).where(
        AuditEntry.action == "opportunity.reassign", AuditEntry.object_id == str(card["id"])
    )
    assert db_session.exec(audits).all() == []

    moved = lead.post(
        f"/api/v1/opportunities/{card['id']}/reassign",
        json={"rm_id": pool.c.id, "reason": "丙熟悉该客户", "cap_override_reason": "客户只认丙"},
    )
    assert moved.status_code == 200 and moved.get_json()["owner"]["id"] == pool.c.id
    entry = db_session.exec(audits).one()
    assert entry.actor_id == pool.lead.id
    assert entry.detail["cap_override_reason"] == "客户只认丙" and entry.detail["open_claims"] == 1
    # under the cap an override reason changes nothing and is not recorded as an override
    back = lead.post(
        f"/api/v1/opportunities/{card['id']}/reassign",
        json={"rm_id": pool.b.id, "reason": "丙休假", "cap_override_reason": "以防万一"},
    )
    assert back.status_code == 200
    assert (
        db_session.exec(audits.order_by(col(AuditEntry.id).desc())).first().detail["cap_override_reason"]
        is None
    )

    # the lead's desk lists the team's opportunities; an RM has none, and only the lead may manage
    desk = [i["id"] for i in lead.get("/api/v1/opportunities/mine?role=team").get_json()["items"]]
    assert {card["id"], held["id"], licensed["id"]} <= set(desk)
    assert login(pool.b).get("/api/v1/opportunities/mine?role=team").status_code == 403
    assert lead.get(f"/api/v1/opportunities/{card['id']}").get_json()["can_manage"] is True
    assert login(pool.b).get(f"/api/v1/opportunities/{card['id']}").get_json()["can_manage"] is False


def test_a_reassign_racing_a_claim_cannot_push_an_rm_past_the_cap(app, pool, db_session, policy):
    """丙 claims one opportunity while the lead hands him another, cap 1: exactly one lands."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from server import db
    from server.errors import Problem
    from server.opportunities.schemas import ReassignRequest
    from server.org.models import User

    policy(max_open_claims=1)
    engine = db.engine_for(app)
    for _ in range(5):
        pooled = create_opportunity(db_session, user=pool.a, data=factories.opportunity_data(), ip=None).id
        handed = create_opportunity(db_session, user=pool.a, data=factories.opportunity_data(), ip=None).id
        barrier = threading.Barrier(2)

        def act(kind: str, pooled=pooled, handed=handed, barrier=barrier):
            with Session(engine, expire_on_commit=False) as session:
                actor = session.get(User, pool.c.id if kind == "claim" else pool.lead.id)
                session.expunge(actor)
            barrier.wait(timeout=60)
            with Session(engine, expire_on_commit=False) as session:
                try:
                    if kind == "claim":
                        claim(session, user=actor, opportunity_id=pooled, ip=None)
                    else:
                        data = ReassignRequest(rm_id=pool.c.id, reason="就近")
                        reassign(session, user=actor, opportunity_id=handed, data=data, ip=None)
                    return "ok"
                except Problem as problem:
                    return problem.code

        with ThreadPoolExecutor(2) as workers:
            results = sorted(workers.map(act, ["claim", "reassign"]))
        assert results.count("ok") == 1 and "claim-cap" in results, results
        db_session.expire_all()
        held = db_session.exec(
            select(Opportunity.id).where(Opportunity.owner_id == pool.c.id, col(Opportunity.status).in_(OPEN))
        ).all()
        assert len(held) == 1
        # free 丙 for the next round
        close(
            db_session,
            user=db_session.get(User, pool.c.id),
            opportunity_id=held[0],
            data=_close_lost(),
            ip=None,
        )


def _close_lost():
    from server.opportunities.schemas import CloseRequest

    return CloseRequest(outcome="lost", reason="测试")


def test_feed_is_ranked_by_fit_with_a_reason(login, pool, db_session, data_key):
    for _ in range(3):
        factories.make_customer(
            db_session, owner=pool.b, data_key=data_key, industry_code="C34", size="medium"
        )
    api_a = login(pool.a)
    fit = share(api_a, industry_code="C35", size="medium", title="专用设备厂扩产")
    other = share(api_a, industry_code="K70", size="large", region_code="110000", title="地产项目")
    items = login(pool.b).get("/api/v1/opportunities/feed").get_json()["items"]
    order = [i["id"] for i in items]
    assert order.index(fit["id"]) < order.index(other["id"])
    mine = next(i for i in items if i["id"] == fit["id"])
    assert mine["reason"] == "你擅长制造业中型企业"
    filtered = login(pool.b).get("/api/v1/opportunities/feed?industry=K").get_json()["items"]
    assert [i["id"] for i in filtered if i["id"] in (fit["id"], other["id"])] == [other["id"]]


def test_policy_is_admin_only_and_merges(login, db_session, policy):
    rm = factories.make_user(db_session)
    assert login(rm).put("/api/v1/opportunities/policy", json={"max_open_claims": 9}).status_code == 403
    admin = factories.make_user(db_session, role=Role.admin, persona=None)
    response = login(admin).put(
        "/api/v1/opportunities/policy",
        json={"max_open_claims": 9, "originator_share_bp": {"intel_alert": 1000}},
    )
    body = response.get_json()
    assert response.status_code == 200 and body["max_open_claims"] == 9
    assert (
        body["originator_share_bp"]["intel_alert"] == 1000
        and body["originator_share_bp"]["rm_referral"] == 3000
    )
    bad = login(admin).put("/api/v1/opportunities/policy", json={"recycle_days": {"gold": 3}})
    assert bad.status_code == 422
    row = db_session.get(ClaimPolicy, 1)
    db_session.refresh(row)
    row.originator_share_bp = {}
    db_session.add(row)
    db_session.commit()


def _csv(rows: list[str]) -> str:
    return base64.b64encode(("\n".join(rows) + "\n").encode("utf-8-sig")).decode()


def test_import_reports_row_errors_imports_nothing_and_never_twice(login, pool, db_session):
    fund = factories.make_product(db_session, qualification="fund_sales")
    api = login(pool.a)
    header = "标题,客户名称,地区代码,行业代码,产品代码,预计金额,预计日期,可见范围"
    rows = [
        header,
        f"代发工资,潜客甲,310000,C36,{fund.code},1200000.50,2027-01-31,branch",
        "缺名称,,310000,C36,,100,2027-01-31,branch",
        "坏金额,潜客乙,310000,C36,,12ab,2027-13-01,branch",
        "坏产品,潜客丙,999999,C36,NOPE,100,,bank",
    ]
    bad = api.post(
        "/api/v1/opportunities/import", json={"filename": "pool.csv", "content_base64": _csv(rows)}
    )
    assert bad.status_code == 422 and bad.get_json()["code"] == "import-invalid"
    errors = {(e["row"], e["field"]) for e in bad.get_json()["errors"]}
    assert {(4, "estimated_amount"), (4, "expected_date"), (5, "product_code"), (5, "region_code")} <= errors
    assert any(row == 3 for row, _ in errors) and not any(row == 2 for row, _ in errors)
    codes = {(e["row"], e["field"]): e["code"] for e in bad.get_json()["errors"]}
    assert codes[(4, "estimated_amount")] == "bad-estimated_amount"  # the PWA words each code
    assert (codes[(4, "expected_date")], codes[(5, "product_code")]) == (
        "bad-expected_date",
        "unknown-product",
    )
    before = db_session.exec(select(Opportunity.id).where(Opportunity.originator_id == pool.a.id)).all()
    assert before == []

    good = [
        header,
        rows[1],
        f"理财,潜客丁,310000,C36,,88,{(date.today() + timedelta(days=30)).isoformat()},team",
    ]
    payload = {"filename": "pool.csv", "content_base64": _csv(good)}
    assert (
        api.post("/api/v1/opportunities/import", json={**payload, "dry_run": True}).get_json()["created"] == 0
    )
    first = api.post("/api/v1/opportunities/import", json=payload)
    assert first.status_code == 201 and first.get_json()["created"] == 2
    again = api.post("/api/v1/opportunities/import", json=payload)
    assert (
        again.status_code == 200
        and again.get_json()["already_imported"] is True
        and again.get_json()["created"] == 0
    )
    created = db_session.exec(select(Opportunity).where(Opportunity.originator_id == pool.a.id)).all()
    assert len(created) == 2 and {o.source for o in created} == {"import"}
    assert {o.estimated_amount_cents for o in created} == {120000050, 8800}


def test_import_xlsx(login, pool, db_session):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(
        ["title", "prospect_name", "region_code", "industry_code", "estimated_amount", "expected_date"]
    )
    sheet.append(["设备按揭", "潜客戊", "310000", "C35", 50000, date.today() + timedelta(days=10)])
    sheet.append([None, "潜客己", "310000", "C35", 1, None])
    out = io.BytesIO()
    book.save(out)
    content = base64.b64encode(out.getvalue()).decode()
    api = login(pool.a)
    bad = api.post("/api/v1/opportunities/import", json={"filename": "p.xlsx", "content_base64": content})
    assert bad.status_code == 422 and {e["row"] for e in bad.get_json()["errors"]} == {3}
    sheet.delete_rows(3)
    out = io.BytesIO()
    book.save(out)
    content = base64.b64encode(out.getvalue()).decode()
    assert (
        api.post(
            "/api/v1/opportunities/import", json={"filename": "p.xlsx", "content_base64": content}
        ).status_code
        == 201
    )
    assert (
        api.post(
            "/api/v1/opportunities/import", json={"filename": "p.xlsx", "content_base64": "bm90IHppcA=="}
        ).status_code
        == 422
    )


def test_activity_moves_to_in_progress_and_lost_revokes_access(login, pool, db_session):
    card = share(login(pool.a), customer_id=pool.customer.id, prospect_name=None)
    api_b = login(pool.b)
    api_b.post(f"/api/v1/opportunities/{card['id']}/claim")
    assert (
        login(pool.c)
        .post(f"/api/v1/opportunities/{card['id']}/activities", json={"kind": "call"})
        .status_code
        == 403
    )
    logged = api_b.post(
        f"/api/v1/opportunities/{card['id']}/activities", json={"kind": "visit", "note": "见了财务总监"}
    )
    assert logged.status_code == 201 and logged.get_json()["status"] == "in_progress"
    assert logged.get_json()["activities"][0]["note"] == "见了财务总监"
    api_b.post(
        f"/api/v1/opportunities/{card['id']}/close", json={"outcome": "lost", "reason": "客户选了他行"}
    )
    assert api_b.get(f"/api/v1/customers/{pool.customer.id}").status_code == 404
    mine = api_b.get("/api/v1/opportunities/mine?role=owner").get_json()["items"]
    assert [i["status"] for i in mine if i["id"] == card["id"]] == ["lost"]
    shared = login(pool.a).get("/api/v1/opportunities/mine?role=originator").get_json()["items"]
    assert card["id"] in [i["id"] for i in shared]
    note = db_session.exec(select(Notification).where(Notification.user_id == pool.a.id)).all()
    assert any(n.title == "你共享的商机未成交" for n in note)


def test_transitions_are_complete(db_session, pool):
    opp = create_opportunity(db_session, user=pool.a, data=factories.opportunity_data(), ip=None)
    claim(db_session, user=pool.b, opportunity_id=opp.id, ip=None)
    rows = db_session.exec(
        select(OpportunityTransition)
        .where(OpportunityTransition.opportunity_id == opp.id)
        .order_by(col(OpportunityTransition.id))
    ).all()
    assert [(r.from_status, r.to_status, r.actor_id) for r in rows] == [
        (None, "draft", pool.a.id),
        ("draft", "shared", pool.a.id),
        ("shared", "claimed", pool.b.id),
    ]
    assert all(r.at is not None for r in rows)
    assert utcnow() - rows[-1].at < timedelta(minutes=1)
