"""The notes API: the contract the offline outbox relies on, ownership, versions, idempotency."""

from __future__ import annotations

import uuid

from sqlmodel import select

from server.customers.models import CustomerKind
from server.notebook.models import Reminder
from tests import factories


def _note(api, headers=None, **fields):
    body = {"body": "回访张总，谈代发工资", "tags": ["回访"], **fields}
    return api.post("/api/v1/notes", json=body, headers=headers)


def test_create_returns_the_contract(db_session, login, data_key):
    rm = factories.make_user(db_session)
    customer = factories.make_customer(db_session, owner=rm, data_key=data_key)
    api = login(rm)
    response = _note(
        api, customer_id=customer.id, remind_at="2030-01-02T03:04:05+08:00", todo=True, recurrence="yearly"
    )
    assert response.status_code == 201, response.get_json()
    note = response.get_json()
    assert set(note) >= {
        "id", "body", "customer_id", "tags", "remind_at", "todo", "done", "recurrence",
        "created_at", "updated_at", "version",
    }  # fmt: skip
    assert note["customer_id"] == customer.id
    assert note["remind_at"] == "2030-01-01T19:04:05Z"
    assert (note["todo"], note["done"], note["recurrence"], note["version"]) == (True, False, "yearly", 1)
    assert response.headers["Cache-Control"] == "no-store"
    reminder = db_session.exec(select(Reminder).where(Reminder.note_id == note["id"])).one()
    assert reminder.user_id == rm.id and reminder.fired_at is None

    listing = api.get("/api/v1/notes").get_json()
    assert listing["total"] == 1 and listing["page"] == 1 and listing["page_size"] == 20
    assert listing["items"][0]["id"] == note["id"]
    assert api.get(f"/api/v1/notes?customer_id={customer.id}").get_json()["total"] == 1
    assert api.get("/api/v1/notes?tag=回访").get_json()["total"] == 1
    assert api.get("/api/v1/notes?tag=别的").get_json()["total"] == 0


def test_bad_input_is_a_problem(db_session, login):
    api = login(factories.make_user(db_session))
    for body in (
        {"body": ""},
        {"body": "x" * 4001},
        {"body": "   "},
        {"body": "a", "recurrence": "weekly", "remind_at": "2030-01-01T00:00:00Z"},
        {"body": "a", "recurrence": "monthly"},
        {"body": "a", "extra": 1},
        {"body": "a", "remind_at": "not a time"},
    ):
        response = api.post("/api/v1/notes", json=body)
        assert response.status_code == 422, body
        assert response.get_json()["code"] == "validation"


def test_other_rms_customer_and_notes_are_404(db_session, login, data_key):
    owner = factories.make_user(db_session)
    other = factories.make_user(db_session)
    customer = factories.make_customer(db_session, owner=owner, data_key=data_key)
    api_other = login(other)
    assert _note(api_other, customer_id=customer.id).status_code == 404
    note = _note(login(owner), customer_id=customer.id).get_json()
    assert api_other.get(f"/api/v1/notes/{note['id']}").status_code == 404
    assert api_other.patch(f"/api/v1/notes/{note['id']}", json={"body": "x", "version": 1}).status_code == 404
    assert api_other.delete(f"/api/v1/notes/{note['id']}").status_code == 404
    assert api_other.post(f"/api/v1/notes/{note['id']}/done", json={}).status_code == 404
    assert api_other.get("/api/v1/notes").get_json()["total"] == 0


def test_writes_need_csrf(db_session, login):
    api = login(factories.make_user(db_session))
    response = api.raw.post("/api/v1/notes", json={"body": "x"})
    assert response.status_code == 403 and response.get_json()["code"] == "csrf"


def test_idempotency_key_creates_once(db_session, login):
    api = login(factories.make_user(db_session))
    key = str(uuid.uuid4())
    first = _note(api, headers={"Idempotency-Key": key})
    second = _note(api, headers={"Idempotency-Key": key})
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert first.get_json()["id"] == second.get_json()["id"]
    assert api.get("/api/v1/notes").get_json()["total"] == 1
    other_body = api.post("/api/v1/notes", json={"body": "另一条"}, headers={"Idempotency-Key": key})
    assert other_body.status_code == 422


def test_versioned_update_snooze_done_delete(db_session, login):
    rm = factories.make_user(db_session)
    api = login(rm)
    note = _note(api, remind_at="2030-05-01T01:00:00Z").get_json()
    url = f"/api/v1/notes/{note['id']}"
    assert api.patch(url, json={"body": "改"}).status_code == 428
    changed = api.patch(url, json={"body": "改过", "version": 1})
    assert changed.status_code == 200 and changed.get_json()["version"] == 2
    stale = api.patch(url, json={"body": "旧设备", "version": 1})
    assert stale.status_code == 412
    assert stale.get_json()["current"]["body"] == "改过"
    assert api.patch(url, json={"body": "via header"}, headers={"If-Match": '"2"'}).status_code == 200

    snoozed = api.post(url + "/snooze", json={"minutes": 30})
    assert snoozed.status_code == 200
    assert snoozed.get_json()["remind_at"] != note["remind_at"]
    assert api.post(url + "/snooze", json={}).status_code == 422

    done = api.post(url + "/done", json={"done": True}).get_json()
    assert done["done"] is True
    assert db_session.exec(select(Reminder).where(Reminder.note_id == note["id"])).first() is None
    reopened = api.post(url + "/done", json={"done": False}).get_json()
    assert reopened["done"] is False
    assert db_session.exec(select(Reminder).where(Reminder.note_id == note["id"])).first() is not None

    assert api.delete(url, headers={"If-Match": '"1"'}).status_code == 412
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404
    assert db_session.exec(select(Reminder).where(Reminder.note_id == note["id"])).first() is None


def test_individual_customer_note(db_session, login, data_key):
    rm = factories.make_user(db_session)
    customer = factories.make_customer(db_session, owner=rm, kind=CustomerKind.individual, data_key=data_key)
    assert _note(login(rm), customer_id=customer.id).status_code == 201
