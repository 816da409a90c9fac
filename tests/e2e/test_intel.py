"""Intel in the browser: a local feed polled by a real RQ worker turns into alerts that the RM sees
on the home card, in the 天时 feed by category, in the alert detail (reason, funding-need working,
actions) and on the customer's page; an admin manages the sources and sees failed jobs."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

import tasks.intel as intel_jobs
from server.customers.models import CorporateProfile, CustomerLink
from server.intel.models import IntelSource
from server.opportunities.models import Opportunity
from server.org.models import Role
from tests import factories
from tests.e2e.conftest import screenshot, sign_in
from tests.server.intel.feedserver import FeedServer

pytestmark = pytest.mark.e2e


def _corporate(db_session, owner, data_key, name, short, region, industry):
    customer = factories.make_customer(
        db_session, owner=owner, name=name, data_key=data_key, region_code=region, industry_code=industry
    )
    profile = db_session.get(CorporateProfile, customer.id)
    profile.short_name = short
    db_session.add(profile)
    db_session.commit()
    return customer


def test_rm_reads_intel_and_admin_manages_sources(page, browser, base_url, db_session, data_key, worker):
    tag = "".join("甲乙丙丁戊己庚辛壬癸"[int(c, 16) % 10] for c in uuid.uuid4().hex[:6])
    rm = factories.make_user(db_session, display_name="王芳")
    builder = _corporate(
        db_session, rm, data_key, f"上海{tag}路桥建设有限公司", f"{tag}路桥", "310000", "E48"
    )
    parts = _corporate(db_session, rm, data_key, f"上海{tag}汽车配件有限公司", f"{tag}汽配", "310000", "C36")
    db_session.add(CustomerLink(from_customer_id=builder.id, to_customer_id=parts.id, kind="supplier"))
    db_session.commit()

    feeds = FeedServer().start()
    try:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
            f"<item><title>{tag}路桥中标杭州市城市更新道路工程项目</title>"
            "<description>中标金额1.2亿元，工期12个月，预付款比例10%。</description><guid>a</guid>"
            "<category>tender_contract</category></item>"
            f"<item><title>上海出台支持汽车零部件企业发展若干措施{tag}</title>"
            "<description>设立专项资金，给予补贴。</description><guid>b</guid></item>"
            "</channel></rss>"
        ).encode()
        feeds.dynamic["e2e.xml"] = (body, "application/rss+xml")
        source = IntelSource(
            name=f"E2E源{tag}",
            kind="feed",
            url=f"{feeds.url}/d/e2e.xml",
            category="policy",
            min_fetch_seconds=0,
        )
        db_session.add(source)
        db_session.commit()
        intel_jobs.poll_source.enqueue(source.id, job_id=f"intel-poll-{source.id}-e2e")
        worker.work(burst=True)
    finally:
        feeds.stop()

    sign_in(page, rm)
    card = page.get_by_test_id("home-card-intel")
    expect(card).to_contain_text("条未读")
    expect(card).to_contain_text(f"{tag}路桥")
    screenshot(page, "intel-01-home-card")

    card.click()
    expect(page).to_have_url(re.compile(r"/intel$"))
    feed = page.get_by_test_id("intel-feed")
    expect(feed).to_contain_text(f"{tag}路桥中标")
    expect(feed).to_contain_text("该客户所在行业(汽车零部件)获政策支持")
    screenshot(page, "intel-02-feed")
    page.get_by_test_id("intel-tab-tender_contract").click()
    expect(feed).to_contain_text("资金需求")
    expect(feed).not_to_contain_text("获政策支持")

    feed.locator("[data-testid^='intel-alert-']").filter(has_text=f"情报点名该客户({tag}路桥)").first.click()
    detail = page.get_by_test_id("intel-alert-detail")
    expect(detail).to_contain_text(f"情报点名该客户({tag}路桥)中标")
    expect(page.get_by_test_id("intel-funding")).to_contain_text("2200万元")
    expect(page.get_by_test_id("intel-working")).to_contain_text("预付款约在第 43 天用完")
    expect(page.get_by_test_id("intel-action-create_opportunity")).to_be_visible()
    expect(page.get_by_test_id("intel-action-start_war_room")).to_be_visible()
    expect(page.get_by_test_id("intel-matched")).to_contain_text(f"上海{tag}汽车配件有限公司")
    screenshot(page, "intel-03-alert-detail")

    page.goto(f"/customers/{parts.id}")
    section = page.get_by_test_id("customer-intel")
    expect(section).to_contain_text("该客户的下游客户")
    screenshot(page, "intel-04-customer-page")

    admin = factories.make_user(db_session, role=Role.admin, persona=None)
    context = browser.new_context(
        base_url=base_url, viewport={"width": 375, "height": 812}, locale="zh-CN", service_workers="block"
    )
    try:
        admin_page = context.new_page()
        sign_in(admin_page, admin)
        admin_page.goto("/intel/sources")
        sources = admin_page.get_by_test_id("intel-sources")
        expect(sources).to_contain_text(f"E2E源{tag}")
        expect(admin_page.get_by_test_id("intel-failed-jobs")).to_be_visible()
        screenshot(admin_page, "intel-05-sources-admin")
    finally:
        context.close()


def test_one_tap_actions_on_feed_cards(page, db_session, data_key):
    rm = factories.make_user(db_session, display_name="陈静")
    customer = factories.make_customer(
        db_session, owner=rm, data_key=data_key, name=f"苏州恒瑞精工有限公司{rm.id}"
    )
    alert = factories.make_alert(db_session, rm=rm, customer=customer, title="厂区扩建工程中标", score=90)
    sign_in(page, rm)

    # 发起作战室 straight from the card: the room is the one the detail page's action opens.
    page.goto("/intel")
    card = page.get_by_test_id(f"intel-alert-{alert.id}")
    expect(card).to_contain_text("厂区扩建工程中标")
    screenshot(page, "intel-06-feed-one-tap")
    card.get_by_test_id("intel-card-start_war_room").click()
    expect(page).to_have_url(re.compile(r"/war-rooms/\d+$"))
    expect(page.locator(".app-header")).to_contain_text("：厂区扩建工程中标")
    room = page.request.get(f"/api/v1/war-rooms/{page.url.rsplit('/', 1)[1]}").json()
    assert (room["source"]["type"], room["source"]["id"]) == ("intel_alert", alert.id)

    # 创建商机 from the card: a draft opportunity for the customer, sourced from the alert.
    page.goto("/intel")
    page.get_by_test_id(f"intel-alert-{alert.id}").get_by_test_id("intel-card-create_opportunity").click()
    expect(page).to_have_url(re.compile(r"/opportunities/\d+$"))
    opportunity = db_session.get(Opportunity, int(page.url.rsplit("/", 1)[1]))
    assert opportunity.customer_id == customer.id
    assert opportunity.source_ref == f"intel_alert:{alert.id}"
