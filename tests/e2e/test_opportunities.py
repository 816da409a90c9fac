"""The pool in two real browsers: RM A shares an opportunity, RM B sees it arrive live (the "new"
badge, no jump), claims it, and a third RM who was slower gets the clear loss message."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.conftest import http_login
from tests.e2e.conftest import _context_options, screenshot, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def contexts(browser, base_url):
    made = [browser.new_context(**_context_options(base_url, service_workers="block")) for _ in range(2)]
    for ctx in made:
        ctx.set_default_timeout(15_000)
    yield made
    for ctx in made:
        ctx.close()


def test_rm_a_shares_rm_b_sees_it_live_and_claims_it(contexts, db_session, policy, live_server):
    policy(priority_window_minutes=0, max_open_claims=50, require_qualification=True)
    branch = factories.make_branch(db_session)
    a = factories.make_user(db_session, branch=branch, display_name="王敏")
    b = factories.make_user(db_session, branch=branch, display_name="李强")
    slow = factories.make_user(db_session, branch=branch, display_name="赵磊")
    page_a, page_b = (ctx.new_page() for ctx in contexts)
    sign_in(page_a, a)
    sign_in(page_b, b)
    page_b.goto("/opportunities")
    expect(page_b.get_by_test_id("opportunity-pool")).to_be_visible()

    page_a.goto("/opportunities/new")
    page_a.get_by_test_id("share-title").locator("input").fill("张江园区扩产流动资金")
    page_a.get_by_test_id("share-customer").locator("input").fill("上海张江精密机械有限公司")
    page_a.get_by_test_id("share-amount").locator("input").fill("800")
    page_a.get_by_test_id("share-submit").click()
    expect(page_a).to_have_url(re.compile(r"/opportunities/\d+$"))
    opp_id = int(page_a.url.rsplit("/", 1)[1])

    # B: a badge, not a jump; tapping it shows the card
    badge = page_b.get_by_test_id("opportunity-new-badge")
    expect(badge).to_contain_text("1 条新商机")
    screenshot(page_b, "opportunity-pool-new-badge")
    badge.click()
    card = page_b.get_by_test_id("opportunity-card").filter(has_text="张江园区扩产流动资金")
    expect(card).to_be_visible()
    card.get_by_test_id("opportunity-claim").click()
    expect(page_b).to_have_url(re.compile(rf"/opportunities/{opp_id}$"))
    expect(page_b.get_by_test_id("opportunity-owner")).to_contain_text("李强")
    expect(page_b.get_by_test_id("opportunity-status")).to_contain_text("已认领")
    screenshot(page_b, "opportunity-claimed")

    # A slower RM is told who won, in words
    lost = http_login(live_server.url, slow.username).post(
        live_server.url + f"/api/v1/opportunities/{opp_id}/claim"
    )
    assert lost.status_code == 409 and lost.json()["winner"]["display_name"] == "李强"
    # and A sees the claim on their shared list
    page_a.goto("/opportunities/mine")
    page_a.get_by_role("tab", name="我共享的").click()
    expect(page_a.get_by_test_id("mine-item").filter(has_text="张江园区扩产流动资金")).to_contain_text(
        "已认领"
    )


def test_lead_reassigns_past_the_cap_with_a_reason_and_the_rm_sees_it(
    contexts,
    db_session,
    policy,
    live_server,
):
    """A team lead hands an opportunity to an RM who is at the open-claims cap: the screen marks
    him, asks for an override reason, and the RM finds the opportunity among his claims."""
    from sqlmodel import select

    from server.audit.models import AuditEntry

    policy(priority_window_minutes=0, max_open_claims=1, require_qualification=True)
    branch = factories.make_branch(db_session)
    team = factories.make_team(db_session, branch=branch)
    lead = db_session.get(factories.User, team.lead_id)
    a = factories.make_user(db_session, branch=branch, team=team, display_name="王敏")
    b = factories.make_user(db_session, branch=branch, team=team, display_name="李强")
    api_a = http_login(live_server.url, a.username)
    base = live_server.url + "/api/v1/opportunities"
    prospect = {"prospect_name": "上海临港新能源有限公司", "region_code": "310000", "industry_code": "C38"}
    held = api_a.post(base, json={"title": "临港厂房按揭", **prospect}).json()
    assert http_login(live_server.url, b.username).post(f"{base}/{held['id']}/claim").status_code == 200
    title = factories.unique("储能项目流动资金")
    opp = api_a.post(base, json={"title": title, **prospect}).json()

    page_lead, page_b = (ctx.new_page() for ctx in contexts)
    sign_in(page_lead, lead)
    page_lead.goto("/opportunities")
    page_lead.get_by_test_id("pool-team-desk").click()
    page_lead.get_by_test_id("team-item").filter(has_text=title).click()
    expect(page_lead).to_have_url(re.compile(rf"/opportunities/{opp['id']}$"))
    page_lead.get_by_test_id("lead-reassign").click()
    rm = page_lead.get_by_test_id("assignee").filter(has_text="李强")
    expect(rm.get_by_test_id("assignee-at-cap")).to_be_visible()
    rm.click()
    page_lead.get_by_test_id("reassign-reason").locator("textarea").fill("李强跟进过该园区")
    submit = page_lead.get_by_test_id("reassign-submit")
    expect(page_lead.get_by_test_id("reassign-override-hint")).to_contain_text("已达上限 1")
    expect(submit).to_be_disabled()  # at the cap, no override reason: the lead cannot send it
    page_lead.get_by_test_id("reassign-override").locator("textarea").fill("客户指定李强对接")
    screenshot(page_lead, "opportunity-lead-reassign")
    submit.click()
    expect(page_lead).to_have_url(re.compile(rf"/opportunities/{opp['id']}$"))
    expect(page_lead.get_by_test_id("opportunity-owner")).to_contain_text("李强")

    entry = db_session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "opportunity.reassign", AuditEntry.object_id == str(opp["id"])
        )
    ).one()
    assert entry.actor_id == lead.id and entry.detail["cap_override_reason"] == "客户指定李强对接"

    sign_in(page_b, b)
    page_b.goto("/opportunities/mine")
    expect(page_b.get_by_test_id("mine-item").filter(has_text=title)).to_contain_text("已认领")
    page_b.get_by_test_id("mine-item").filter(has_text=title).click()
    expect(page_b.get_by_test_id("lead-actions")).to_have_count(0)  # an RM gets no lead actions


def test_import_shows_row_errors_imports_nothing_then_imports_a_fixed_file_once(
    contexts,
    db_session,
    live_server,
):
    from sqlmodel import select

    from server.opportunities.models import Opportunity

    rm = factories.make_user(db_session, display_name="周婷")
    tag = factories.unique("批")
    header = "标题,客户名称,地区代码,行业代码,预计金额,预计日期,可见范围"
    good_row = f"代发工资{tag},潜客甲{tag},310000,C36,1200000.50,2031-01-31,branch"
    bad = "\n".join(
        [
            header,
            good_row,
            f"缺名称{tag},,310000,C36,100,2031-01-31,branch",
            f"坏金额{tag},潜客乙,310000,C36,12ab,2031-13-01,branch",
        ]
    ).encode()
    good = "\n".join([header, good_row, f"理财{tag},潜客丁{tag},310000,C36,88,2031-02-28,branch"]).encode()
    page = contexts[0].new_page()
    sign_in(page, rm)
    page.goto("/opportunities/mine")
    page.get_by_test_id("open-import").click()
    file_input = page.get_by_test_id("import-file")

    file_input.set_input_files({"name": "pool.csv", "mimeType": "text/csv", "buffer": bad})
    expect(page.get_by_test_id("import-errors-summary")).to_contain_text("未导入任何一行")
    errors = page.get_by_test_id("import-error")
    expect(errors.filter(has_text="第 3 行")).to_have_count(1)
    expect(errors.filter(has_text="第 4 行")).to_have_count(2)  # amount and date
    expect(errors.filter(has_text="第 4 行").filter(has_text="日期格式应为 YYYY-MM-DD")).to_have_count(1)
    expect(page.get_by_test_id("import-run")).to_be_disabled()
    screenshot(page, "opportunity-import-errors")
    mine = select(Opportunity).where(Opportunity.originator_id == rm.id)
    assert db_session.exec(mine).all() == []

    file_input.set_input_files({"name": "pool.csv", "mimeType": "text/csv", "buffer": good})
    run = page.get_by_test_id("import-run")
    expect(run).to_be_enabled()
    run.click()
    expect(page.get_by_test_id("import-done")).to_contain_text("已导入 2 条商机")
    expect(run).to_be_disabled()  # nothing to import twice from this screen
    file_input.set_input_files({"name": "again.csv", "mimeType": "text/csv", "buffer": good})
    expect(page.get_by_test_id("import-already")).to_be_visible()
    expect(run).to_be_disabled()
    db_session.expire_all()
    assert len(db_session.exec(mine).all()) == 2


def test_lead_moves_a_pooled_opportunity_to_the_bank_and_re_splits_a_won_one(
    contexts,
    db_session,
    policy,
    live_server,
):
    from sqlmodel import func, select

    from server.performance.models import PerformanceEntry

    policy(priority_window_minutes=0, max_open_claims=50, require_qualification=True)
    branch = factories.make_branch(db_session)
    team = factories.make_team(db_session, branch=branch)
    lead = db_session.get(factories.User, team.lead_id)
    a = factories.make_user(db_session, branch=branch, team=team, display_name="王敏")
    b = factories.make_user(db_session, branch=branch, team=team, display_name="李强")
    api_a, api_b = (http_login(live_server.url, u.username) for u in (a, b))
    base = live_server.url + "/api/v1/opportunities"
    prospect = {"prospect_name": "苏州工业园区精工有限公司", "region_code": "310000", "industry_code": "C34"}
    pooled = api_a.post(
        base, json={"title": factories.unique("设备更新贷款"), "visibility": "team", **prospect}
    ).json()
    won = api_a.post(base, json={"title": factories.unique("供应链融资"), **prospect}).json()
    assert api_b.post(f"{base}/{won['id']}/claim").status_code == 200
    closed = api_b.post(
        f"{base}/{won['id']}/close",
        json={"outcome": "won", "amount_cents": 50_000_000, "revenue_cents": 100_000},
    )
    assert closed.status_code == 200

    page = contexts[0].new_page()
    sign_in(page, lead)
    page.goto(f"/opportunities/{pooled['id']}")
    page.get_by_test_id("lead-transfer").click()
    page.get_by_test_id("transfer-bank").click()
    page.get_by_test_id("transfer-reason").locator("textarea").fill("团队本周无人可跟进")
    page.get_by_test_id("transfer-submit").click()
    expect(page).to_have_url(re.compile(rf"/opportunities/{pooled['id']}$"))
    other_branch_rm = factories.make_user(db_session, display_name="外省客户经理")
    feed = http_login(live_server.url, other_branch_rm.username).get(f"{base}/feed").json()
    assert pooled["id"] in [i["id"] for i in feed["items"]]

    page.goto(f"/opportunities/{won['id']}")
    page.get_by_test_id("lead-adjust").click()
    originator = page.get_by_test_id("split-originator").locator("input")
    expect(originator).to_have_value("30.00")
    originator.fill("45")
    originator.blur()
    expect(page.get_by_test_id("split-closer").locator("input")).to_have_value(
        "55.00"
    )  # always 100 % together
    expect(page.get_by_test_id("split-preview")).to_contain_text("450.00")
    page.get_by_test_id("adjust-reason").locator("textarea").fill("提供人陪同谈判")
    screenshot(page, "opportunity-benefit-adjust")
    page.get_by_test_id("adjust-submit").click()
    expect(page).to_have_url(re.compile(rf"/opportunities/{won['id']}$"))
    credited = dict(
        db_session.exec(
            select(PerformanceEntry.rm_id, func.sum(PerformanceEntry.amount_cents))
            .where(PerformanceEntry.source_ref.like(f"opportunity:{won['id']}:%"))
            .group_by(PerformanceEntry.rm_id)
        ).all()
    )
    assert credited == {a.id: 45_000, b.id: 55_000}


def test_share_from_a_customer_page_in_one_tap(contexts, db_session, data_key, live_server):
    from sqlmodel import select

    from server.opportunities.models import Opportunity

    rm = factories.make_user(db_session, display_name="陈晨")
    customer = factories.make_customer(db_session, owner=rm, data_key=data_key, industry_code="C35")
    page = contexts[0].new_page()
    sign_in(page, rm)
    page.goto(f"/customers/{customer.id}")
    page.get_by_test_id("customer-share-opportunity").click()
    expect(page.get_by_test_id("share-customer-name")).to_contain_text(customer.name)
    page.get_by_test_id("share-submit").click()  # the form comes filled in: one tap shares
    expect(page).to_have_url(re.compile(r"/opportunities/\d+$"))
    expect(page.get_by_test_id("opportunity-status")).to_contain_text("待认领")
    opp = db_session.exec(select(Opportunity).where(Opportunity.originator_id == rm.id)).one()
    # the customer's own codes, not the form's defaults for a prospect
    assert opp.customer_id == customer.id and opp.industry_code == "C35" and opp.status == "shared"


def test_share_a_war_room_target_in_one_tap(app, contexts, db_session):
    from sqlmodel import select

    from server.opportunities.models import Opportunity
    from server.warrooms import board, rooms
    from server.warrooms.schemas import RoomCreate, TargetIn

    rm = factories.make_user(db_session, display_name="孙悦")
    room = rooms.create_room(
        db_session, user=rm, ip=None, data=RoomCreate(title="园区批量开户", kind="wholesale", mode="solo")
    )
    prospect = factories.unique("苏州精工机械")
    with app.app_context():  # adding targets is rate-limited per user (Redis, settings)
        board.add_target(db_session, room_id=room.id, user=rm, data=TargetIn(prospect_name=prospect), ip=None)
    page = contexts[0].new_page()
    sign_in(page, rm)
    page.goto(f"/war-rooms/{room.id}")
    page.get_by_role("tab", name="目标客户").click()
    page.get_by_test_id("target-item").filter(has_text=prospect).get_by_test_id(
        "target-share-opportunity"
    ).click()
    expect(page.get_by_test_id("share-customer").locator("input")).to_have_value(prospect)
    page.get_by_test_id("share-submit").click()
    expect(page).to_have_url(re.compile(r"/opportunities/\d+$"))
    opp = db_session.exec(select(Opportunity).where(Opportunity.originator_id == rm.id)).one()
    assert (opp.source, opp.source_ref, opp.prospect_name) == ("war_room", f"war_room:{room.id}", prospect)
