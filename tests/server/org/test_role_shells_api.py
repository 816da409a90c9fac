"""The server side of the role shells: the audit search's filters and its CSV export (risk officer
only, audited, rate-limited), the reveal's rate limit, the admin's teams/roles/disable, the lead's
view of one member's customers, the user's zone on /me and the home's 今日提醒 by the user's day."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from server.audit.models import AuditEntry
from server.notebook.models import Note, Reminder, ReminderSetting
from server.org.models import Role
from server.workbench.home import home
from tests import factories


@pytest.fixture
def people(db_session, data_key):
    lead = factories.make_user(db_session, role=Role.team_lead, persona=None)
    team = factories.make_team(db_session, lead=lead)
    rm = factories.make_user(db_session, team=team, branch=None)
    other_rm = factories.make_user(db_session)
    customer = factories.make_customer(db_session, owner=rm, data_key=data_key, phone="13812345678")
    factories.make_customer(db_session, owner=other_rm, data_key=data_key)
    return {
        "lead": lead,
        "rm": rm,
        "other_rm": other_rm,
        "customer": customer,
        "risk": factories.make_user(db_session, role=Role.risk_officer, persona=None),
        "admin": factories.make_user(db_session, role=Role.admin, persona=None),
    }


def test_reveals_are_searchable_by_action_object_and_address(login, people):
    rm_api = login(people["rm"])
    customer_id = people["customer"].id
    answer = rm_api.post(
        f"/api/v1/customers/{customer_id}/reveal", json={"field": "phone", "reason": "约见客户"}
    )
    assert answer.status_code == 200
    assert answer.get_json()["value"] == "13812345678"

    risk = login(people["risk"])
    found = risk.get(
        "/api/v1/audit",
        query_string={"action": "customer.reveal", "object_type": "customer", "object_id": str(customer_id)},
    ).get_json()
    assert found["total"] == 1
    entry = found["items"][0]
    assert entry["actor_id"] == people["rm"].id
    assert entry["actor_name"] == people["rm"].display_name
    assert entry["detail"] == {"field": "phone", "reason": "约见客户"}
    assert entry["at"].endswith("Z")
    # another address, a later window, another person: nothing
    assert (
        risk.get("/api/v1/audit", query_string={"action": "customer.reveal", "ip": "10.9."}).get_json()[
            "total"
        ]
        == 0
    )
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (
        risk.get("/api/v1/audit", query_string={"object_id": str(customer_id), "since": later}).get_json()[
            "total"
        ]
        == 0
    )
    assert (
        risk.get(
            "/api/v1/audit", query_string={"object_id": str(customer_id), "actor_id": people["other_rm"].id}
        ).get_json()["total"]
        == 0
    )


def test_the_export_is_for_risk_officers_audited_and_rate_limited(app, login, people, db_session):
    customer_id = people["customer"].id
    login(people["rm"]).post(
        f"/api/v1/customers/{customer_id}/reveal", json={"field": "phone", "reason": "回访"}
    )
    for who in ("rm", "lead", "admin"):
        assert login(people[who]).get("/api/v1/audit/export").status_code == 403
    risk = login(people["risk"])
    filters = {"object_type": "customer", "object_id": str(customer_id)}
    response = risk.get("/api/v1/audit/export", query_string=filters)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["id", "at", "actor_id", "actor", "action"]
    assert [r[4] for r in rows[1:]] == ["customer.reveal"]
    exported = db_session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "audit.export", AuditEntry.actor_id == people["risk"].id
        )
    ).all()
    assert len(exported) == 1 and exported[0].detail["filters"] == filters

    limit = app.config["SETTINGS"].AUDIT_EXPORT_RATE_PER_HOUR
    statuses = [risk.get("/api/v1/audit/export").status_code for _ in range(limit + 1)]
    assert statuses.count(429) >= 1 and statuses[0] == 200
    refused = risk.get("/api/v1/audit/export")
    assert refused.status_code == 429
    assert refused.get_json()["code"] == "rate-limited"


def test_reveals_are_rate_limited_per_user(app, login, people):
    api = login(people["rm"])
    url = f"/api/v1/customers/{people['customer'].id}/reveal"
    limit = app.config["SETTINGS"].REVEAL_RATE_PER_HOUR
    statuses = [
        api.post(url, json={"field": "phone", "reason": "回访客户"}).status_code for _ in range(limit + 2)
    ]
    assert statuses[:limit] == [200] * limit
    assert statuses[-1] == 429
    assert api.post(url, json={"field": "phone", "reason": "回访客户"}).get_json()["code"] == "rate-limited"


def test_admin_lists_teams_changes_roles_and_disables(login, people, client):
    admin = login(people["admin"])
    teams = admin.get("/api/v1/admin/teams").get_json()["items"]
    assert any(t["id"] == people["rm"].team_id and t["branch"]["name"] for t in teams)
    assert login(people["lead"]).get("/api/v1/admin/teams").status_code == 403

    listed = admin.get("/api/v1/admin/users", query_string={"q": people["rm"].username}).get_json()
    assert [u["id"] for u in listed["items"]] == [people["rm"].id]
    assert listed["items"][0]["is_active"] is True

    victim = login(people["other_rm"])
    changed = admin.patch(f"/api/v1/admin/users/{people['other_rm'].id}", json={"role": "risk_officer"})
    assert changed.status_code == 200 and changed.get_json()["role"] == "risk_officer"
    # a new role is a new set of rights: the old session ends
    assert victim.get("/api/v1/me").status_code == 401

    again = login(people["other_rm"])
    disabled = admin.patch(f"/api/v1/admin/users/{people['other_rm'].id}", json={"is_active": False})
    assert disabled.get_json()["is_active"] is False
    assert again.get("/api/v1/me").status_code == 401


def test_a_lead_narrows_the_list_to_one_member_only_within_the_team(login, people):
    lead = login(people["lead"])
    mine = lead.get("/api/v1/customers", query_string={"owner_id": people["rm"].id}).get_json()
    assert [c["id"] for c in mine["items"]] == [people["customer"].id]
    outside = lead.get("/api/v1/customers", query_string={"owner_id": people["other_rm"].id}).get_json()
    assert outside["total"] == 0


def test_me_carries_the_user_zone(login, people, db_session):
    assert login(people["rm"]).get("/api/v1/me").get_json()["timezone"] == "Asia/Shanghai"
    db_session.add(ReminderSetting(user_id=people["risk"].id, timezone="Europe/Berlin"))
    db_session.commit()
    assert login(people["risk"]).get("/api/v1/me").get_json()["timezone"] == "Europe/Berlin"


def test_todays_reminders_follow_the_user_day_with_text_and_note(db_session, people):
    rm = people["rm"]
    # 18:00 in Shanghai on 4 December; a reminder for 07:30 tomorrow local is 23:30 UTC today
    now = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    tomorrow = Note(owner_id=rm.id, body="明早拜访星河科技")
    tonight = Note(owner_id=rm.id, body="今晚整理授信材料")
    db_session.add_all([tomorrow, tonight])
    db_session.flush()
    db_session.add_all(
        [
            Reminder(
                user_id=rm.id,
                kind="note",
                source_key=f"note:{tomorrow.id}",
                note_id=tomorrow.id,
                due_at=datetime(2026, 12, 4, 23, 30, tzinfo=UTC),
            ),
            Reminder(
                user_id=rm.id,
                kind="note",
                source_key=f"note:{tonight.id}",
                note_id=tonight.id,
                due_at=datetime(2026, 12, 4, 13, 0, tzinfo=UTC),  # 21:00 local today
            ),
        ]
    )
    db_session.commit()
    from server.org.models import Persona, RmProfile

    profile = db_session.get(RmProfile, rm.id)
    profile.persona = Persona.excellent
    db_session.add(profile)
    db_session.commit()
    cards = home(db_session, user=rm, now=now)["cards"]
    reminders = next(c for c in cards if c["type"] == "reminders")["items"]
    notes = [r for r in reminders if r["note_id"] in (tomorrow.id, tonight.id)]
    assert [r["title"] for r in notes] == ["今晚整理授信材料"]
    assert notes[0]["note_id"] == tonight.id


def test_reference_lists_feed_the_share_form_pickers(login, people):
    data = login(people["rm"]).get("/api/v1/customers/reference").get_json()
    assert {"code": "C36", "name": "汽车制造业"} in data["industries"]
    assert {"code": "310000", "name": "上海市"} in data["regions"]
