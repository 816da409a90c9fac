"""The customer map (客户地图) and prospect list at 375×812: the base map is drawn from the app's own
data with every request to another host refused (no third-party tiles), prospects cluster and colour
by score, "near me" uses geolocation, the card shows reasons and claims; offline, the map still
draws its base map from the service worker's cache."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from server.intel.models import IntelSource
from server.opportunities.models import Opportunity
from server.org.models import Role
from server.prospects.models import Prospect, ProspectModel, ProspectScore
from server.prospects.training import run_training
from tests import factories
from tests.e2e.conftest import screenshot, sign_in
from tests.server.prospects.conftest import credit_code, link, make_prospect, sinks  # noqa: F401

pytestmark = pytest.mark.e2e


@pytest.fixture
def map_world(db_session, data_key):
    rm = factories.make_user(db_session, display_name="陈思远")
    customers = [
        factories.make_customer(
            db_session,
            owner=rm,
            data_key=data_key,
            industry_code="C39",
            size=("medium", "large")[k % 2],
            latitude=31.20 + 0.004 * k,
            longitude=121.45 + 0.003 * k,
        )
        for k in range(12)
    ]
    prospects = [
        make_prospect(
            db_session,
            name=f"上海地图{k}号电子有限公司",
            industry_code="C39" if k % 3 else "F51",
            size="medium" if k % 2 else "small",
            lat=31.22 + 0.002 * (k % 7),
            lng=121.46 + 0.002 * (k // 7),
        )
        for k in range(30)
    ]
    far = make_prospect(db_session, name="北京远方科技有限公司", lat=39.9, lng=116.4, region_code="110000")
    link(db_session, prospects[1], kind="supplier", customer_id=customers[0].id)
    model = ProspectModel(
        owner_id=rm.id, seeds_kind="customers", seed_ids=[c.id for c in customers], status="queued"
    )
    db_session.add(model)
    db_session.commit()
    run_training(db_session, model_id=model.id)
    assert db_session.get(ProspectModel, model.id).status == "done"
    return {"rm": rm, "prospects": prospects, "far": far, "model": model}


def test_map_and_list_with_no_internet(page, base_url, db_session, map_world):
    own_host = urlparse(base_url).netloc
    outside: list[str] = []

    def guard(route):
        host = urlparse(route.request.url).netloc
        if host and host != own_host:
            outside.append(route.request.url)
            return route.abort()
        return route.continue_()

    page.context.route("**/*", guard)
    page.context.grant_permissions(["geolocation"], origin=base_url)
    page.context.set_geolocation({"latitude": 31.225, "longitude": 121.465})
    sign_in(page, map_world["rm"])
    page.goto("/customers")
    page.get_by_test_id("prospects-entry").click()
    expect(page).to_have_url(f"{base_url}/prospects")
    the_map = page.get_by_test_id("prospect-map")
    expect(the_map).to_be_visible()
    box = the_map.bounding_box()
    assert box and box["width"] >= 370 and box["height"] >= 300
    # The base map: city outlines, roads and labels drawn from the app's own data.
    expect(page.locator(".pmap-label", has_text="上海市")).to_have_count(1)
    expect(page.locator(".leaflet-overlay-pane canvas")).to_have_count(1)
    # Customers and clustered prospects, coloured by score.
    expect(page.locator(".pmap-cluster, .pmap-dot").first).to_be_visible()
    assert page.locator(".pmap-cluster").count() + page.locator(".pmap-dot").count() >= 2
    screenshot(page, "prospects-map")

    page.get_by_test_id("tab-list").click()
    items = page.get_by_test_id("prospect-item")
    expect(items.first).to_be_visible()
    scores = [int(s) for s in page.locator(".prospects__score").all_inner_texts() if s.strip().isdigit()]
    assert scores == sorted(scores, reverse=True) and scores
    # Near me (5 km): the Beijing firm drops out, distances appear.
    page.get_by_test_id("near-me").click()
    expect(page.get_by_test_id("prospect-list")).to_contain_text("公里")
    expect(page.get_by_test_id("prospect-list")).not_to_contain_text("北京远方科技有限公司")
    screenshot(page, "prospects-list")

    # The card: reasons (factors, path, similar customers) and a claim.
    page.get_by_test_id("prospect-item").filter(has_text="上海地图1号电子有限公司").click()
    card = page.get_by_test_id("prospect-card")
    expect(card.get_by_test_id("prospect-name")).to_have_text("上海地图1号电子有限公司")
    expect(card.get_by_test_id("prospect-path")).to_contain_text("（我行客户）")
    expect(card.get_by_test_id("prospect-reasons")).to_contain_text("行业")
    card.get_by_test_id("prospect-claim").click()
    expect(card.get_by_test_id("prospect-claimed")).to_be_visible()
    for name in (
        "prospect-share",
        "prospect-warroom",
        "prospect-plan",
        "prospect-visited",
        "prospect-release",
    ):
        button = card.get_by_test_id(name)
        assert button.bounding_box()["height"] >= 44
    card.get_by_test_id("prospect-plan").click()
    expect(card).to_contain_text("计划拜访")
    screenshot(page, "prospects-card")
    # Share to the pool: a prefilled dialog, one tap, and the opportunity exists.
    card.get_by_test_id("prospect-share").click()
    dialog = page.locator(".van-dialog")
    expect(dialog).to_contain_text("上海地图1号电子有限公司 开发商机")
    screenshot(page, "prospects-share-confirm")
    dialog.locator(".van-dialog__confirm").click()
    expect(page.locator(".van-toast")).to_contain_text("已分享到商机池")
    prospect_id = map_world["prospects"][1].id
    shared = db_session.exec(
        select(Opportunity).where(Opportunity.source_ref == f"prospect:{prospect_id}")
    ).one()
    assert shared.prospect_name == "上海地图1号电子有限公司" and shared.industry_code == "C39"
    expect(card).to_contain_text("分享到商机池")  # the card's follow-up record
    # Start a war room: one tap opens the room with the firm as its target.
    card.get_by_test_id("prospect-warroom").click()
    expect(dialog).to_contain_text("上海地图1号电子有限公司 营销")
    dialog.locator(".van-dialog__confirm").click()
    expect(page).to_have_url(re.compile(r"/war-rooms/\d+$"))
    expect(page.get_by_text("上海地图1号电子有限公司 营销").first).to_be_visible()
    assert outside == [], f"requests left the app: {outside[:3]}"
    scored = db_session.exec(
        select(ProspectScore).where(ProspectScore.model_id == map_world["model"].id)
    ).all()
    assert len(scored) >= 31


def test_offline_the_map_still_draws_its_base_map(sw_context, db_session, map_world):
    page = sw_context.pages[0] if sw_context.pages else sw_context.new_page()
    sign_in(page, map_world["rm"])
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.goto("/prospects")
    expect(page.locator(".pmap-label", has_text="上海市")).to_have_count(1)
    page.reload()  # now controlled by the service worker, which keeps the base map
    expect(page.locator(".pmap-label", has_text="上海市")).to_have_count(1)
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    sw_context.set_offline(True)
    try:
        page.reload()
        expect(page.get_by_test_id("prospect-map")).to_be_visible()
        expect(page.locator(".pmap-label", has_text="上海市")).to_have_count(1)
        expect(page.get_by_test_id("map-offline")).to_be_visible()
        screenshot(page, "prospects-map-offline")
    finally:
        sw_context.set_offline(False)


@pytest.mark.usefixtures("sinks")
def test_admin_uploads_a_registry_extract_and_follows_it(page, db_session, worker):
    """The admin's upload screen at 375×812 in zh-CN: from the home tile, a CSV with a bad row is
    uploaded to an upload source; the screen follows the job to the end and lists the bad row with
    its line, field and Chinese reason; a file the server refuses shows the problem in Chinese."""
    admin = factories.make_user(db_session, role=Role.admin, persona=None, display_name="管理员")
    source = IntelSource(name="工商登记摘录E2E", kind="upload", category="corporate_event")
    db_session.add(source)
    db_session.commit()
    good = credit_code()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    csv_body = (
        "企业名称,统一社会信用代码,行业代码,规模\n"
        f"上海导入一号科技有限公司,{good},C39,小型\n"
        f"上海导入二号科技有限公司,{bad},C39,小型\n"
    ).encode()
    sign_in(page, admin)
    page.get_by_test_id("tile-prospectImports").click()
    screen = page.get_by_test_id("prospect-imports")
    expect(screen).to_be_visible()
    screen.get_by_text(source.name).click()
    screen.get_by_test_id("import-file").set_input_files(
        files=[{"name": "registry.csv", "mimeType": "text/csv", "buffer": csv_body}]
    )
    expect(screen.get_by_test_id("import-status")).to_contain_text("排队中")
    worker.work(burst=True)  # the RQ job the upload queued
    expect(screen.get_by_test_id("import-status")).to_contain_text("已完成")
    expect(screen.get_by_test_id("import-counts")).to_contain_text("新增 1")
    row = screen.get_by_test_id("import-error")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("第 3 行")
    expect(row).to_contain_text("校验位")
    expect(page.locator(".van-toast")).to_be_hidden()  # the "queued" toast, out of the screenshot
    screenshot(page, "prospects-imports-admin")
    # Back later: the list of recent imports comes without errors; tapping one fetches them.
    page.reload()
    screen = page.get_by_test_id("prospect-imports")
    expect(screen.get_by_test_id("import-error")).to_have_count(0)
    screen.get_by_test_id("import-recent").get_by_text("registry.csv").first.click()
    expect(screen.get_by_test_id("import-error")).to_contain_text("第 3 行")
    # A file that is not CSV/XLSX at heart: the server's problem, in Chinese, never its English.
    screen.get_by_test_id("import-file").set_input_files(
        files=[{"name": "broken.xlsx", "mimeType": "application/octet-stream", "buffer": b"PK\x03\x04broken"}]
    )
    expect(page.locator(".van-toast")).to_contain_text("文件无法读取")
    assert db_session.exec(select(Prospect).where(Prospect.credit_code == good)).one()
