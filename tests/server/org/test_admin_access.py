"""Role gates on the admin and audit endpoints, and the admin's user management."""

import pytest

from server.org.models import Role
from tests import factories


@pytest.fixture
def people(db_session):
    return {
        "rm": factories.make_user(db_session),
        "lead": factories.make_user(db_session, role=Role.team_lead, persona=None),
        "risk": factories.make_user(db_session, role=Role.risk_officer, persona=None),
        "admin": factories.make_user(db_session, role=Role.admin, persona=None),
    }


@pytest.mark.parametrize(
    "who, url, allowed",
    [
        ("rm", "/api/v1/admin/users", False),
        ("lead", "/api/v1/admin/users", False),
        ("risk", "/api/v1/admin/users", False),
        ("admin", "/api/v1/admin/users", True),
        ("rm", "/api/v1/audit", False),
        ("lead", "/api/v1/audit", False),
        ("admin", "/api/v1/audit", False),
        ("risk", "/api/v1/audit", True),
    ],
)
def test_role_gates(login, people, who, url, allowed):
    response = login(people[who]).get(url)
    assert response.status_code == (200 if allowed else 403)


def test_admin_creates_rm_and_it_can_sign_in(login, people, client):
    api = login(people["admin"])
    body = {
        "username": factories.unique("new_rm_"),
        "display_name": "新客户经理",
        "password": "s3cure-pass",
        "role": "rm",
        "persona": "newcomer",
        "qualifications": ["fund_sales"],
    }
    created = api.post("/api/v1/admin/users", json=body)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["persona"] == "newcomer"
    assert api.post("/api/v1/admin/users", json=body).status_code == 409
    signed_in = client.post(
        "/api/v1/auth/login", json={"username": body["username"], "password": "s3cure-pass"}
    )
    assert signed_in.status_code == 200
    weak = api.post(
        "/api/v1/admin/users", json={**body, "username": factories.unique("x"), "password": "short"}
    )
    assert weak.status_code == 422


def test_admin_edits_staff_contacts_and_every_response_masks_them(login, people, db_session):
    from server.org.models import User

    api = login(people["admin"])
    rm = people["rm"]
    patched = api.patch(
        f"/api/v1/admin/users/{rm.id}", json={"phone": "13812345678", "email": "zhang.wei@bank.cn"}
    )
    assert patched.status_code == 200, patched.get_data(as_text=True)
    assert patched.get_json()["phone"] == "138****5678" and patched.get_json()["email"] == "z***@bank.cn"
    db_session.expire_all()
    stored = db_session.get(User, rm.id)
    assert (stored.phone, stored.email) == ("13812345678", "zhang.wei@bank.cn")
    listed = api.get(f"/api/v1/admin/users?role=rm&q={rm.username}").get_json()["items"]
    mine = next(u for u in listed if u["id"] == rm.id)
    assert (mine["phone"], mine["email"]) == ("138****5678", "z***@bank.cn")
    me = login(rm).get("/api/v1/auth/me").get_json()
    assert "13812345678" not in str(me) and "zhang.wei" not in str(me)
    assert api.patch(f"/api/v1/admin/users/{rm.id}", json={"phone": "call me"}).status_code == 422
    assert api.patch(f"/api/v1/admin/users/{rm.id}", json={"email": "no-at-sign"}).status_code == 422
    assert login(rm).patch(f"/api/v1/admin/users/{rm.id}", json={"phone": "13900000000"}).status_code == 403
    cleared = api.patch(f"/api/v1/admin/users/{rm.id}", json={"phone": None})
    assert cleared.get_json()["phone"] is None
