"""The PWA shell in a real browser: sign-in, the tabs, languages, installability and the service
worker, offline reads, the offline outbox (exactly-once through 503s), and the logout warning."""

from __future__ import annotations

import json
import re
import struct
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Route, expect

from tests.e2e.conftest import screenshot, sign_in

pytestmark = pytest.mark.e2e

# (tab button, path, label, a marker this shell owns or None: feature screens own their content)
TABS = [
    ("tab-home", "/", "工作台", "home-greeting"),
    ("tab-customers", "/customers", "客户", "customer-list"),
    ("tab-opportunities", "/opportunities", "商机", None),
    ("tab-war-rooms", "/war-rooms", "作战室", None),
    ("tab-me", "/me", "我的", "me-profile"),
]


def test_unauthenticated_visit_goes_to_sign_in(page):
    page.goto("/customers")
    expect(page).to_have_url(re.compile(r"/login\?redirect=/customers$"))
    expect(page.get_by_test_id("login-submit")).to_have_text("登录")


def test_wrong_password_is_refused(page, rm_user):
    page.goto("/login")
    page.get_by_label("用户名").fill(rm_user.username)
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_have_text("用户名或密码错误")


def test_sign_in_and_every_tab_renders(page, rm_user):
    page.goto("/login")
    screenshot(page, "01-login")
    sign_in(page, rm_user)
    greeting = page.get_by_test_id("home-greeting")
    expect(greeting).to_contain_text("张伟")
    expect(greeting).to_contain_text("一般·客户经理")
    expect(page.get_by_test_id("network-status")).to_have_text("在线")
    screenshot(page, "02-home")

    for test_id, path, label, marker in TABS:
        page.get_by_test_id(test_id).click()
        expect(page).to_have_url(re.compile(re.escape(path) + "$"))
        expect(page.locator(".tabbar__item--active")).to_have_text(label)
        expect(page.get_by_test_id("network-status")).to_be_visible()  # the shell's header
        expect(page.locator("main").first).to_be_visible()
        if marker:
            expect(page.get_by_test_id(marker)).to_be_visible()
        if test_id == "tab-customers":
            expect(page.get_by_test_id("customer-item")).to_have_count(3)
        screenshot(page, f"03-{test_id}")

    # search (debounced) and open one customer through the API
    page.get_by_test_id("tab-customers").click()
    page.get_by_test_id("customer-search").locator("input").fill("李娜")
    expect(page.get_by_test_id("customer-item")).to_have_count(1)
    page.get_by_test_id("customer-item").first.click()
    detail = page.get_by_test_id("customer-detail")
    expect(detail).to_contain_text(rm_user.customer_names[2])
    expect(detail).to_contain_text("138****5678")  # masked by the server
    screenshot(page, "04-customer-detail")


def test_opening_the_home_asks_who_is_signed_in_once_while_the_scripts_load(page, rm_user):
    """index.html preloads /api/v1/me; the session's first GET takes that answer instead of asking
    again after the scripts have run, and the browser has nothing to warn about an unused preload."""
    sign_in(page, rm_user)
    asked: list[str] = []
    warnings: list[str] = []
    page.on("request", lambda r: asked.append(r.resource_type) if r.url.endswith("/api/v1/me") else None)
    page.on("console", lambda m: warnings.append(m.text) if m.type in ("warning", "error") else None)
    page.reload()
    expect(page.get_by_test_id("home-greeting")).to_contain_text("张伟")
    expect(page.get_by_test_id("workbench-home")).to_be_visible()
    page.wait_for_timeout(3500)  # Chromium warns about a preload still unused after about 3 s
    assert len(asked) == 1, asked  # one request: the preload (Chromium types it "other")
    initiators = page.evaluate(
        "performance.getEntriesByType('resource')"
        ".filter(e => e.name.endsWith('/api/v1/me')).map(e => e.initiatorType)"
    )
    assert initiators == ["link"], initiators  # asked by index.html's preload, not by a later fetch()
    assert not [w for w in warnings if "preload" in w], warnings


COMPILE_HINT = b"//# allFunctionsCalledOnLoad\n"


def test_the_scripts_every_start_runs_are_compiled_eagerly_and_the_rest_lazily(page, rm_user):
    """The entry and the modules it imports statically start with V8's compile hint (their functions
    compile off the main thread while they stream in); a screen's own chunk, loaded when the screen
    opens, does not (compiling all of it eagerly would cost every start)."""
    sign_in(page, rm_user)
    scripts: dict[str, bytes] = {}
    page.on(
        "response",
        lambda r: scripts.__setitem__(r.url, r.body()) if r.request.resource_type == "script" else None,
    )
    page.reload()
    expect(page.get_by_test_id("workbench-home")).to_be_visible()
    html = page.evaluate("fetch('/').then(r => r.text())")
    startup = set(re.findall(r'(?:src|href)="(/assets/[^"]+\.js)"', html))
    assert len(startup) >= 2, html  # the entry and at least its shared vendor chunk

    def by_path() -> dict[str, bytes]:
        return {urlsplit(url).path: body for url, body in scripts.items()}

    for path in startup:
        assert by_path()[path].startswith(COMPILE_HINT), path  # served (gzipped) with the hint first

    page.get_by_test_id("tab-me").click()
    expect(page.get_by_test_id("me-profile")).to_be_visible()
    screen_chunks = [
        body for path, body in by_path().items() if path.startswith("/assets/") and path not in startup
    ]
    assert screen_chunks, "the home's body and the screen opened load chunks of their own"
    assert not [body[:40] for body in screen_chunks if body.startswith(COMPILE_HINT)]


def test_chinese_by_default_and_english_is_remembered(page, rm_user):
    sign_in(page, rm_user)
    expect(page.get_by_test_id("tab-customers")).to_have_text("客户")
    page.get_by_test_id("tab-me").click()
    page.get_by_test_id("me-language").click()
    page.get_by_role("button", name="English").click()
    expect(page.get_by_test_id("tab-customers")).to_have_text("Customers")
    expect(page.get_by_test_id("logout")).to_have_text("Sign out")
    assert page.evaluate("document.documentElement.lang") == "en"
    screenshot(page, "05-me-en")

    page.reload()
    expect(page.get_by_test_id("tab-home")).to_have_text("Home")
    expect(page.get_by_test_id("network-status")).to_have_text("Online")
    page.get_by_test_id("tab-home").click()
    expect(page.get_by_test_id("home-greeting")).to_contain_text("张伟")

    page.get_by_test_id("tab-me").click()
    page.get_by_test_id("me-language").click()
    page.get_by_role("button", name="简体中文").click()
    expect(page.get_by_test_id("tab-home")).to_have_text("工作台")


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_manifest_is_valid_and_the_service_worker_controls_the_page(sw_context, rm_user):
    page = sw_context.pages[0] if sw_context.pages else sw_context.new_page()
    manifest_response = page.request.get("/manifest.webmanifest")
    assert manifest_response.ok
    assert "no-cache" in manifest_response.headers.get("cache-control", "")
    manifest = manifest_response.json()
    assert manifest["name"] == "展业·客户经理工作台"
    assert manifest["short_name"] == "展业"
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/"
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", manifest["theme_color"])
    sizes = {}
    for icon in manifest["icons"]:
        body = page.request.get(icon["src"]).body()
        width, height = _png_size(body)
        assert icon["sizes"] == f"{width}x{height}"
        sizes.setdefault(icon.get("purpose", "any"), set()).add(width)
    assert {192, 512} <= sizes["any"] and 512 in sizes["maskable"]
    assert {s["url"] for s in manifest["shortcuts"]} == {"/notes/new", "/opportunities"}

    sign_in(page, rm_user)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.get_by_test_id("home-greeting").wait_for()
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL").endswith("/sw.js")
    sw_headers = page.request.get("/sw.js").headers
    assert "no-cache" in sw_headers.get("cache-control", "")

    # Chromium's own installability check (needs a persistent profile)
    cdp = sw_context.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert errors == [], errors
    manifest_check = cdp.send("Page.getAppManifest")
    assert not manifest_check.get("errors"), manifest_check["errors"]


def test_offline_the_shell_loads_and_the_last_customer_list_shows(sw_context, rm_user):
    page = sw_context.pages[0] if sw_context.pages else sw_context.new_page()
    sign_in(page, rm_user)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.goto("/customers")
    expect(page.get_by_test_id("customer-item")).to_have_count(3)
    page.reload()  # now the service worker controls the page and has the shell precached
    expect(page.get_by_test_id("customer-item")).to_have_count(3)
    assert page.evaluate("navigator.serviceWorker.controller !== null")

    # personal API answers stay out of Cache Storage; the app keeps an encrypted copy instead
    cached_api = page.evaluate(
        """async () => { const out = [];
            for (const name of await caches.keys()) {
              const cache = await caches.open(name);
              for (const req of await cache.keys()) if (new URL(req.url).pathname.startsWith('/api/')) out.push(req.url);
            } return out; }"""
    )
    assert cached_api == []
    sealed = page.evaluate(
        """() => new Promise((resolve, reject) => {
            const open = indexedDB.open('zhanye-offline');
            open.onerror = reject;
            open.onsuccess = () => {
              const tx = open.result.transaction('reads');
              const get = tx.objectStore('reads').get('customers::');
              get.onsuccess = () => resolve({
                isBuffer: get.result.data instanceof ArrayBuffer,
                text: new TextDecoder().decode(get.result.data),
              });
            };
          })"""
    )
    assert sealed["isBuffer"] and "星河" not in sealed["text"] and "138" not in sealed["text"]

    sw_context.set_offline(True)
    page.reload()
    expect(page.get_by_test_id("network-status")).to_have_text("离线")
    expect(page.get_by_test_id("offline-banner")).to_be_visible()
    expect(page.get_by_test_id("customers-offline-copy")).to_be_visible()
    expect(page.get_by_test_id("customer-item")).to_have_count(3)
    expect(page.get_by_test_id("customer-list")).to_contain_text(rm_user.customer_names[0])
    screenshot(page, "06-customers-offline")

    page.goto("/")  # a client-side route straight from the precache
    expect(page.get_by_test_id("home-greeting")).to_contain_text("张伟")
    sw_context.set_offline(False)


def _outbox_items(page) -> list[dict]:
    return page.evaluate(
        """() => new Promise((resolve) => {
            const open = indexedDB.open('zhanye-outbox');
            open.onsuccess = () => {
              const req = open.result.transaction('items').objectStore('items').getAll();
              req.onsuccess = () => resolve(req.result);
            };
          })"""
    )


def _notes_with(page, body: str) -> list[dict]:
    items = page.request.get("/api/v1/notes?page_size=100").json()["items"]
    return [n for n in items if n["body"] == body]


def _queue_note_offline(page, context, body: str) -> None:
    page.get_by_test_id("tab-me").click()  # load the Me screen's code while online
    page.get_by_test_id("me-profile").wait_for()
    page.get_by_test_id("tab-home").click()
    page.get_by_test_id("shortcut-new-note").click()
    page.get_by_test_id("note-edit-form").wait_for()
    context.set_offline(True)
    page.get_by_test_id("note-edit-body").locator("textarea").fill(body)
    page.get_by_test_id("note-edit-save").click()
    expect(page.get_by_test_id("home-unsynced")).to_contain_text("1 条记录待同步")
    expect(page.locator(".van-toast")).to_be_hidden(timeout=5000)


def test_a_note_written_offline_lands_exactly_once_through_503s(page, context, rm_user):
    sign_in(page, rm_user)
    body = f"离线记事 {rm_user.username}: 客户想了解代发工资"
    _queue_note_offline(page, context, body)
    screenshot(page, "07-home-unsynced")

    attempts: list[dict] = []

    def notes_route(route: Route) -> None:
        request = route.request
        if request.method != "POST":
            route.continue_()
            return
        attempts.append({"key": request.headers.get("idempotency-key"), "body": request.post_data_json})
        if len(attempts) == 1:
            # the server stores the note but the answer is lost on the way back
            stored = route.fetch()
            assert stored.status == 201
            route.fulfill(
                status=503, content_type="application/problem+json", body=json.dumps({"status": 503})
            )
        elif len(attempts) == 2:
            route.fulfill(
                status=503, content_type="application/problem+json", body=json.dumps({"status": 503})
            )
        else:
            route.continue_()

    page.route("**/api/v1/notes", notes_route)
    context.set_offline(False)  # the `online` event starts the replay
    try:
        expect(page.get_by_test_id("home-unsynced")).to_have_count(0, timeout=20_000)
    except AssertionError as exc:
        raise AssertionError(f"outbox not drained: attempts={attempts} outbox={_outbox_items(page)}") from exc

    assert len(attempts) >= 3
    assert len({a["key"] for a in attempts}) == 1, "every replay carries the same Idempotency-Key"
    assert all(a["body"]["body"] == body for a in attempts)
    page.unroute("**/api/v1/notes")
    assert len(_notes_with(page, body)) == 1


def test_logging_out_with_unsynced_items_warns(page, context, rm_user):
    sign_in(page, rm_user)
    _queue_note_offline(page, context, "不会同步的记事")
    page.get_by_test_id("tab-me").click()
    expect(page.get_by_test_id("me-outbox-count")).to_have_text("1 条")
    screenshot(page, "08-me-unsynced")

    page.get_by_test_id("logout").click()
    dialog = page.locator(".logout-dialog")
    expect(dialog).to_contain_text("还有 1 条记录没有同步")
    screenshot(page, "09-logout-warning")
    dialog.get_by_role("button", name="取消").click()
    expect(page.get_by_test_id("me-profile")).to_be_visible()

    page.get_by_test_id("logout").click()
    page.locator(".logout-dialog").get_by_role("button", name="仍要退出").click()
    expect(page).to_have_url(re.compile(r"/login"))
    leftovers = page.evaluate(
        """async () => {
            const count = (db, store) => new Promise((resolve) => {
              const open = indexedDB.open(db);
              open.onsuccess = () => {
                const names = Array.from(open.result.objectStoreNames);
                if (!names.includes(store)) return resolve(0);
                const req = open.result.transaction(store).objectStore(store).count();
                req.onsuccess = () => resolve(req.result);
              };
            });
            return { outbox: await count('zhanye-outbox', 'items'), keys: await count('zhanye-offline', 'keys'),
                     reads: await count('zhanye-offline', 'reads') };
          }"""
    )
    assert leftovers == {"outbox": 0, "keys": 0, "reads": 0}
    context.set_offline(False)


def test_a_push_hint_shows_a_notification_that_links_into_the_app(sw_context, rm_user, base_url):
    page = sw_context.pages[0] if sw_context.pages else sw_context.new_page()
    sw_context.grant_permissions(["notifications"], origin=base_url)
    sign_in(page, rm_user)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")

    cdp = sw_context.new_cdp_session(page)
    registrations: dict[str, str] = {}

    def on_registration(event) -> None:
        for reg in event["registrations"]:
            if reg.get("isDeleted"):
                registrations.pop(reg["scopeURL"], None)
            else:
                registrations[reg["scopeURL"]] = reg["registrationId"]

    cdp.on("ServiceWorker.workerRegistrationUpdated", on_registration)
    cdp.send("ServiceWorker.enable")
    scope = base_url + "/"
    for _ in range(100):
        if scope in registrations:
            break
        page.wait_for_timeout(100)
    assert scope in registrations, f"no service worker registration for {scope}: {registrations}"
    hint = {"title": "新商机", "body": "有一条商机可以认领", "url": "/opportunities", "tag": "opportunity"}
    list_notifications = """async () => (await (await navigator.serviceWorker.ready).getNotifications())
        .map((n) => ({ title: n.title, body: n.body, url: n.data && n.data.url, tag: n.tag }))"""
    shown: list = []
    for _attempt in range(3):  # a busy machine may be slow to wake the worker
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": base_url,
                "registrationId": registrations[scope],
                "data": json.dumps(hint, ensure_ascii=False),
            },
        )
        for _ in range(50):
            shown = page.evaluate(list_notifications)
            if shown:
                break
            page.wait_for_timeout(100)
        if shown:
            break
    assert shown == [hint]
