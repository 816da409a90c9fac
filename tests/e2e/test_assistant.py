"""The assistant in the browser at 375×812: 今日 with its route, a brief (also offline, from the
encrypted copy) and the ask box with removable chips."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from server.notebook.models import Reminder
from server.org.models import Branch
from tests import factories
from tests.e2e.conftest import screenshot, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def day_plan(db_session, data_key):
    branch = factories.make_branch(db_session)
    row = db_session.get(Branch, branch.id)
    row.latitude, row.longitude = 31.20, 121.40
    db_session.add(row)
    user = factories.make_user(db_session, display_name="王芳", branch=branch)
    zone = ZoneInfo("Asia/Shanghai")
    noon = datetime.now(zone).replace(hour=12, minute=0, second=0, microsecond=0).astimezone(UTC)
    made = []
    for n, (name, lat) in enumerate(
        (("浦东远洋精工有限公司", 31.26), ("浦东近邻电子有限公司", 31.22), ("浦东中段物流有限公司", 31.24))
    ):
        customer = factories.make_customer(
            db_session,
            owner=user,
            data_key=data_key,
            name=f"{name}{user.id}",
            latitude=lat,
            longitude=121.40,
            region_code="310000",
            industry_code="C39" if n != 2 else "G54",
        )
        db_session.add(
            Reminder(
                user_id=user.id,
                kind="note",
                source_key=factories.unique("k"),
                customer_id=customer.id,
                due_at=noon + timedelta(minutes=n),
                title=f"拜访{customer.name}",
            )
        )
        made.append(customer)
    db_session.commit()
    return user, made


def test_today_shows_the_day_and_the_route(page, day_plan):
    user, customers = day_plan
    sign_in(page, user)
    page.get_by_test_id("tile-today").click()
    expect(page.get_by_test_id("today-item")).to_have_count(3)
    stops = page.get_by_test_id("today-stop")
    expect(stops).to_have_count(3)
    # From the branch (31.20) northwards: 31.22, 31.24, 31.26.
    expect(stops.nth(0)).to_contain_text("近邻电子")
    expect(stops.nth(1)).to_contain_text("中段物流")
    expect(stops.nth(2)).to_contain_text("远洋精工")
    expect(page.get_by_test_id("today-route")).to_contain_text("公里")
    screenshot(page, "assistant-today")


def test_brief_works_offline_from_the_encrypted_copy(sw_context, day_plan):
    user, customers = day_plan
    page = sw_context.pages[0] if sw_context.pages else sw_context.new_page()
    sign_in(page, user)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    target = customers[0]
    page.goto(f"/customers/{target.id}/brief")
    expect(page.get_by_test_id("brief-who")).to_contain_text(target.name)
    expect(page.get_by_test_id("brief-who")).to_contain_text("138****5678")
    page.reload()  # the service worker now controls the page
    expect(page.get_by_test_id("brief-who")).to_contain_text(target.name)
    sealed = page.evaluate(
        """(name) => new Promise((resolve, reject) => {
            const open = indexedDB.open('zhanye-offline');
            open.onerror = reject;
            open.onsuccess = () => {
              const get = open.result.transaction('reads').objectStore('reads').get(name);
              get.onsuccess = () => resolve(new TextDecoder().decode(get.result.data));
            };
          })""",
        f"assistant:brief:{target.id}",
    )
    assert "远洋" not in sealed  # stored encrypted
    screenshot(page, "assistant-brief")
    sw_context.set_offline(True)
    page.reload()
    expect(page.get_by_test_id("brief-offline")).to_be_visible()
    expect(page.get_by_test_id("brief-who")).to_contain_text(target.name)
    expect(page.get_by_test_id("brief-questions")).to_be_visible()
    screenshot(page, "assistant-brief-offline")
    sw_context.set_offline(False)


def test_ask_box_with_removable_chips(page, day_plan):
    user, customers = day_plan
    sign_in(page, user)
    page.goto("/ask")
    box = page.get_by_test_id("ask-input").locator("input")
    box.fill("上海的电子企业")
    box.press("Enter")
    expect(page.get_by_test_id("ask-intent")).to_have_text("客户列表")
    chips = page.get_by_test_id("ask-chip")
    expect(chips).to_have_count(2)
    expect(page.get_by_test_id("ask-result")).to_have_count(2)
    screenshot(page, "assistant-ask")
    chips.filter(has_text="电子").locator(".van-tag__close").click()
    expect(chips).to_have_count(1)
    expect(page.get_by_test_id("ask-result")).to_have_count(3)
    box.fill("我有多少客户")
    box.press("Enter")
    expect(page.get_by_test_id("ask-figure")).to_contain_text("3")
    # A place in the team reads as one, not as an object or an error.
    box.fill("我在团队排名第几")
    box.press("Enter")
    expect(page.get_by_test_id("ask-figure")).to_have_text(re.compile(r"第 \d+ / \d+"))
