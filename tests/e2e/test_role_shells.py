"""Every role in its own shell, on the demo bank, at 375×812 in zh-CN: the team lead opening a
member's mirror, the risk officer searching the audit log, the admin disabling a user (whose session
ends), an RM revealing a phone with a reason — and times shown in the user's zone (Asia/Shanghai)
with the browser in another zone."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
import requests
from playwright.sync_api import expect

from server.demo.generator import DEMO_PASSWORD
from tests.conftest import http_login
from tests.e2e.conftest import sign_in_as

pytestmark = pytest.mark.e2e


def tab_ids(page) -> list[str]:
    page.get_by_test_id("tabbar").wait_for()
    return page.locator(".tabbar__item").evaluate_all("els => els.map(e => e.dataset.testid)")


def test_each_role_sees_only_its_tabs(demo_context):
    expected = {
        "rm_general": ["tab-home", "tab-customers", "tab-opportunities", "tab-war-rooms", "tab-me"],
        "lead": ["tab-home", "tab-customers", "tab-team-desk", "tab-war-rooms", "tab-me"],
        "risk": ["tab-home", "tab-audit", "tab-conduct", "tab-me"],
        "admin": ["tab-home", "tab-users", "tab-settings", "tab-me"],
    }
    for username, tabs in expected.items():
        page = demo_context().new_page()
        sign_in_as(page, username)
        assert tab_ids(page) == tabs, username
        # a screen of another role is not reachable by typing its address either
        page.goto("/admin/users" if username != "admin" else "/opportunities")
        page.get_by_test_id("home-greeting").wait_for()
        assert urlparse(page.url).path == "/", (username, page.url)


def test_lead_opens_a_member_mirror(demo_context):
    page = demo_context().new_page()
    sign_in_as(page, "lead")
    members = page.get_by_test_id("team-member")
    expect(members.first).to_be_visible()
    assert members.count() >= 5  # the five demo personas are in lead's team
    # every member row shows completion and knowledge degree
    expect(members.first).to_contain_text("本月完成率")
    expect(members.first).to_contain_text("知彼度")
    name = members.first.get_by_test_id("team-row-name").inner_text().strip()
    members.first.click()
    expect(page.get_by_test_id("team-member-page")).to_be_visible()
    page.get_by_test_id("member-mirror").click()
    expect(page.get_by_test_id("mirror")).to_be_visible()
    expect(page.get_by_test_id("challenge-power")).to_be_visible()
    expect(page.locator(".app-header__title, header h1").first).to_contain_text(name)
    # the lead reads the member: no self-evaluation or rating invitation on someone else's mirror
    expect(page.get_by_test_id("mirror-invite")).to_have_count(0)
    assert "/workbench/mirror?rm=" in page.url


def test_risk_officer_searches_the_audit_log(demo_context):
    ctx = demo_context(accept_downloads=True)
    page = ctx.new_page()
    sign_in_as(page, "risk")
    page.get_by_test_id("tab-audit").click()
    expect(page.get_by_test_id("audit-page")).to_be_visible()
    expect(page.get_by_test_id("audit-entry").first).to_be_visible()
    page.get_by_test_id("audit-action").click()
    page.get_by_role("button", name="查看客户敏感信息").click()
    page.get_by_test_id("audit-search").click()
    entries = page.get_by_test_id("audit-entry")
    expect(entries.first).to_contain_text("查看客户敏感信息")
    for text in entries.all_inner_texts()[:10]:
        assert "查看客户敏感信息" in text
        assert re.search(r"来自 \d", text), text  # from where
        assert not re.search(r"\d{4}-\d{2}-\d{2}T", text)  # no ISO timestamps
    expect(page.get_by_test_id("audit-reason").first).to_be_visible()
    with page.expect_download() as download:
        page.get_by_test_id("audit-export").click()
    with open(download.value.path(), encoding="utf-8-sig") as handle:
        csv_text = handle.read()
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("id,at,actor_id,actor,action")
    assert len(lines) > 1 and all(",customer.reveal," in line for line in lines[1:])


def test_admin_disables_a_user_and_their_session_ends(demo_context, demo_server):
    admin = demo_context().new_page()
    sign_in_as(admin, "admin")
    admin.get_by_test_id("tab-users").click()
    # the admin creates a user on the screen ...
    admin.get_by_test_id("user-new").click()
    admin.get_by_test_id("user-username").locator("input").fill("rm_e2e_temp")
    admin.get_by_test_id("user-display-name").locator("input").fill("临时客户经理")
    admin.get_by_test_id("user-password").locator("input").fill("temp-pass-123")
    admin.get_by_test_id("user-save").click()
    expect(admin.get_by_test_id("user-rm_e2e_temp")).to_be_visible()

    # ... who signs in on a phone of their own
    phone = demo_context().new_page()
    sign_in_as(phone, "rm_e2e_temp", "temp-pass-123")

    admin.get_by_test_id("user-disable-rm_e2e_temp").click()
    admin.get_by_role("button", name="停用").last.click()
    expect(admin.get_by_test_id("user-rm_e2e_temp")).to_contain_text("已停用")

    # their session ended on the server, and their live socket with it: the phone is back at
    # sign-in without a tap
    phone.wait_for_url(re.compile(r"/login"), timeout=15_000)
    expect(phone.get_by_test_id("login-submit")).to_be_visible()
    answer = requests.post(
        demo_server.url + "/api/v1/auth/login",
        json={"username": "rm_e2e_temp", "password": "temp-pass-123"},
        timeout=10,
    )
    assert answer.status_code == 401


def test_rm_reveals_a_phone_with_a_reason(demo_context, demo_server):
    http = http_login(demo_server.url, "rm_general", DEMO_PASSWORD)
    listing = http.get(demo_server.url + "/api/v1/customers", params={"page_size": 50}, timeout=10).json()
    customer = next(c for c in listing["items"] if c.get("phone_masked"))
    page = demo_context().new_page()
    sign_in_as(page, "rm_general")
    page.get_by_test_id("tab-customers").click()
    page.get_by_test_id("customer-search").locator("input").fill(customer["name"])
    page.get_by_test_id("customer-item").filter(has_text=customer["name"]).first.click()
    expect(page.get_by_test_id("customer-detail")).to_be_visible()
    masked = page.get_by_test_id("customer-phone").inner_text()
    assert "****" in masked
    page.get_by_test_id("customer-reveal").click()
    page.get_by_test_id("reveal-submit").click()
    expect(page.get_by_test_id("reveal-form")).to_contain_text("请填写理由")  # a reason is required
    page.get_by_test_id("reveal-reason").locator("input").fill("约客户明天面谈")
    page.get_by_test_id("reveal-submit").click()
    call = page.get_by_test_id("customer-call")
    expect(call).to_be_visible()
    href = call.get_attribute("href")
    assert href and re.fullmatch(r"tel:1\d{10}", href), href
    box = call.bounding_box()
    assert box and box["height"] >= 44
    customer_id = re.search(r"/customers/(\d+)", page.url).group(1)

    risk = http_login(demo_server.url, "risk", DEMO_PASSWORD)
    found = risk.get(
        demo_server.url + "/api/v1/audit",
        params={"action": "customer.reveal", "object_type": "customer", "object_id": customer_id},
        timeout=10,
    ).json()
    assert any(e["detail"].get("reason") == "约客户明天面谈" for e in found["items"])


def test_times_show_in_the_user_zone_with_the_browser_elsewhere(demo_context, demo_server):
    """A note reminder at 07:30 Shanghai time reads 07:30 on a phone set to New York."""
    http = http_login(demo_server.url, "rm_excellent", DEMO_PASSWORD)
    note = http.post(
        demo_server.url + "/api/v1/notes",
        json={
            "body": "时区检查：约见客户",
            "remind_at": "2033-03-09T23:30:00Z",
        },  # 07:30 on 10 March in Shanghai
        headers={"Idempotency-Key": "tz-check-1"},
        timeout=10,
    )
    assert note.status_code in (200, 201), note.text
    ctx = demo_context(timezone_id="America/New_York")
    page = ctx.new_page()
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "America/New_York"
    sign_in_as(page, "rm_excellent")
    page.goto("/notes")
    item = page.locator("text=时区检查：约见客户").first
    expect(item).to_be_visible()
    body = page.locator("main").inner_text()
    assert "3月10日 07:30" in body, body[:500]
    assert "18:30" not in body  # New York's wall clock


def test_share_form_picks_industry_region_product_and_shows_the_split(demo_context):
    page = demo_context().new_page()
    sign_in_as(page, "rm_general")
    page.goto("/opportunities/new")
    form = page.get_by_test_id("opportunity-share-form")
    expect(form).to_be_visible()
    assert "代码" not in form.inner_text()  # no raw code fields
    page.get_by_test_id("share-industry").click()
    page.locator(".van-action-sheet__item", has_text="汽车制造业").click()
    page.get_by_test_id("share-region").click()
    page.locator(".van-action-sheet__item", has_text="上海市").click()
    expect(page.get_by_test_id("share-industry").locator("input")).to_have_value("汽车制造业")
    page.get_by_test_id("share-product").click()
    page.locator(".van-action-sheet__item").nth(1).click()
    assert page.get_by_test_id("share-product").locator("input").input_value() not in ("", "不指定")
    page.get_by_test_id("share-amount").locator("input").fill("100")
    split = page.get_by_test_id("share-split")
    expect(split).to_contain_text("提供人 30% / 成交人 70%")
    expect(split).to_contain_text("30万元")
    expect(split).to_contain_text("70万元")
