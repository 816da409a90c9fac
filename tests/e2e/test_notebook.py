"""Notebook in the browser: a note with a reminder written offline goes through the outbox, syncs
exactly once when the network returns, and its reminder (fired by a real RQ worker on a controlled
clock) arrives live in the open app's inbox: the bell's badge and the inbox list update."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
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
    # The home shortcut (the manifest's /notes/new) and the notebook's button open one compose screen,
    # reminder fields included.
    page.get_by_test_id("shortcut-new-note").click()
    for field in ("note-remind-at", "note-recurrence", "note-urgent"):
        expect(page.get_by_test_id(field)).to_be_visible()
    page.goto("/notes")  # load the notebook screens while online
    page.get_by_test_id("notes-compose").click()
    page.get_by_test_id("note-edit-form").wait_for()
    expect(page).to_have_url(re.compile(r"/notes/new$"))

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
    page.get_by_test_id("days-maturities").locator(".van-stepper__plus").click()
    expect(page.locator(".van-toast")).to_contain_text("已保存")
    assert page.request.get("/api/v1/reminder-settings").json()["maturity_days_ahead"] == 8

    # A lost phone is removed from here (this browser has no push service to subscribe to).
    csrf = page.request.get("/api/v1/me").json()["csrf_token"]
    lost = _fake_browser_subscription()
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Mobile/15E148"  # the app on an iPhone's home screen
    )
    headers = {"X-CSRF-Token": csrf, "User-Agent": iphone}
    assert page.request.post("/api/v1/push/subscriptions", data=lost, headers=headers).ok
    page.reload()
    expect(page.get_by_test_id("push-device")).to_have_count(1)
    expect(page.get_by_test_id("push-device")).to_contain_text("iPhone · Safari")
    expect(page.get_by_test_id("push-device")).not_to_contain_text("Mozilla")  # no raw header
    screenshot(page, "notebook-03-settings")
    page.get_by_test_id("push-device-remove").click()
    page.locator(".van-dialog__confirm").click()
    expect(page.get_by_test_id("push-device")).to_have_count(0)
    assert page.request.get("/api/v1/push/subscriptions").json()["items"] == []


def _service_worker(sw_context, page):
    """The app's service worker, in a persistent profile (an installed app), ready and in control."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # the first load is not controlled: the worker takes the pages loaded after it
    page.get_by_test_id("home-greeting").wait_for()
    for _ in range(100):
        workers = [w for w in sw_context.service_workers if w.url.endswith("/sw.js")]
        if workers and page.evaluate("navigator.serviceWorker.controller !== null"):
            return workers[0]
        page.wait_for_timeout(100)
    raise AssertionError("the service worker did not take control")


def _fake_browser_subscription(host: str = "127.0.0.1") -> dict:
    """What PushSubscription.toJSON() gives: an endpoint, a P-256 key and a 16-byte auth secret. The
    host must resolve to an address the test configuration allows (endpoints are checked when stored,
    server/outbound.py); nothing is sent to it here."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from tests.push_service import b64e

    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return {
        "endpoint": f"https://{host}/wpush/v2/{uuid.uuid4().hex}",
        "expirationTime": None,
        "keys": {"p256dh": b64e(point), "auth": b64e(os.urandom(16))},
    }


def test_service_worker_opens_the_deep_link_and_re_subscribes(sw_context, rm_user, base_url):
    """notificationclick navigates the open app to the notification's link; pushsubscriptionchange
    registers the new subscription with the server and drops the old one. The worker's own handlers
    run in the real browser; the events are dispatched in the worker, as the browser would."""
    page = sw_context.pages[0] if sw_context.pages else sw_context.new_page()
    sw_context.grant_permissions(["notifications"], origin=base_url)
    sign_in(page, rm_user)
    worker = _service_worker(sw_context, page)

    worker.evaluate(
        """async () => {
            await self.registration.showNotification('客户生日提醒', {
                body: '点开展业查看详情', tag: 'deep-link', data: { url: '/settings/notifications' } })
            const [shown] = await self.registration.getNotifications({ tag: 'deep-link' })
            self.dispatchEvent(new NotificationEvent('notificationclick', { notification: shown }))
        }"""
    )
    expect(page).to_have_url(re.compile(r"/settings/notifications$"))
    expect(page.get_by_test_id("push-permission")).to_contain_text("已允许")

    old, new = _fake_browser_subscription(), _fake_browser_subscription()
    csrf = page.request.get("/api/v1/me").json()["csrf_token"]
    created = page.request.post("/api/v1/push/subscriptions", data=old, headers={"X-CSRF-Token": csrf})
    assert created.status == 201, created.text()
    worker.evaluate(
        """([old, fresh]) => {
            const change = new ExtendableEvent('pushsubscriptionchange')
            Object.defineProperty(change, 'oldSubscription', { value: { endpoint: old.endpoint } })
            Object.defineProperty(change, 'newSubscription', {
                value: { endpoint: fresh.endpoint, toJSON: () => fresh } })
            try { self.dispatchEvent(change) } catch (e) { /* waitUntil refuses an untrusted event */ }
        }""",
        [old, new],
    )
    # Wait for the swap itself: before the worker acts, the old one alone is also a list of one.
    expected = {hashlib.sha256(new["endpoint"].encode()).hexdigest()}
    hashes = set()
    for _ in range(100):
        hashes = {d["endpoint_hash"] for d in page.request.get("/api/v1/push/subscriptions").json()["items"]}
        if hashes == expected:
            break
        page.wait_for_timeout(100)
    assert hashes == expected
