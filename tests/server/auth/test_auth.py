"""Sign-in, sessions, CSRF, lockout and rate limits."""

from datetime import timedelta

from sqlmodel import select

from server import create_app
from server.auth.models import UserSession
from server.org.models import Role
from server.timeutil import utcnow
from tests import factories


def _login(client, username, password=factories.PASSWORD):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_login_me_logout(client, db_session):
    user = factories.make_user(db_session, display_name="王小明")
    response = _login(client, user.username)
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["username"] == user.username
    assert body["user"]["persona"] == "general"
    assert body["csrf_token"]
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie

    me = client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.get_json()["user"]["display_name"] == "王小明"
    assert me.headers["Cache-Control"] == "no-store"

    assert client.post("/api/v1/auth/logout").status_code == 403  # no CSRF header
    out = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": body["csrf_token"]})
    assert out.status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_session_rotates_at_login(app, db_session):
    user = factories.make_user(db_session)
    client = app.test_client()
    first = _login(client, user.username).get_json()["csrf_token"]
    old_cookie = client.get_cookie("zhanye_session").value
    second = _login(client, user.username).get_json()["csrf_token"]
    assert first != second
    assert client.get_cookie("zhanye_session").value != old_cookie


def test_unauthenticated_api_is_401_problem(client):
    response = client.get("/api/v1/customers")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 401


def test_bad_credentials(client, db_session):
    user = factories.make_user(db_session)
    assert _login(client, user.username, "wrong-password").status_code == 401
    assert _login(client, "nobody-at-all", "whatever").status_code == 401


def test_lockout_after_repeated_failures(client, db_session, app):
    user = factories.make_user(db_session)
    limit = app.config["SETTINGS"].LOGIN_MAX_FAILURES
    for _ in range(limit - 1):
        assert _login(client, user.username, "wrong-password").status_code == 401
    assert _login(client, user.username, "wrong-password").get_json()["code"] == "account-locked"
    locked = _login(client, user.username)  # even the right password is refused while locked
    assert locked.status_code == 429
    assert locked.get_json()["code"] == "account-locked"
    assert int(locked.headers["Retry-After"]) > 0


def test_login_rate_limit(test_config, db_session):
    strict = create_app({**test_config, "LOGIN_RATE_PER_MINUTE": 3})
    client = strict.test_client()
    user = factories.make_user(db_session)
    # A fresh address, so other tests' sign-ins from 127.0.0.1 do not count against this one.
    client.environ_base["REMOTE_ADDR"] = f"10.{user.id % 250}.7.9"
    statuses = [_login(client, user.username, "wrong").status_code for _ in range(5)]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3] == 429


def test_csrf_required_on_mutations(login, db_session):
    api = login(factories.make_user(db_session))
    response = api.raw.post("/api/v1/customers", json={}, headers={"X-CSRF-Token": "forged"})
    assert response.status_code == 403
    assert response.get_json()["code"] == "csrf"


def test_idle_timeout_ends_session(app, db_session):
    user = factories.make_user(db_session)
    client = app.test_client()
    assert _login(client, user.username).status_code == 200
    sid = client.get_cookie("zhanye_session").value
    stale = db_session.get(UserSession, sid)
    stale.last_seen_at = utcnow() - timedelta(minutes=app.config["SETTINGS"].SESSION_IDLE_MINUTES + 1)
    db_session.add(stale)
    db_session.commit()
    assert client.get("/api/v1/me").status_code == 401


def test_absolute_timeout_ends_session(app, db_session):
    user = factories.make_user(db_session)
    client = app.test_client()
    assert _login(client, user.username).status_code == 200
    sid = client.get_cookie("zhanye_session").value
    old = db_session.get(UserSession, sid)
    old.created_at = utcnow() - timedelta(hours=app.config["SETTINGS"].SESSION_ABSOLUTE_HOURS + 1)
    db_session.add(old)
    db_session.commit()
    assert client.get("/api/v1/me").status_code == 401


def test_disabling_account_ends_its_sessions(login, db_session):
    admin = factories.make_user(db_session, role=Role.admin, persona=None)
    victim = factories.make_user(db_session)
    victim_api = login(victim)
    assert victim_api.get("/api/v1/me").status_code == 200
    admin_api = login(admin)
    response = admin_api.patch(f"/api/v1/admin/users/{victim.id}", json={"is_active": False})
    assert response.status_code == 200
    assert victim_api.get("/api/v1/me").status_code == 401
    live = db_session.exec(
        select(UserSession).where(UserSession.user_id == victim.id, UserSession.revoked_at.is_(None))
    ).all()
    assert live == []


def test_audit_records_sign_in(login, db_session):
    risk = factories.make_user(db_session, role=Role.risk_officer, persona=None)
    user = factories.make_user(db_session)
    login(user)
    entries = login(risk).get(f"/api/v1/audit?actor_id={user.id}").get_json()["items"]
    assert [e["action"] for e in entries] == ["login.success"]
