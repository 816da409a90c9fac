"""Security headers on every kind of response, and the API documentation readable without
signing in only when a setting allows it (on in the demo, off otherwise)."""

from __future__ import annotations

import re

import pytest

from server import create_app
from tests import factories

REQUIRED = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "Permissions-Policy")


def _check(response, *, docs: bool = False) -> None:
    response.close()  # a file response holds its file open until closed
    headers = response.headers
    for name in REQUIRED:
        assert name in headers, (response.request.path, name)
    csp = headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    script_src = directives["script-src"]
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    if not docs:
        assert script_src == "'self'"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in ("strict-origin-when-cross-origin", "no-referrer")
    permissions = headers["Permissions-Policy"]
    for feature in ("geolocation", "microphone", "camera"):
        assert f"{feature}=(self)" in permissions
    assert "Strict-Transport-Security" not in headers  # plain http: no HSTS


def test_headers_on_app_api_error_and_docs(client, login, db_session):
    _check(client.get("/"))  # the app shell (or the placeholder before a build)
    _check(client.get("/customers/12"))  # a client-side route
    _check(client.get("/healthz"))
    _check(client.get("/api/v1/customers"))  # 401 problem
    _check(client.get("/api/v1/no-such-thing"))  # 404 problem
    api = login(factories.make_user(db_session))
    _check(api.get("/api/v1/me"))
    _check(api.post("/api/v1/notes", data="{", content_type="application/json"))  # 400
    _check(api.get("/api/v1/openapi.json"), docs=True)
    swagger = api.get("/apidocs/swagger/")
    assert swagger.status_code == 200
    _check(swagger, docs=True)


def test_docs_page_allows_only_its_own_inline_script_by_hash(client, login, db_session):
    api = login(factories.make_user(db_session))
    page = api.get("/apidocs/swagger/")
    script_src = dict(d.strip().split(" ", 1) for d in page.headers["Content-Security-Policy"].split(";"))[
        "script-src"
    ]
    hashes = re.findall(r"'sha256-[A-Za-z0-9+/=]+'", script_src)
    assert len(hashes) == page.get_data(as_text=True).count("<script>")


def test_hsts_behind_tls(test_config):
    app = create_app({**test_config, "PUBLIC_URL": "https://zhanye.bank.example"})
    response = app.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "wss://zhanye.bank.example" in response.headers["Content-Security-Policy"]


def test_rating_page_has_no_inline_script(client):
    page = client.get("/r/some-token")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
    script = client.get(re.search(r'<script src="([^"]+)"', html).group(1))
    assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]
    _check(script)


def test_built_pwa_has_no_inline_script(app):
    index = app.config["SETTINGS"].PWA_DIST / "index.html"
    if not index.exists():
        pytest.skip("the PWA is not built")
    html = index.read_text()
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
    assert "registerSW" not in html  # vite-plugin-pwa injects no registration script


@pytest.mark.parametrize(
    ("overrides", "public"),
    [
        ({"DEMO_MODE": True}, True),
        ({"DEMO_MODE": False}, False),
        ({"API_DOCS_PUBLIC": True, "DEMO_MODE": False}, True),
        ({"API_DOCS_PUBLIC": False, "DEMO_MODE": True}, False),
    ],
)
def test_docs_without_sign_in_only_when_allowed(test_config, db_session, overrides, public):
    app = create_app({**test_config, **overrides})
    anonymous = app.test_client()
    for url in ("/api/v1/openapi.json", "/apidocs/openapi.json", "/apidocs/swagger/"):
        response = anonymous.get(url)
        assert response.status_code == (200 if public else 401), (url, response.status_code)
    user = factories.make_user(db_session)
    signed_in = app.test_client()
    assert (
        signed_in.post(
            "/api/v1/auth/login", json={"username": user.username, "password": factories.PASSWORD}
        ).status_code
        == 200
    )
    assert signed_in.get("/api/v1/openapi.json").status_code == 200
    assert signed_in.get("/apidocs/swagger/").status_code == 200


def test_production_defaults_keep_docs_private():
    from server.config import Settings

    settings = Settings()
    from server.headers import docs_public

    assert settings.DEMO_MODE is False and docs_public(settings) is False
