"""Personas from data on the demo bank, at 375x812 in zh-CN: the team lead sees the team's
classified personas with their reasons, overrides the general RM with a reason (the RM's home then
shows the override and why), looks at the newcomers' cohort view, and removes the override; the
newcomer's home shows the classifier's reasons and the paired mentor; the admin's thresholds screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, sign_in_as

pytestmark = pytest.mark.e2e


def test_lead_overrides_a_persona_and_the_rm_home_follows(demo_context):
    lead = demo_context().new_page()
    sign_in_as(lead, "lead")
    lead.get_by_test_id("tile-teamPersonas").click()
    expect(lead).to_have_url(re.compile(r"/team/personas$"))
    rows = lead.get_by_test_id("team-persona-row")
    expect(rows.first).to_be_visible()
    newcomer_row = rows.filter(has_text="林新雨")
    expect(newcomer_row.get_by_test_id("team-persona-tag")).to_have_text("新进")
    expect(newcomer_row).to_contain_text("入行")
    general = rows.filter(has_text="王建国")
    expect(general.get_by_test_id("team-persona-tag")).to_have_text("一般")
    expect(general).to_contain_text("完成率")
    screenshot(lead, "personas-team")

    general.get_by_test_id("persona-override-open").click()
    sheet = lead.get_by_test_id("persona-override-sheet")
    expect(sheet).to_be_visible()
    expect(sheet.get_by_test_id("persona-override-save")).to_be_disabled()  # a reason is required
    sheet.get_by_test_id("persona-choice-excellent").click()
    sheet.get_by_test_id("persona-override-reason").locator("input").fill("本季度独立拿下两个项目")
    screenshot(lead, "personas-override")
    sheet.get_by_test_id("persona-override-save").click()
    expect(general.get_by_test_id("team-persona-tag")).to_have_text("优秀")
    expect(general.get_by_test_id("team-persona-override")).to_contain_text("本季度独立拿下两个项目")

    rm = demo_context().new_page()
    sign_in_as(rm, "rm_general")
    card = rm.get_by_test_id("persona-card")
    expect(card.get_by_test_id("persona-label")).to_have_text("优秀")
    expect(card.get_by_test_id("persona-override")).to_contain_text("本季度独立拿下两个项目")
    expect(card.get_by_test_id("persona-reasons")).to_contain_text("入行")
    rm.get_by_test_id("persona-history-link").click()
    expect(rm.get_by_test_id("persona-history").first).to_contain_text("团队长调整为「优秀」")
    screenshot(rm, "personas-rm-history")

    newcomer = demo_context().new_page()
    sign_in_as(newcomer, "rm_newcomer")
    card = newcomer.get_by_test_id("persona-card")
    expect(card.get_by_test_id("persona-label")).to_have_text("新进")
    expect(card.get_by_test_id("persona-reasons")).to_contain_text(re.compile(r"入行 \d 个月"))
    expect(newcomer.get_by_test_id("mentor-name")).to_contain_text("导师：")
    screenshot(newcomer, "personas-newcomer-home")

    lead.get_by_test_id("persona-override-clear").first.click()  # only the general RM is overridden
    expect(general.get_by_test_id("team-persona-tag")).to_have_text("一般")

    lead.goto("/")
    lead.get_by_test_id("tile-cohorts").click()
    view = lead.get_by_test_id("cohort-view")
    row = view.get_by_test_id("cohort-newcomer").filter(has_text="林新雨")
    expect(row).to_contain_text("首单")
    expect(row.get_by_test_id("cohort-readiness")).to_have_text("—")
    expect(row).to_contain_text("导师")
    screenshot(lead, "personas-cohorts")


def test_admin_sees_the_persona_thresholds(demo_context):
    page = demo_context().new_page()
    sign_in_as(page, "admin")
    page.get_by_test_id("tile-personaThresholds").click()
    expect(page.get_by_test_id("persona-thresholds")).to_be_visible()
    expect(page.get_by_test_id("threshold-newcomer_months").locator("input")).to_have_value("6")
    screenshot(page, "personas-thresholds")
