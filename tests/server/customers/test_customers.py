"""The customer API: access matrix, search, bad input, versioned updates, idempotency, masking."""

import json
import threading

import pytest
from sqlmodel import select

from server.audit.models import AuditEntry
from server.customers.models import CustomerGrant, CustomerKind, IndividualProfile
from server.org.models import Role, User
from tests import factories


@pytest.fixture
def bank(db_session, data_key):
    """A team (lead + two RMs) with customers, an outsider RM, a risk officer and an admin."""
    team = factories.make_team(db_session)
    lead = db_session.get(User, team.lead_id)
    rm_a = factories.make_user(db_session, team=team)
    rm_b = factories.make_user(db_session, team=team)
    outsider = factories.make_user(db_session)
    risk = factories.make_user(db_session, role=Role.risk_officer, persona=None)
    admin = factories.make_user(db_session, role=Role.admin, persona=None)
    a_corp = factories.make_customer(
        db_session, owner=rm_a, data_key=data_key, name="上海张江汽车零部件有限公司"
    )
    a_person = factories.make_customer(
        db_session,
        owner=rm_a,
        data_key=data_key,
        kind=CustomerKind.individual,
        name="张伟",
        phone="13912345678",
    )
    b_corp = factories.make_customer(db_session, owner=rm_b, data_key=data_key, name="杭州西湖茶业有限公司")
    out_corp = factories.make_customer(
        db_session, owner=outsider, data_key=data_key, name="深圳南山电子有限公司"
    )
    return dict(
        lead=lead,
        rm_a=rm_a,
        rm_b=rm_b,
        outsider=outsider,
        risk=risk,
        admin=admin,
        a_corp=a_corp,
        a_person=a_person,
        b_corp=b_corp,
        out_corp=out_corp,
    )


def _ids(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return {item["id"] for item in response.get_json()["items"]}


def test_access_matrix_lists(login, bank):
    assert _ids(login(bank["rm_a"]).get("/api/v1/customers")) == {bank["a_corp"].id, bank["a_person"].id}
    assert _ids(login(bank["lead"]).get("/api/v1/customers")) == {
        bank["a_corp"].id,
        bank["a_person"].id,
        bank["b_corp"].id,
    }
    assert login(bank["risk"]).get("/api/v1/customers").status_code == 403
    assert login(bank["admin"]).get("/api/v1/customers").status_code == 403


@pytest.mark.parametrize(
    "who, whose, status",
    [
        ("rm_a", "a_corp", 200),
        ("rm_b", "a_corp", 404),  # a teammate's customer: not theirs
        ("outsider", "a_corp", 404),  # id guessing reveals nothing
        ("lead", "a_corp", 200),  # the team's book
        ("lead", "out_corp", 404),  # not the team's
        ("risk", "a_corp", 404),
        ("admin", "a_corp", 404),
    ],
)
def test_access_matrix_read_one(login, bank, who, whose, status):
    assert login(bank[who]).get(f"/api/v1/customers/{bank[whose].id}").status_code == status


def test_unknown_id_is_404_like_a_foreign_one(login, bank):
    api = login(bank["rm_a"])
    missing = api.get("/api/v1/customers/987654321")
    foreign = api.get(f"/api/v1/customers/{bank['out_corp'].id}")
    assert missing.status_code == foreign.status_code == 404
    assert missing.get_json()["detail"] == foreign.get_json()["detail"]


def test_only_the_owner_writes(login, bank):
    target = bank["a_corp"]
    for who in ("lead", "rm_b", "outsider"):
        response = login(bank[who]).patch(
            f"/api/v1/customers/{target.id}", json={"tier": "vip", "version": 1}
        )
        assert response.status_code == 404, who


def test_grant_gives_read_access_until_revoked(login, bank, db_session):
    grant = CustomerGrant(
        customer_id=bank["out_corp"].id, user_id=bank["rm_a"].id, source_type="war_room", source_id=1
    )
    db_session.add(grant)
    db_session.commit()
    api = login(bank["rm_a"])
    assert api.get(f"/api/v1/customers/{bank['out_corp'].id}").status_code == 200
    from server.timeutil import utcnow

    grant.revoked_at = utcnow()
    db_session.add(grant)
    db_session.commit()
    assert api.get(f"/api/v1/customers/{bank['out_corp'].id}").status_code == 404


def test_search_by_chinese_and_pinyin_initials(login, bank):
    api = login(bank["rm_a"])
    assert _ids(api.get("/api/v1/customers?q=汽车")) == {bank["a_corp"].id}
    assert _ids(api.get("/api/v1/customers?q=zw")) == {bank["a_person"].id}
    assert _ids(api.get("/api/v1/customers?q=ZW")) == {bank["a_person"].id}
    assert _ids(api.get("/api/v1/customers?q=%25")) == set()  # LIKE wildcards are literal
    assert _ids(api.get("/api/v1/customers?kind=individual")) == {bank["a_person"].id}
    assert _ids(api.get("/api/v1/customers?industry=C36")) == {bank["a_corp"].id}
    assert _ids(api.get("/api/v1/customers?industry=C")) == {bank["a_corp"].id}
    assert _ids(api.get("/api/v1/customers?region=44")) == set()


def test_paging_and_sort(login, db_session, data_key):
    rm = factories.make_user(db_session)
    for i in range(7):
        factories.make_customer(db_session, owner=rm, data_key=data_key, name=f"测试{i}号有限公司")
    api = login(rm)
    first = api.get("/api/v1/customers?page=1&page_size=3&sort=name").get_json()
    last = api.get("/api/v1/customers?page=3&page_size=3&sort=name").get_json()
    assert first["total"] == 7 and len(first["items"]) == 3 and len(last["items"]) == 1
    assert [c["name"] for c in first["items"]] == ["测试0号有限公司", "测试1号有限公司", "测试2号有限公司"]
    desc = api.get("/api/v1/customers?page_size=1&sort=-name").get_json()
    assert desc["items"][0]["name"] == "测试6号有限公司"


def test_bulk_list_and_search_reads_are_audited_with_a_count(login, db_session, data_key):
    rm = factories.make_user(db_session)
    for i in range(45):
        factories.make_customer(db_session, owner=rm, data_key=data_key, name=f"批量{i:02d}号有限公司")
    api = login(rm)

    def audited():
        db_session.expire_all()
        rows = db_session.exec(
            select(AuditEntry)
            .where(AuditEntry.action == "customer.list_page", AuditEntry.actor_id == rm.id)
            .order_by(AuditEntry.id)
        ).all()
        return [(e.detail["page"], e.detail["rows"], e.detail["search"]) for e in rows]

    # near misses: the first screen, however reached, is not a bulk read
    assert len(_ids(api.get("/api/v1/customers"))) == 20
    assert len(_ids(api.get("/api/v1/customers?q=批量&page_size=20"))) == 20
    assert len(_ids(api.get("/api/v1/customers?page_size=5"))) == 5
    assert audited() == []
    # a long first page counts the rows past the first screen; later pages count all their rows
    assert len(_ids(api.get("/api/v1/customers?page_size=100"))) == 45
    assert len(_ids(api.get("/api/v1/customers?q=批量&page=2"))) == 20
    assert len(_ids(api.get("/api/v1/customers?page=3&page_size=20&tier=mass"))) == 5
    assert audited() == [(1, 25, False), (2, 20, True), (3, 5, True)]


def test_tags_filter(login, db_session, data_key):
    rm = factories.make_user(db_session)
    c1 = factories.make_customer(db_session, owner=rm, data_key=data_key)
    factories.make_customer(db_session, owner=rm, data_key=data_key)
    api = login(rm)
    response = api.patch(f"/api/v1/customers/{c1.id}", json={"tags": ["代发工资", "专精特新"], "version": 1})
    assert response.status_code == 200
    assert sorted(response.get_json()["tags"]) == ["专精特新", "代发工资"]
    assert _ids(api.get("/api/v1/customers?tags=代发工资,专精特新")) == {c1.id}


def test_personal_fields_are_masked_and_not_cached(login, bank, data_key):
    api = login(bank["rm_a"])
    response = api.get(f"/api/v1/customers/{bank['a_person'].id}")
    body = response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    assert body["phone_masked"] == "139****5678"
    masked_id = body["individual"]["id_number_masked"]
    assert masked_id[1:-1] == "*" * 16
    raw = json.dumps(body, ensure_ascii=False)
    assert "13912345678" not in raw
    listing = api.get("/api/v1/customers?kind=individual")
    assert listing.headers["Cache-Control"] == "no-store"
    assert "13912345678" not in listing.get_data(as_text=True)


def test_reveal_is_owner_only_and_audited(login, bank, db_session):
    api = login(bank["rm_a"])
    response = api.post(
        f"/api/v1/customers/{bank['a_person'].id}/reveal", json={"field": "phone", "reason": "客户约访回电"}
    )
    assert response.status_code == 200
    assert response.get_json()["value"] == "13912345678"
    entry = db_session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "customer.reveal", AuditEntry.actor_id == bank["rm_a"].id
        )
    ).one()
    assert entry.detail == {"field": "phone", "reason": "客户约访回电"}
    lead = login(bank["lead"])
    denied = lead.post(
        f"/api/v1/customers/{bank['a_person'].id}/reveal", json={"field": "phone", "reason": "查看"}
    )
    assert denied.status_code == 404


def test_id_number_is_encrypted_at_rest(bank, db_session):
    profile = db_session.get(IndividualProfile, bank["a_person"].id)
    assert not profile.id_number_encrypted.startswith("310104")
    assert len(profile.id_number_digest) == 64


VALID_CORPORATE = {
    "kind": "corporate",
    "name": "苏州工业园区新材料有限公司",
    "industry_code": "C26",
    "region_code": "320500",
    "size": "medium",
    "ownership": "private",
}


def _corporate(**over):
    body = {**VALID_CORPORATE, "corporate": {"credit_code": factories.credit_code()}}
    body.update(over)
    return body


def test_create_corporate_and_individual(login, db_session):
    api = login(factories.make_user(db_session))
    created = api.post("/api/v1/customers", json=_corporate(tags=["新客户"]))
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["industry_name"] == "化学原料和化学制品制造业" and body["region_name"] == "苏州市"
    assert body["tags"] == ["新客户"] and body["version"] == 1
    person = api.post(
        "/api/v1/customers",
        json={
            "kind": "individual",
            "name": "李娜",
            "phone": "13700001111",
            "gender": "F",
            "individual": {"id_number": factories.id_number(), "risk_appetite": "C3"},
        },
    )
    assert person.status_code == 201, person.get_data(as_text=True)
    assert person.get_json()["phone_masked"] == "137****1111"
    assert api.get("/api/v1/customers?q=ln").get_json()["total"] == 1


@pytest.mark.parametrize(
    "payload, field",
    [
        (lambda: _corporate(corporate={"credit_code": "91350100M000100Y44"}), "corporate.credit_code"),
        (lambda: _corporate(phone="12345"), "phone"),
        (lambda: _corporate(region_code="999999"), "region_code"),
        (lambda: _corporate(size="huge"), "size"),
        (lambda: _corporate(name=123), "name"),
        (lambda: _corporate(unknown_field=1), "unknown_field"),
        (
            lambda: {"kind": "individual", "name": "王五", "individual": {"id_number": "110105194912310021"}},
            "individual.id_number",
        ),
    ],
)
def test_create_rejects_bad_fields_with_422(login, db_session, payload, field):
    api = login(factories.make_user(db_session))
    response = api.post("/api/v1/customers", json=payload())
    assert response.status_code == 422, response.get_data(as_text=True)
    problem = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert field in {e["field"] for e in problem["errors"]}


def test_kind_without_profile_is_422(login, db_session):
    api = login(factories.make_user(db_session))
    response = api.post("/api/v1/customers", json={**VALID_CORPORATE})
    assert response.status_code == 422


def test_malformed_oversize_and_non_json_bodies(login, db_session, app):
    api = login(factories.make_user(db_session))
    malformed = api.post("/api/v1/customers", data='{"kind": "corporate",', content_type="application/json")
    assert malformed.status_code == 400 and malformed.get_json()["code"] == "malformed-json"
    huge = "x" * (app.config["SETTINGS"].MAX_CONTENT_LENGTH + 10)
    too_big = api.post("/api/v1/customers", data=json.dumps({"name": huge}), content_type="application/json")
    assert too_big.status_code == 413 and too_big.mimetype == "application/problem+json"
    form = api.post(
        "/api/v1/customers", data="kind=corporate", content_type="application/x-www-form-urlencoded"
    )
    assert form.status_code == 415
    not_object = api.post("/api/v1/customers", json=[1, 2, 3])
    assert not_object.status_code == 422
    bad_query = api.get("/api/v1/customers?page=0&page_size=1000")
    assert bad_query.status_code == 422
    assert {e["field"] for e in bad_query.get_json()["errors"]} == {"page", "page_size"}
    unknown_query = api.get("/api/v1/customers?colour=red")
    assert unknown_query.status_code == 422


def test_duplicate_credit_code_is_409(login, db_session):
    api = login(factories.make_user(db_session))
    body = _corporate()
    assert api.post("/api/v1/customers", json=body).status_code == 201
    assert api.post("/api/v1/customers", json=body).status_code == 409


def test_versioned_update(login, db_session, data_key):
    rm = factories.make_user(db_session)
    customer = factories.make_customer(db_session, owner=rm, data_key=data_key)
    api = login(rm)
    assert api.patch(f"/api/v1/customers/{customer.id}", json={"tier": "vip"}).status_code == 428
    ok = api.patch(f"/api/v1/customers/{customer.id}", json={"tier": "vip"}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200 and ok.get_json()["version"] == 2 and ok.headers["ETag"] == '"2"'
    stale = api.patch(f"/api/v1/customers/{customer.id}", json={"tier": "mass", "version": 1})
    assert stale.status_code == 412
    problem = stale.get_json()
    assert problem["code"] == "stale-version" and problem["current"]["tier"] == "vip"
    assert api.get(f"/api/v1/customers/{customer.id}").get_json()["tier"] == "vip"


def test_concurrent_updates_one_winner(app, login, db_session, data_key):
    rm = factories.make_user(db_session)
    customer = factories.make_customer(db_session, owner=rm, data_key=data_key)
    api = login(rm)
    cookie = api.raw.get_cookie("zhanye_session").value
    results = []

    def attempt(tier):
        client = app.test_client()
        client.set_cookie("zhanye_session", cookie)
        r = client.patch(
            f"/api/v1/customers/{customer.id}",
            json={"tier": tier, "version": 1},
            headers={"X-CSRF-Token": api.csrf_token},
        )
        results.append(r.status_code)

    threads = [threading.Thread(target=attempt, args=(t,)) for t in ("vip", "high", "mid", "mass") * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results).count(200) == 1
    assert set(results) <= {200, 412}
    assert api.get(f"/api/v1/customers/{customer.id}").get_json()["version"] == 2


def test_idempotent_create_replays_and_rejects_mismatch(login, db_session):
    rm = factories.make_user(db_session)
    api = login(rm)
    body = _corporate(name="南京江北新区医药有限公司")
    first = api.post("/api/v1/customers", json=body, headers={"Idempotency-Key": "k-123"})
    again = api.post("/api/v1/customers", json=body, headers={"Idempotency-Key": "k-123"})
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.get_json()["id"] == again.get_json()["id"]
    assert api.get("/api/v1/customers?q=江北新区").get_json()["total"] == 1
    other = api.post(
        "/api/v1/customers", json=_corporate(name="另一家公司"), headers={"Idempotency-Key": "k-123"}
    )
    assert other.status_code == 422 and other.get_json()["code"] == "idempotency-mismatch"
    # Keys belong to a user: another RM's identical key is independent.
    api2 = login(factories.make_user(db_session))
    assert (
        api2.post("/api/v1/customers", json=_corporate(), headers={"Idempotency-Key": "k-123"}).status_code
        == 201
    )


def test_idempotent_failure_is_replayed_too(login, db_session):
    api = login(factories.make_user(db_session))
    bad = _corporate(size="huge")
    assert api.post("/api/v1/customers", json=bad, headers={"Idempotency-Key": "bad-1"}).status_code == 422
    replay = api.post("/api/v1/customers", json=bad, headers={"Idempotency-Key": "bad-1"})
    assert replay.status_code == 422 and replay.headers.get("Idempotent-Replayed") == "true"


def test_concurrent_duplicate_key_gets_409(app, login, db_session):
    """While the first request with a key is still running, a duplicate is refused with 409."""
    from server.auth.models import IdempotencyRecord

    rm = factories.make_user(db_session)
    api = login(rm)
    body = _corporate()
    raw = json.dumps(body).encode()
    import hashlib

    digest = hashlib.sha256(b"POST /api/v1/customers\n" + raw).hexdigest()
    db_session.add(
        IdempotencyRecord(
            user_id=rm.id, key="inflight", method="POST", path="/api/v1/customers", request_hash=digest
        )
    )
    db_session.commit()
    response = api.post(
        "/api/v1/customers",
        data=raw,
        content_type="application/json",
        headers={"Idempotency-Key": "inflight"},
    )
    assert response.status_code == 409 and response.get_json()["code"] == "idempotency-in-progress"


def test_parallel_duplicates_create_once(app, login, db_session):
    rm = factories.make_user(db_session)
    api = login(rm)
    cookie = api.raw.get_cookie("zhanye_session").value
    body = _corporate(name="成都高新区软件有限公司")
    statuses = []

    def send():
        client = app.test_client()
        client.set_cookie("zhanye_session", cookie)
        statuses.append(
            client.post(
                "/api/v1/customers",
                json=body,
                headers={"X-CSRF-Token": api.csrf_token, "Idempotency-Key": "same"},
            ).status_code
        )

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(statuses) <= {201, 409}
    assert 201 in statuses
    assert api.get("/api/v1/customers?q=成都高新区").get_json()["total"] == 1


def test_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/customers" in doc["paths"]
    assert "post" in doc["paths"]["/api/v1/customers"]
    schemas = json.dumps(doc["components"])
    assert "CustomerCreate" in schemas and "credit_code" in schemas
