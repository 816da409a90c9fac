"""The risk screens at 375x812 in zh-CN: the risk officer goes from the home entry to the ranked list,
an RM's signals and evidence timeline, the departing-RM check (run by a real worker) and a case
closed as confirmed; the team lead sees only the team."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from server.audit.models import AuditEntry
from server.conduct import runs
from server.org.models import Role, User
from server.timeutil import utcnow
from tests import factories
from tests.e2e.conftest import screenshot, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def flagged(db_session, data_key):
    branch = factories.make_branch(db_session)
    team = factories.make_team(db_session, branch=branch)
    lead = db_session.get(User, team.lead_id)
    veteran = factories.make_user(db_session, branch=branch, team=team, display_name="周国庆")
    calm = factories.make_user(db_session, branch=branch, team=team, display_name="林新雨")
    customer = factories.make_customer(
        db_session, owner=veteran, data_key=data_key, name=f"上海浦江精工有限公司{veteran.id}"
    )
    risk = factories.make_user(db_session, role=Role.risk_officer, persona=None, display_name="吴慧敏")
    for _ in range(10):  # the rest of the bank: peers to compare with
        factories.make_user(db_session)
    start = (utcnow() - timedelta(days=3)).replace(
        hour=15, minute=20, second=0, microsecond=0
    )  # 23:20 Beijing
    for k in range(30):
        db_session.add(
            AuditEntry(
                at=start + timedelta(seconds=15 * k),
                actor_id=veteran.id,
                action="customer.reveal",
                object_type="customer",
                object_id=str(customer.id),
                ip="117.40.2.8",
                detail={"field": "phone", "reason": "核实"},
            )
        )
    db_session.commit()
    runs.run_daily(db_session)
    return {"lead": lead, "veteran": veteran, "calm": calm, "risk": risk, "customer": customer}


def test_risk_officer_reviews_a_flagged_rm(page, flagged, worker):
    sign_in(page, flagged["risk"])
    page.get_by_test_id("conduct-entry").click()
    expect(page).to_have_url(re.compile(r"/conduct$"))
    rows = page.get_by_test_id("conduct-row")
    expect(rows.first).to_be_visible()
    row = rows.filter(has_text="周国庆")
    expect(row).to_contain_text("集中/深夜/行外查看敏感信息")
    screenshot(page, "conduct-ranked")

    row.click()
    expect(page).to_have_url(re.compile(rf"/conduct/rms/{flagged['veteran'].id}$"))
    card = page.get_by_test_id("signal-card").first
    expect(card).to_contain_text("集中/深夜/行外查看敏感信息")
    expect(card).to_contain_text("触发")
    expect(card).to_contain_text("深夜")
    screenshot(page, "conduct-rm-signals")

    page.get_by_role("tab", name="证据时间线").click()
    timeline = page.get_by_test_id("evidence-timeline")
    expect(timeline).to_contain_text("查看客户敏感信息")
    expect(timeline).to_contain_text(flagged["customer"].name)
    screenshot(page, "conduct-rm-timeline")

    page.get_by_role("tab", name="离职排查").click()
    page.get_by_test_id("departing-run").click()
    page.wait_for_timeout(300)
    worker.work(burst=True)  # the check runs as a job
    at_risk = page.get_by_test_id("at-risk")
    expect(at_risk).to_contain_text(flagged["customer"].name)
    expect(at_risk).to_contain_text("敏感信息")
    screenshot(page, "conduct-departing-check")

    page.get_by_role("tab", name="案件").click()
    page.get_by_test_id("open-case").click()
    expect(page).to_have_url(re.compile(r"/conduct/cases/\d+$"))
    expect(page.get_by_test_id("case-status")).to_contain_text("待处理")
    page.get_by_test_id("case-note").locator("textarea").fill("已调取通话记录，确认夜间批量查看")
    page.get_by_test_id("case-add-note").click()
    expect(page.get_by_text("已调取通话记录，确认夜间批量查看")).to_be_visible()
    page.get_by_test_id("case-confirm").click()
    expect(page.get_by_test_id("case-status")).to_contain_text("属实")
    screenshot(page, "conduct-case-closed")


def test_team_lead_sees_only_the_team(page, flagged):
    sign_in(page, flagged["lead"])
    page.get_by_test_id("conduct-entry").click()
    rows = page.get_by_test_id("conduct-row")
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("conduct-ranked")).to_contain_text("周国庆")
    expect(page.get_by_test_id("conduct-ranked")).to_contain_text("林新雨")


def test_an_rm_has_no_way_in(page, flagged):
    sign_in(page, flagged["calm"])
    expect(page.get_by_test_id("conduct-entry")).to_have_count(0)
    page.goto("/conduct")
    # the screen is not in the RM's shell: the router sends the RM home, and the API refuses too
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_test_id("conduct-entry")).to_have_count(0)
    refused = page.request.get("/api/v1/conduct/rms", headers={"Accept-Language": "zh-CN"})
    assert refused.status == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
