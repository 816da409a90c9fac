"""The workbench in a real browser: the persona's home cards, the mirror (radar, trend, drivers),
sellable products with fitting customers, performance and customer mix, resources with calculators
that work offline, and the customer 360 with a visit logged through the outbox raising the score."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from server.org.models import Persona, Role
from server.performance.models import PerformanceEntry, PerformanceTarget
from server.products.models import Product, ProductFit
from server.resources.models import Resource
from server.timeutil import current_month, month_start
from tests import factories
from tests.e2e.conftest import screenshot, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def workbench_rm(db_session, data_key):
    lead = factories.make_user(db_session, role=Role.team_lead, persona=None)
    team = factories.make_team(db_session, lead=lead)
    rm = factories.make_user(
        db_session, team=team, persona=Persona.excellent, display_name="王芳", qualifications=["fund_sales"]
    )
    factories.make_user(db_session, team=team, display_name="同事")
    vip = factories.make_customer(
        db_session, owner=rm, data_key=data_key, name=f"上海远航物流有限公司{rm.id}", tier="vip"
    )
    person = factories.make_customer(
        db_session,
        owner=rm,
        data_key=data_key,
        kind=factories.CustomerKind.individual,
        name=f"陈静{rm.id}",
        tier="high",
        gender="F",
    )
    product = Product(
        code=factories.unique("WB")[:16],
        name=f"稳盈理财{rm.id}",
        category="wealth",
        segment="individual",
        terms="90天 起点1万",
        selling_points=["收益稳健", "期限灵活", "起点低"],
        advantages=["R2 低风险", "T+1 到账"],
        target_profile="中高端个人客户",
    )
    db_session.add(product)
    db_session.add(Resource(kind="meeting_room", name=f"洽谈室{rm.id}", branch_id=rm.branch_id, detail={}))
    month = current_month()
    db_session.add(
        PerformanceTarget(
            rm_id=rm.id,
            month=month,
            revenue_target_cents=1_000_000,
            new_business_target_cents=1,
            new_customers_target=2,
        )
    )
    db_session.add(
        PerformanceEntry(rm_id=rm.id, booked_on=month_start(month), kind="revenue", amount_cents=750_000)
    )
    db_session.commit()
    db_session.add(ProductFit(product_id=product.id, tiers=["vip", "high"]))
    db_session.commit()
    assert month_start(month) <= date.today()
    return {"rm": rm, "vip": vip, "person": person, "product": product}


def test_workbench_screens(page, workbench_rm):
    rm, vip = workbench_rm["rm"], workbench_rm["vip"]
    sign_in(page, rm)
    home = page.get_by_test_id("workbench-home")
    expect(home.get_by_test_id("wb-card-summary")).to_contain_text("本月完成率")
    expect(home.get_by_test_id("wb-card-neglected")).to_contain_text(vip.name)  # excellent: neglected VIPs
    expect(home.get_by_test_id("wb-card-reminders")).to_be_visible()
    screenshot(page, "wb-01-home")

    page.get_by_test_id("link-mirror").click()
    mirror = page.get_by_test_id("mirror")
    expect(mirror.get_by_test_id("challenge-power")).to_contain_text("挑战力")
    expect(mirror.get_by_test_id("combat-power")).to_contain_text("战斗力")
    expect(mirror.get_by_test_id("radar-chart").locator("text")).to_have_count(9)
    expect(mirror.get_by_test_id("trend-chart")).to_be_visible()
    expect(mirror).to_contain_text("完成率 75%")  # the combat driver, explained
    screenshot(page, "wb-02-mirror")
    page.go_back()

    page.get_by_test_id("link-products").click()
    product = page.get_by_test_id(f"product-{workbench_rm['product'].code}")
    expect(product).to_contain_text(" 1 位客户适合")
    product.click()
    expect(page.get_by_test_id(f"fit-customer-{workbench_rm['person'].id}")).to_be_visible()
    expect(product).to_contain_text("收益稳健")
    screenshot(page, "wb-03-products")
    page.go_back()

    page.get_by_test_id("link-performance").click()
    expect(page.get_by_test_id("perf-completion")).to_have_text("75%")
    expect(page.get_by_test_id("customer-mix").get_by_test_id("share-bars").first).to_be_visible()
    screenshot(page, "wb-04-performance")
    page.go_back()

    page.get_by_test_id("link-resources").click()
    expect(page.get_by_test_id("resources")).to_contain_text(f"洽谈室{rm.id}")
    page.context.set_offline(True)  # the calculators are pure functions: no network needed
    page.get_by_test_id("loan-principal").locator("input").fill("100000")
    page.locator(".van-field", has_text="年利率").locator("input").fill("4.8")
    page.locator(".van-field", has_text="期限").locator("input").fill("12")
    expect(page.get_by_test_id("loan-result")).to_contain_text("8551.59")
    page.context.set_offline(False)
    screenshot(page, "wb-05-resources")


def test_customer_360_and_log_visit_through_the_outbox(page, workbench_rm):
    rm, vip = workbench_rm["rm"], workbench_rm["vip"]
    sign_in(page, rm)
    page.goto(f"/customers/{vip.id}")
    page.get_by_test_id("open-360").click()
    expect(page).to_have_url(re.compile(rf"/customers/{vip.id}/360$"))
    view = page.get_by_test_id("customer-360")
    expect(view.get_by_test_id("next-questions").locator("li").first).to_be_visible()
    expect(view.get_by_test_id("relation-graph")).to_be_visible()
    before = float(view.get_by_test_id("knowledge-total").locator("b").inner_text())
    screenshot(page, "wb-06-customer-360")

    page.get_by_test_id("log-visit").click()
    page.get_by_test_id("visit-outcome").locator("textarea").fill("客户计划扩建仓库,有融资需求")
    page.get_by_test_id("visit-next-step").locator("input").fill("下周送授信方案")
    page.get_by_test_id("fact-funding_need").locator("input").fill("扩建仓库约3000万")
    page.get_by_test_id("fact-other_banks").locator("input").fill("工行、建行")
    screenshot(page, "wb-07-log-visit")
    page.get_by_test_id("visit-submit").click()
    expect(page).to_have_url(re.compile(rf"/customers/{vip.id}/360$"))
    view = page.get_by_test_id("customer-360")
    expect(view.get_by_test_id("timeline")).to_contain_text("客户计划扩建仓库")
    after = float(view.get_by_test_id("knowledge-total").locator("b").inner_text())
    assert after == pytest.approx(before + 35 * 9 / 28, abs=0.2)  # funding need (5) + other banks (4) of 28
    expect(view.get_by_test_id("next-questions")).not_to_contain_text("资金需求")


def test_another_rms_customer_360_is_not_found(page, workbench_rm, db_session, data_key):
    other = factories.make_user(db_session)
    stranger = factories.make_customer(db_session, owner=other, data_key=data_key)
    sign_in(page, workbench_rm["rm"])
    page.goto(f"/customers/{stranger.id}/360")
    expect(page.get_by_test_id("state-empty")).to_contain_text("客户不存在或无权查看")
