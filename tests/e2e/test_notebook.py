"""Notebook in the browser: a note with a reminder written offline goes through the outbox, syncs
exactly once when the network returns, and its reminder (fired by a real RQ worker on a controlled
clock) arrives live in the open app's inbox: the bell's badge and the inbox list update."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tasks.reminders import scan_reminders
from tests.e2e.conftest import screenshot, sign_in

pytestmark = pytest.mark.e2e

REMIND_LOCAL = "2033-01-10T10:00"  # Asia/Shanghai, the context's time zone
DUE = datetime(2033, 1, 10, 2, 0, tzinfo=UTC)


def test_note_written_offline_syncs_and_its_reminder_arrives_live(page, context, rm_user, worker):
    sign_in(page, rm_user)
    page.goto("/notes")  # load the notebook screens while online
    page.get_by_test_id("notes-compose").click()
    page.get_by_test_id("note-edit-form").wait_for()

    context.set_offline(True)
    body = f"离线写的提醒 {rm_user.username}：周五前给王总回电话"
    page.get_by_test_id("note-edit-body").locator("textarea").fill(body)
    page.get_by_test_id("note-remind-at").fill(REMIND_LOCAL)
    page.get_by_test_id("note-edit-save").click()
    expect(page.get_by_test_id("note-pending")).to_contain_text(body)
    screenshot(page, "notebook-01-pending-offline")

    context.set_offline(False)  # the `online` event replays the outbox
    expect(page.get_by_test_id("note-pending")).to_have_count(0, timeout=20_000)
    notes = page.request.get("/api/v1/notes").json()["items"]
    mine = [n for n in notes if n["body"] == body]
    assert len(mine) == 1, "synced exactly once"
    assert mine[0]["remind_at"] == "2033-01-10T02:00:00Z"

    page.goto("/inbox")
    expect(page.get_by_test_id("inbox-live")).to_be_visible(timeout=15_000)
    expect(page.get_by_test_id("inbox-count")).to_contain_text("0 条未读")

    scan_reminders.enqueue(now=DUE.replace(second=5).isoformat(), chain=False)
    worker.work(burst=True)

    item = page.locator("[data-testid^='inbox-item-']").filter(has_text=body)
    expect(item).to_be_visible(timeout=15_000)
    expect(page.get_by_test_id("inbox-count")).to_contain_text("1 条未读")
    expect(page.get_by_test_id("inbox-unread")).to_contain_text("1")
    screenshot(page, "notebook-02-inbox-live")

    item.click()  # opens the deep link and marks it read
    expect(page).to_have_url(re.compile(rf"/notes/{mine[0]['id']}$"))
    page.goto("/inbox")
    expect(page.get_by_test_id("inbox-count")).to_contain_text("0 条未读")


def test_notification_settings_screen(page, rm_user):
    sign_in(page, rm_user)
    page.goto("/settings/notifications")
    expect(page.get_by_test_id("push-permission")).to_be_visible()
    expect(page.get_by_test_id("push-subscribe")).to_be_visible()
    page.get_by_test_id("quiet-switch").click()
    expect(page.locator(".van-toast")).to_contain_text("已保存")
    settings = page.request.get("/api/v1/reminder-settings").json()
    assert (settings["quiet_start"], settings["quiet_end"]) == ("22:00", "07:30")
    page.get_by_test_id("switch-birthdays").click()
    expect(page.locator(".van-toast")).to_contain_text("已保存")
    assert page.request.get("/api/v1/reminder-settings").json()["birthdays"] is False
    screenshot(page, "notebook-03-settings")
