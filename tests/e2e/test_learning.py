"""Learning and helper tasks in the browser at 375×812 (zh-CN): the newcomer's home → a case card →
a quiz answer; a super RM hands a task to the newcomer, who finds it on the home page and finishes it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from server.opportunities.models import Opportunity, OpportunityActivity, OpportunityTransition
from server.org.models import Persona
from server.products.models import Product
from server.timeutil import utcnow
from tests import factories
from tests.e2e.conftest import _context_options, screenshot, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def team(db_session, data_key):
    s = db_session
    branch = factories.make_branch(s)
    team = factories.make_team(s, branch=branch)
    boss = factories.make_user(s, branch=branch, team=team, persona=Persona.super, display_name="周超")
    newcomer = factories.make_user(s, branch=branch, team=team, persona=Persona.newcomer, display_name="林新")
    like = {"industry_code": "X97", "size": "small", "ownership": "private", "tier": "mass"}
    factories.make_customer(s, owner=newcomer, data_key=data_key, **like)
    won_customer = factories.make_customer(s, owner=boss, data_key=data_key, **like)
    product = Product(
        code=factories.unique("E")[:16],
        name="小微快贷测试",
        category="loan",
        segment="corporate",
        terms="最高 500 万",
        selling_points=["线上申请三分钟出额度", "随借随还按日计息", "纯信用免抵押"],
        advantages=["审批快", "额度循环使用"],
    )
    s.add(product)
    s.flush()
    t0 = utcnow() - timedelta(days=30)
    opp = Opportunity(
        title="x",
        customer_id=won_customer.id,
        product_id=product.id,
        source="rm_referral",
        originator_id=boss.id,
        owner_id=boss.id,
        status="won",
        closed_at=t0 + timedelta(days=9),
    )
    s.add(opp)
    s.flush()
    s.add(OpportunityTransition(opportunity_id=opp.id, to_status="claimed", at=t0))
    s.add(
        OpportunityActivity(opportunity_id=opp.id, actor_id=boss.id, kind="visit", at=t0 + timedelta(days=3))
    )
    s.add(OpportunityTransition(opportunity_id=opp.id, to_status="won", at=t0 + timedelta(days=9)))
    task_customer = factories.make_customer(
        s, owner=boss, data_key=data_key, name=f"助手任务客户{boss.id}有限公司"
    )
    s.commit()
    return {
        "boss": boss,
        "newcomer": newcomer,
        "case": f"opportunity-{opp.id}",
        "task_customer": task_customer,
    }


def test_newcomer_home_to_a_case_card_and_a_quiz(page, team):
    sign_in(page, team["newcomer"])
    page.get_by_test_id("home-learning").click()
    expect(page.get_by_test_id("learning-readiness")).to_contain_text("产品准备度")
    card = page.get_by_test_id(f"case-{team['case']}")
    expect(card).to_contain_text("某")
    expect(card).to_contain_text("上门拜访")
    screenshot(page, "learning-home")
    card.click()
    expect(page.get_by_test_id("case-step")).to_have_count(3)
    expect(page.get_by_test_id("case-detail")).to_contain_text("小微快贷测试")
    screenshot(page, "learning-case")
    page.go_back()
    page.get_by_test_id("start-quiz").click()
    expect(page.get_by_test_id("quiz-prompt")).to_be_visible()
    page.get_by_test_id("quiz-option").first.click()
    expect(page.get_by_test_id("quiz-verdict")).to_be_visible()
    expect(page.get_by_test_id("quiz-readiness")).to_contain_text("准备度")
    screenshot(page, "learning-quiz")


def test_a_super_rm_hands_a_task_to_the_newcomer(browser, base_url, page, team):
    sign_in(page, team["boss"])
    page.goto(f"/customers/{team['task_customer'].id}")
    page.get_by_test_id("hand-to-helper").click()
    page.get_by_test_id("helper-title").locator("input").fill("收集近两年财务报表")
    screenshot(page, "helpers-new")
    page.get_by_test_id("helper-create").click()
    expect(page.get_by_test_id("helper-task")).to_contain_text("林新")

    other = browser.new_context(**_context_options(base_url, service_workers="block"))
    other.set_default_timeout(15_000)
    helper = other.new_page()
    try:
        sign_in(helper, team["newcomer"])
        block = helper.get_by_test_id("home-helper-tasks")
        expect(block).to_contain_text("我为超级客户经理 周超 做的任务")
        screenshot(helper, "helpers-home")
        helper.get_by_test_id("home-helper-task").first.click()
        expect(helper.get_by_test_id("helper-task-customer")).to_contain_text(team["task_customer"].name)
        helper.get_by_test_id("helper-done").click()
        expect(helper.get_by_test_id("helper-ended")).to_be_visible()
        expect(helper.get_by_test_id("helper-task-customer")).to_have_count(0)
        screenshot(helper, "helpers-done")
    finally:
        other.close()
    # The super RM sees the task done.
    page.goto("/helpers")
    expect(page.get_by_test_id("helper-task-mine").first).to_contain_text("已完成")
