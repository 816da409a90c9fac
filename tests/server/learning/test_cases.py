"""Case cards (经验资产) from a constructed history: won and lost opportunities, a won war room and a
visit sequence, anonymised and ranked for a newcomer."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from server.customers.models import CustomerVisit
from server.learning import cases
from server.learning.models import CaseConsent
from server.opportunities.models import Opportunity, OpportunityActivity, OpportunityTransition
from server.org.models import Persona
from server.products.models import Holding
from server.timeutil import utcnow
from server.warrooms.models import WarRoom, WarRoomEvent, WarRoomMember, WarRoomTarget
from tests import factories

INDUSTRY = "X98"  # a division no other test uses, so the constructed cases are the closest


@pytest.fixture
def history(db_session, data_key):
    s = db_session
    branch = factories.make_branch(s)
    team = factories.make_team(s, branch=branch)
    superrm = factories.make_user(s, branch=branch, team=team, persona=Persona.super, display_name="超级甲")
    helper = factories.make_user(
        s, branch=branch, team=team, persona=Persona.excellent, display_name="优秀乙"
    )
    general = factories.make_user(s, branch=branch, team=team, display_name="一般丙")
    newcomer = factories.make_user(
        s, branch=branch, team=team, persona=Persona.newcomer, display_name="新人丁"
    )
    like = {"industry_code": INDUSTRY, "size": "medium", "ownership": "private", "tier": "mid"}
    mine = [factories.make_customer(s, owner=newcomer, data_key=data_key, **like) for _ in range(2)]
    product = factories.make_product(s)
    t0 = utcnow() - timedelta(days=60)

    won_customer = factories.make_customer(
        s, owner=superrm, data_key=data_key, name="保密科技有限公司", **like
    )
    won = Opportunity(
        title="保密科技代发工资",
        customer_id=won_customer.id,
        customer_kind="corporate",
        product_id=product.id,
        source="rm_referral",
        originator_id=helper.id,
        owner_id=superrm.id,
        status="won",
        won_amount_cents=1_000_000_00,
        closed_at=t0 + timedelta(days=20),
    )
    lost_customer = factories.make_customer(
        s, owner=superrm, data_key=data_key, industry_code="C13", size="small", tier="mass"
    )
    lost = Opportunity(
        title="失败",
        customer_id=lost_customer.id,
        source="rm_referral",
        originator_id=superrm.id,
        owner_id=superrm.id,
        status="lost",
        closed_at=t0 + timedelta(days=10),
    )
    s.add_all([won, lost])
    s.flush()
    for days, status in ((0, "shared"), (2, "claimed"), (20, "won")):
        s.add(OpportunityTransition(opportunity_id=won.id, to_status=status, at=t0 + timedelta(days=days)))
    s.add(
        OpportunityActivity(
            opportunity_id=won.id, actor_id=superrm.id, kind="visit", at=t0 + timedelta(days=5)
        )
    )
    s.add(
        OpportunityActivity(
            opportunity_id=won.id, actor_id=superrm.id, kind="proposal", at=t0 + timedelta(days=9)
        )
    )
    s.add(OpportunityTransition(opportunity_id=lost.id, to_status="lost", at=t0 + timedelta(days=10)))

    # A visit sequence: three contacts by the general RM, then the customer opened the product.
    visited = factories.make_customer(s, owner=general, data_key=data_key, **like)
    for days, channel in ((0, "call"), (6, "visit"), (13, "meeting")):
        s.add(
            CustomerVisit(
                customer_id=visited.id,
                rm_id=general.id,
                channel=channel,
                occurred_at=t0 + timedelta(days=days, hours=2),
                outcome="见了王总",
            )
        )
    holding = Holding(
        customer_id=visited.id,
        product_id=product.id,
        balance_cents=50_000_00,
        opened_on=(t0 + timedelta(days=15)).date(),
    )
    s.add(holding)

    # A won war room: its main target moved 待接触 → 已拜访 → 成交; the excellent RM was a member.
    room_customer = factories.make_customer(s, owner=superrm, data_key=data_key, **{**like, "size": "large"})
    room = WarRoom(
        title="保密攻坚",
        kind="project_marketing",
        mode="joint",
        status="won",
        owner_id=superrm.id,
        created_at=t0,
    )
    s.add(room)
    s.flush()
    target = WarRoomTarget(
        room_id=room.id, customer_id=room_customer.id, stage="won", added_by=superrm.id, amount_cents=9_00
    )
    s.add(target)
    s.add(WarRoomMember(room_id=room.id, user_id=helper.id, role="member", status="active"))
    s.flush()
    for seq, (days, stage) in enumerate(((1, "to_contact"), (4, "contacted"), (12, "won")), start=1):
        s.add(
            WarRoomEvent(
                room_id=room.id,
                seq=seq,
                kind="target.added" if seq == 1 else "target.updated",
                payload={"target": {"id": target.id, "stage": stage}},
                author_id=helper.id,
                created_at=t0 + timedelta(days=days),
            )
        )
    s.commit()
    return {
        "superrm": superrm,
        "helper": helper,
        "newcomer": newcomer,
        "mine": mine,
        "won": won,
        "lost": lost,
        "holding": holding,
        "room": room,
        "names": [c.name for c in (won_customer, lost_customer, visited, room_customer)],
    }


def test_cases_are_ranked_for_the_newcomer_and_anonymised(history, db_session, login):
    api = login(history["newcomer"])
    response = api.get("/api/v1/learning/cases?limit=30")
    assert response.status_code == 200
    items = response.get_json()["items"]
    ids = [i["id"] for i in items]
    ours = {
        f"opportunity-{history['won'].id}",
        f"visits-{history['holding'].id}",
        f"war_room-{history['room'].id}",
    }
    assert set(ids[:3]) == ours  # the three cases of the newcomer's own kind of customer come first
    lost_id = f"opportunity-{history['lost'].id}"
    top_similarity = min(i["similarity"] for i in items[:3])
    assert all(i["similarity"] < top_similarity for i in items if i["id"] == lost_id)
    opp = next(i for i in items if i["id"] == f"opportunity-{history['won'].id}")
    assert opp["similarity"] == 1.0 and opp["alike_count"] == 2
    assert [s["kind"] for s in opp["steps"]] == [
        "opportunity.shared",
        "opportunity.claimed",
        "activity.visit",
        "activity.proposal",
        "opportunity.won",
    ]
    assert [s["days"] for s in opp["steps"]] == [0.0, 2.0, 3.0, 4.0, 11.0]
    assert opp["total_days"] == 20.0
    assert opp["helpers"] == [{"role": "originator", "persona": "excellent", "name": None}]
    assert "民营企业" in opp["customer"]["label"]
    visits = next(
        i for i in items if i["source"] == "visits" and i["id"] == f"visits-{history['holding'].id}"
    )
    assert [s["kind"] for s in visits["steps"]] == [
        "visit.call",
        "visit.visit",
        "visit.meeting",
        "product.opened",
    ]
    room = next(i for i in items if i["id"] == f"war_room-{history['room'].id}")
    assert [s["kind"] for s in room["steps"]] == [
        "room.opened",
        "stage.to_contact",
        "stage.contacted",
        "stage.won",
    ]
    assert room["helpers"] == [{"role": "war_room.member", "persona": "excellent", "name": None}]
    text = json.dumps(response.get_json(), ensure_ascii=False)
    for name in history["names"]:
        assert name not in text
    assert "王总" not in text and "超级甲" not in text


def test_a_helper_is_named_only_with_consent(history, db_session, login):
    db_session.add(CaseConsent(user_id=history["helper"].id, share_name=True))
    db_session.commit()
    card = (
        login(history["newcomer"]).get(f"/api/v1/learning/cases/opportunity-{history['won'].id}").get_json()
    )
    assert card["helpers"] == [{"role": "originator", "persona": "excellent", "name": "优秀乙"}]


def test_one_tap_from_a_customer_and_access(history, login, db_session):
    api = login(history["newcomer"])
    own = history["mine"][0]
    body = api.get(f"/api/v1/learning/cases?customer_id={own.id}").get_json()
    assert body["about"] and "民营企业" in body["about"]
    assert body["items"][0]["similarity"] == 1.0
    won_customer_id = history["won"].customer_id
    assert api.get(f"/api/v1/learning/cases?customer_id={won_customer_id}").status_code == 404
    # "How others won": the super RM is not shown their own cases.
    theirs = login(history["superrm"]).get("/api/v1/learning/cases?limit=30").get_json()["items"]
    assert f"opportunity-{history['won'].id}" not in [i["id"] for i in theirs]
    assert api.get("/api/v1/learning/cases/opportunity-999999999").status_code == 404


def test_similarity_weights():
    a = cases.Profile("corporate", "C36", "medium", "mid", "private", "310000")
    assert cases.similarity(a, a) == 1.0
    assert cases.similarity(a, cases.Profile("individual", tier="mid")) == 0.0
    near = cases.Profile("corporate", "C37", "large", "mid", "private", "330100")
    assert cases.similarity(a, near) == pytest.approx(0.2 + 0.1 + 0.2 + 0.1)
