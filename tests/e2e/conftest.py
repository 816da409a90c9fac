"""Browser fixtures: Debian's Chromium driven by Playwright for Python against the real server
(`live_server`) serving the built PWA. Tests that need a service worker use a persistent context
(Chromium's installability checks require one); tests that intercept API calls with `page.route`
block service workers so the interception sees every request."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests import factories

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 375, "height": 812}
SCREENSHOTS = ROOT / "var" / "screenshots"


def _unavailable(reason: str) -> None:
    # On CI a missing browser or build is a failure, never a silent skip.
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pwa_built(test_config) -> Path:
    dist = Path(test_config["PWA_DIST"])
    if not (dist / "index.html").exists() or not (dist / "sw.js").exists():
        _unavailable(f"the PWA is not built ({dist}); run `make pwa-build`")
    return dist


@pytest.fixture(scope="session")
def playwright_instance():
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM}; apt-get install chromium fonts-noto-cjk")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def base_url(live_server, pwa_built) -> str:
    return live_server.url


def _context_options(base_url: str, **extra) -> dict:
    return {
        "base_url": base_url,
        "viewport": VIEWPORT,
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
        "locale": "zh-CN",
        "timezone_id": "Asia/Shanghai",
        **extra,
    }


@pytest.fixture
def context(browser, base_url) -> Iterator:
    """A fresh incognito context with service workers blocked (page.route sees every call)."""
    ctx = browser.new_context(**_context_options(base_url, service_workers="block"))
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def sw_context(playwright_instance, base_url, tmp_path) -> Iterator:
    """A persistent profile with service workers on, like an installed app."""
    ctx = playwright_instance.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        **_context_options(base_url),
    )
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def rm_user(db_session, data_key):
    """An RM (persona 一般) with a few customers of both kinds."""
    user = factories.make_user(db_session, display_name="张伟")
    customers = [
        factories.make_customer(
            db_session, owner=user, data_key=data_key, name=f"上海星河科技有限公司{user.id}"
        ),
        factories.make_customer(
            db_session, owner=user, data_key=data_key, name=f"杭州云帆制造有限公司{user.id}"
        ),
        factories.make_customer(
            db_session,
            owner=user,
            data_key=data_key,
            kind=factories.CustomerKind.individual,
            name=f"李娜{user.id}",
        ),
    ]
    return SimpleNamespace(id=user.id, username=user.username, customer_names=[c.name for c in customers])


def sign_in(page, user, password: str = factories.PASSWORD) -> None:
    """Signs in through the form, as an RM would."""
    page.goto("/login")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(password)
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("home-greeting").wait_for()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.wait_for_timeout(350)  # let Vant's transitions (dialogs, tabs) settle
    page.screenshot(path=str(path), animations="disabled")
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS"):
        docs = ROOT / "docs" / "screenshots"
        docs.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, docs / path.name)
    return path


@pytest.fixture(scope="session")
def demo_server(start_server, app, pwa_built, tmp_path_factory):
    """A second real server on its own database holding the demo bank (the eight demo logins)."""
    from server import db
    from server.demo.generator import load_demo_bank
    from tests.conftest import migrate

    url = f"sqlite:///{tmp_path_factory.mktemp('demo_e2e') / 'demo.db'}"
    migrate(url)
    engine = db.get_engine(url)
    load_demo_bank(engine, customers=300, seed=7, data_key=app.config["SETTINGS"].DATA_KEY, workers=0)
    engine.dispose()
    return start_server(DATABASE_URL=url)


@pytest.fixture
def demo_context(browser, demo_server):
    """demo_context(**options) -> a fresh 375x812 zh-CN context on the demo server."""
    contexts = []

    def _make(**extra):
        ctx = browser.new_context(**_context_options(demo_server.url, service_workers="block", **extra))
        ctx.set_default_timeout(20_000)
        contexts.append(ctx)
        return ctx

    yield _make
    for ctx in contexts:
        ctx.close()


def sign_in_as(page, username: str, password: str = "demo1234") -> None:
    """Signs in through the form with a demo login (in whichever language the form shows)."""
    page.goto("/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("home-greeting").wait_for()
