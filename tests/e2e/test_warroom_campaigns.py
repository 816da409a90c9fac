"""Campaigns in a real browser at 375×812: a wholesale room built from a customer segment (the
funnel fills), and a project-marketing room built from a core enterprise (the chain view shows its
upstream and downstream with each firm's stage and RM); a won room's outcome with the benefit shares
it booked and its case card."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from server.customers.models import CorporateProfile, CustomerLink
from server.opportunities.models import Opportunity
from server.org.models import Branch
from server.timeutil import utcnow
from server.warrooms import funnel, rooms
from server.warrooms.campaign_schemas import MoveIn
from server.warrooms.models import TargetStage, WarRoomOpportunity, WarRoomTarget
from server.warrooms.schemas import RoomCreate, RoomUpdate
from tests import factories
from tests.e2e.conftest import screenshot, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def book(db_session, data_key):
    branch = factories.make_branch(db_session)
    rm = factories.make_user(db_session, branch=branch, display_name="王敏")
    mate = factories.make_user(db_session, branch=branch, display_name="李强")
    park = [
        factories.make_customer(db_session, owner=rm, data_key=data_key, name=f"张江芯片{i}有限公司{rm.id}")
        for i in range(6)
    ]
    core = factories.make_customer(db_session, owner=rm, data_key=data_key, name=f"浦江汽车集团{rm.id}")
    up = [
        factories.make_customer(db_session, owner=rm, data_key=data_key, name=f"精工零部件{i}厂{rm.id}")
        for i in range(2)
    ]
    down = factories.make_customer(db_session, owner=mate, data_key=data_key, name=f"华东汽车销售{rm.id}")
    db_session.add_all(
        [
            CustomerLink(from_customer_id=core.id, to_customer_id=c.id, kind="supplier", label="零部件")
            for c in up
        ]
        + [CustomerLink(from_customer_id=core.id, to_customer_id=down.id, kind="buyer", label="整车经销")]
        + [CustomerLink(from_customer_id=core.id, to_name="长江钢铁有限公司", kind="supplier", label="钢材")]
    )
    for c in park:
        profile = db_session.get(CorporateProfile, c.id)
        profile.address = "上海市浦东新区张江高科技园区"
        db_session.add(profile)
    db_session.commit()
    return rm, core, park


def test_wholesale_room_from_a_segment_and_project_room_from_a_core_enterprise(page, book, db_session):
    rm, core, park = book
    wholesale = rooms.create_room(
        db_session,
        user=rm,
        ip=None,
        data=RoomCreate(title="张江芯片代发工资", kind="wholesale", mode="joint", goal_customers=6),
    )
    project = rooms.create_room(
        db_session,
        user=rm,
        ip=None,
        data=RoomCreate(title="浦江汽车产业链", kind="project_marketing", mode="joint"),
    )
    sign_in(page, rm)

    # Wholesale: the room opens on its campaign board; the whole segment joins in one step.
    page.goto(f"/war-rooms/{wholesale.id}")
    expect(page.get_by_test_id("campaign-board")).to_be_visible()
    expect(page.get_by_test_id("stage-count-to_contact")).to_have_text("0")
    page.get_by_test_id("bulk-open").click()
    page.get_by_test_id("bulk-source-search").click()
    page.get_by_test_id("bulk-q").locator("input").fill("张江芯片")
    page.get_by_test_id("bulk-preview-button").click()
    expect(page.get_by_test_id("bulk-preview")).to_contain_text("共 6 户")
    screenshot(page, "campaign-bulk-preview")
    page.get_by_test_id("bulk-confirm").click()
    expect(page.get_by_test_id("stage-count-to_contact")).to_have_text("6")
    expect(page.get_by_test_id("campaign-total")).to_contain_text("6")
    # Move three on to 已拜访 at once.
    page.get_by_test_id("stage-to_contact").click()
    ticks = page.get_by_test_id("stage-targets").locator(".van-checkbox")
    for i in range(3):
        ticks.nth(i).click()
    page.get_by_test_id("move-open").click()
    page.locator(".van-action-sheet__item", has_text="已拜访").click()
    expect(page.get_by_test_id("stage-count-contacted")).to_have_text("3")
    expect(page.get_by_test_id("stage-count-to_contact")).to_have_text("3")
    screenshot(page, "campaign-board")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    # Project marketing: the room opens on the chain view, empty until a core enterprise is chosen.
    page.goto(f"/war-rooms/{project.id}")
    expect(page.get_by_text("该作战室还没有核心企业")).to_be_visible()
    page.get_by_role("tab", name="作战看板").click()
    page.get_by_test_id("bulk-open").click()
    page.get_by_test_id("bulk-pick").locator("input").fill("浦江汽车")
    page.get_by_test_id("bulk-pick-item").first.click()
    page.get_by_test_id("bulk-preview-button").click()
    # the core, two suppliers and a named supplier (a prospect), plus the colleague's buyer (a request)
    expect(page.get_by_test_id("bulk-preview")).to_contain_text("共 5 户")
    page.get_by_test_id("bulk-confirm").click()
    expect(page.get_by_test_id("campaign-total")).to_contain_text("5")
    page.get_by_role("tab", name="产业链").click()
    expect(page.get_by_test_id("chain-core")).to_contain_text(core.name)
    expect(page.get_by_test_id("chain-core")).to_contain_text("客户经理 王敏")
    expect(page.get_by_test_id("chain-node")).to_have_count(4)
    expect(page.get_by_test_id("chain-view")).to_contain_text("长江钢铁有限公司")
    expect(page.get_by_test_id("chain-view")).to_contain_text("待审批")
    screenshot(page, "campaign-chain")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert park


def test_won_campaign_shows_its_benefit_shares_and_opens_its_case_card(page, book, db_session):
    """A won wholesale room's outcome lists the shared opportunity it won with the originator's and
    the closer's shares, and offers the campaign as a case card that opens in the learning module."""
    rm, _core, park = book
    colleague = factories.make_user(
        db_session, branch=db_session.get(Branch, rm.branch_id), display_name="赵倩"
    )
    room = rooms.create_room(
        db_session,
        user=rm,
        ip=None,
        data=RoomCreate(
            title="张江芯片代发工资复盘",
            kind="wholesale",
            mode="joint",
            customer_ids=[park[0].id, park[1].id],
        ),
    )
    opp = Opportunity(
        title="张江芯片代发工资",
        customer_id=park[0].id,
        source="rm_referral",
        status="shared",
        shared_at=utcnow(),
        originator_id=colleague.id,
        branch_id=rm.branch_id,
    )
    db_session.add(opp)
    db_session.flush()
    db_session.add(WarRoomOpportunity(room_id=room.id, opportunity_id=opp.id, linked_by=rm.id))
    targets = db_session.exec(select(WarRoomTarget).where(WarRoomTarget.room_id == room.id)).all()
    for target in targets:
        target.amount_cents = 100_000_00
        db_session.add(target)
    db_session.commit()
    for stage in (TargetStage.contacted, TargetStage.won):
        funnel.move_targets(
            db_session,
            room_id=room.id,
            user=rm,
            data=MoveIn(client_key=uuid.uuid4().hex, target_ids=[t.id for t in targets], stage=stage),
        )
    rooms.update_room(
        db_session, room_id=room.id, user=rm, data=RoomUpdate(status="won"), expected_version=None, ip=None
    )

    sign_in(page, rm)
    page.goto(f"/war-rooms/{room.id}")
    expect(page.get_by_test_id("campaign-outcome")).to_be_visible()
    expect(page.get_by_test_id("outcome-converted")).to_have_text("2")
    benefit = page.get_by_test_id("outcome-benefit")
    expect(benefit).to_have_count(1)
    expect(benefit).to_contain_text("张江芯片代发工资")
    expect(benefit).to_contain_text("提供人 赵倩 3万元 · 成交人 王敏 7万元")
    screenshot(page, "campaign-outcome")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.get_by_test_id("outcome-case-card").click()
    expect(page).to_have_url(re.compile(rf"/learning/cases/war_room-{room.id}$"))
    expect(page.get_by_test_id("case-detail")).to_be_visible()
    expect(page.get_by_test_id("case-step").first).to_be_visible()
