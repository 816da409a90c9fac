"""Loading prospects from a bank's registry API (a JSON intel source): fetched by the import job
through the guarded outbound client from a local stand-in that speaks JSON over real HTTP, validated
per item, idempotent, and never fetched from an internal address that is not allow-listed."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlmodel import select

from server.intel.fetch import FetchError
from server.intel.models import IntelSource
from server.org.models import Role
from server.prospects import loading
from server.prospects.models import Prospect, ProspectImport
from tests import factories
from tests.server.intel.feedserver import FeedServer
from tests.server.prospects.conftest import credit_code


def key() -> dict:
    return {"Idempotency-Key": uuid.uuid4().hex}


@pytest.fixture
def registry():
    server = FeedServer().start()
    yield server
    server.stop()


@pytest.fixture
def admin(db_session, login):
    return login(factories.make_user(db_session, role=Role.admin, persona=None))


def json_source(db_session, url: str, mapping: dict | None = None) -> IntelSource:
    src = IntelSource(
        name=f"工商登记接口{uuid.uuid4().hex[:4]}",
        kind="json",
        url=url,
        category="corporate_event",
        mapping=mapping or {},
    )
    db_session.add(src)
    db_session.commit()
    return src


def serve(registry: FeedServer, path: str, payload) -> str:
    registry.dynamic[path] = (json.dumps(payload, ensure_ascii=False).encode(), "application/json")
    return f"{registry.url}/d/{path}"


def fetch_now(admin, source):
    return admin.post("/api/v1/prospects/imports/fetch", json={"source_id": source.id}, headers=key())


def test_a_registry_api_loads_like_a_file_and_a_second_fetch_adds_nothing(
    admin, registry, worker, sinks, db_session
):
    good1, good2 = credit_code(), credit_code("320100")
    bad = good1[:17] + ("0" if good1[17] != "0" else "1")
    answer = {
        "code": 0,
        "data": {
            "list": [
                {"entName": "上海甲精密机械有限公司", "uniscid": good1, "industry": "C34", "scale": "小型",
                 "regCap": 800, "estDate": "2016-04-01", "dom": "上海市闵行区某路1号"},
                {"entName": "上海乙电子有限公司", "uniscid": bad, "industry": "C39"},
                {"entName": "南京丙软件有限公司", "uniscid": good2, "industry": "I65", "scale": "微型"},
            ]
        },
    }  # fmt: skip
    source = json_source(
        db_session,
        serve(registry, "registry", answer),
        {
            "items": "data.list",
            "fields": {
                "name": "entName",
                "credit_code": "uniscid",
                "industry_code": "industry",
                "size": "scale",
                "capital_wan": "regCap",
                "founded_on": "estDate",
                "address": "dom",
            },
        },
    )
    r = fetch_now(admin, source)
    assert r.status_code == 202, r.get_json()
    assert r.get_json()["kind"] == "fetch" and r.get_json()["status"] == "queued"
    import_id = r.get_json()["id"]
    worker.work(burst=True)
    report = admin.get(f"/api/v1/prospects/imports/{import_id}").get_json()
    assert report["status"] == "done", report
    assert (report["rows"], report["created"], report["updated"]) == (3, 2, 0)
    assert [(e["line"], e["field"]) for e in report["errors"]] == [(2, "credit_code")]
    assert len(registry.requests_for("/d/registry")) == 1  # fetched by the job, once
    first = db_session.exec(select(Prospect).where(Prospect.credit_code == good1)).one()
    assert first.name == "上海甲精密机械有限公司" and first.size == "small"
    assert first.registered_capital_cents == 800 * 10_000 * 100
    assert first.field_sources["name"]["source_id"] == source.id
    assert db_session.get(ProspectImport, import_id).content is None  # the answer is dropped once loaded
    count = len(db_session.exec(select(Prospect.id)).all())

    # The same answer again: a new import whose rows are all unchanged.
    again = fetch_now(admin, source)
    worker.work(burst=True)
    report2 = admin.get(f"/api/v1/prospects/imports/{again.get_json()['id']}").get_json()
    assert (report2["status"], report2["created"], report2["unchanged"]) == ("done", 0, 2)
    assert len(db_session.exec(select(Prospect.id)).all()) == count
    listed = admin.get("/api/v1/prospects/imports").get_json()["items"]
    assert [i["id"] for i in listed[:2]] == [again.get_json()["id"], import_id]


def test_internal_addresses_are_refused_unless_allow_listed(admin, registry, worker, sinks, db_session, app):
    # Cloud metadata (link-local) and a private address: refused when asked, nothing queued.
    for url in ("http://169.254.169.254/latest/meta-data", "http://10.1.2.3/registry"):
        r = fetch_now(admin, json_source(db_session, url))
        assert r.status_code == 422 and r.get_json()["code"] == "prospect-source-refused", url
    # Loopback passes the check only while allow-listed: taken off the list before the job runs,
    # the job's own connection is refused and the stand-in never sees a request.
    source = json_source(
        db_session, serve(registry, "internal", [{"企业名称": "x", "统一社会信用代码": credit_code()}])
    )
    r = fetch_now(admin, source)
    assert r.status_code == 202
    settings = app.config["SETTINGS"]
    saved = (settings.OUTBOUND_ALLOW_HOSTS, settings.DEMO_MODE)
    settings.OUTBOUND_ALLOW_HOSTS, settings.DEMO_MODE = [], False  # demo mode allows the app's own host
    try:
        worker.work(burst=True)
    finally:
        settings.OUTBOUND_ALLOW_HOSTS, settings.DEMO_MODE = saved
    report = admin.get(f"/api/v1/prospects/imports/{r.get_json()['id']}").get_json()
    assert report["status"] == "failed" and report["errors"][0]["code"] == "prospect-fetch-refused"
    assert registry.requests_for("/d/internal") == []


def test_a_failing_api_is_retried_then_fails_and_a_non_json_answer_fails(admin, registry, db_session, app):
    source = json_source(db_session, f"{registry.url}/status/503")
    batch_id = fetch_now(admin, source).get_json()["id"]
    with app.app_context():
        with pytest.raises(FetchError):  # a transient failure: the job raises for its retry
            loading.run_import(db_session, import_id=batch_id, final_attempt=False)
        batch = db_session.get(ProspectImport, batch_id)
        assert batch.status == "queued" and batch.errors[0]["code"] == "prospect-fetch-http-503"
        result = loading.run_import(db_session, import_id=batch_id, final_attempt=True)
        assert result == {"failed": "prospect-fetch-http-503"}
        assert db_session.get(ProspectImport, batch_id).status == "failed"
    registry.dynamic["html"] = (b"<html>not json</html>", "text/html")
    other = fetch_now(admin, json_source(db_session, f"{registry.url}/d/html")).get_json()["id"]
    with app.app_context():
        loading.run_import(db_session, import_id=other)
    failed = admin.get(f"/api/v1/prospects/imports/{other}").get_json()
    assert failed["status"] == "failed" and failed["errors"][0]["code"] == "prospect-json-unreadable"


def test_only_admins_fetch_and_only_json_sources(login, admin, db_session, registry):
    source = json_source(db_session, serve(registry, "x", []))
    rm = login(factories.make_user(db_session))
    assert fetch_now(rm, source).status_code == 403
    upload_source = IntelSource(name="上传", kind="upload", category="corporate_event")
    db_session.add(upload_source)
    db_session.commit()
    r = fetch_now(admin, upload_source)
    assert r.status_code == 409 and r.get_json()["code"] == "not-json"
