"""The pool in two real browsers: RM A shares an opportunity, RM B sees it arrive live (the "new"
badge, no jump), claims it, and a third RM who was slower gets the clear loss message."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.conftest import http_login
from tests.e2e.conftest import _context_options, screenshot, sign_in
from tests.server.test_opportunities import policy  # noqa: F401  (fixture)

pytestmark = pytest.mark.e2e


@pytest.fixture
def contexts(browser, base_url):
    made = [browser.new_context(**_context_options(base_url, service_workers="block")) for _ in range(2)]
    for ctx in made:
        ctx.set_default_timeout(15_000)
    yield made
    for ctx in made:
        ctx.close()


def test_rm_a_shares_rm_b_sees_it_live_and_claims_it(contexts, db_session, policy, live_server):  # noqa: F811
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
