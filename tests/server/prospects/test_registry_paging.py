"""A paged registry API (a JSON intel source whose answer comes a page at a time): followed by the
import job through the guarded client from a local stand-in over real HTTP, by page number, offset
or next link; each page validated per item, a re-fetch adds nothing, the page count and size
bounded, a failure mid-way named by its page (a transient one resumes at that page), and the
admin's lists of imports and of one import's errors paged with limit/offset."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import select

from server.intel.fetch import FetchError
from server.intel.models import IntelSource
from server.org.models import Role
from server.prospects import loading
from server.prospects.models import Prospect, ProspectImport
from tests import factories
from tests.server.prospects.conftest import credit_code
from tests.server.prospects.registry_server import RegistryServer

FIELDS = {"name": "entName", "credit_code": "uniscid", "industry_code": "industry", "size": "scale"}
PROTOCOLS = {
    "page": ("/paged", {"page_param": "page", "size_param": "size", "page_size": "2"}),
    "offset": ("/offset", {"offset_param": "offset", "size_param": "limit", "page_size": "2"}),
    "next": ("/cursor", {"next": "links.next"}),
}


@pytest.fixture
def api():
    server = RegistryServer().start()
    yield server
    server.stop()


@pytest.fixture
def admin(db_session, login):
    return login(factories.make_user(db_session, role=Role.admin, persona=None))


def firms(n: int, *, bad: tuple[int, ...] = ()) -> list[dict]:
    """n firms; the item numbers (from 1) in `bad` carry a wrong check character."""
    out = []
    for number in range(1, n + 1):
        code = credit_code()
        if number in bad:
            code = code[:17] + ("0" if code[17] != "0" else "1")
        out.append(
            {"entName": f"上海分页测试{uuid.uuid4().hex[:6]}有限公司", "uniscid": code, "industry": "C39"}
        )
    return out


def source(db_session, url: str, paging: dict) -> IntelSource:
    src = IntelSource(
        name=f"工商登记分页{uuid.uuid4().hex[:4]}",
        kind="json",
        url=url,
        category="corporate_event",
        mapping={"items": "data.list", "fields": FIELDS, **paging},
    )
    db_session.add(src)
    db_session.commit()
    return src


def fetch_now(admin, src):
    return admin.post(
        "/api/v1/prospects/imports/fetch",
        json={"source_id": src.id},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )


def report(admin, import_id: int) -> dict:
    return admin.get(f"/api/v1/prospects/imports/{import_id}").get_json()


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_every_page_is_read_validated_and_a_second_fetch_adds_nothing(
    protocol, admin, api, worker, sinks, db_session
):
    path, paging = PROTOCOLS[protocol]
    api.items = firms(5, bad=(3,))  # pages of two: the bad item is the first of page 2
    src = source(db_session, api.url + path, paging)
    r = fetch_now(admin, src)
    assert r.status_code == 202, r.get_json()
    worker.work(burst=True)
    done = report(admin, r.get_json()["id"])
    assert done["status"] == "done", done
    assert (done["rows"], done["created"]) == (5, 4)
    assert [(e["line"], e["page"], e["field"]) for e in done["errors"]] == [(3, 2, "credit_code")]
    assert len(api.requests) == 3  # 2 + 2 + 1, and the short (or last) page ends the list
    codes = {i["uniscid"] for n, i in enumerate(api.items, start=1) if n != 3}
    assert len(db_session.exec(select(Prospect).where(Prospect.credit_code.in_(codes))).all()) == 4
    assert db_session.get(ProspectImport, done["id"]).content is None

    again = fetch_now(admin, src)
    worker.work(burst=True)
    second = report(admin, again.get_json()["id"])
    assert (second["status"], second["created"], second["updated"], second["unchanged"]) == ("done", 0, 0, 4)


def test_a_full_last_page_is_followed_by_an_empty_one(admin, api, worker, sinks, db_session):
    api.items = firms(4)
    path, paging = PROTOCOLS["page"]
    r = fetch_now(admin, source(db_session, api.url + path, paging))
    worker.work(burst=True)
    assert report(admin, r.get_json()["id"])["created"] == 4
    assert [p.split("?")[1] for p in api.requests] == ["page=1&size=2", "page=2&size=2", "page=3&size=2"]


def test_a_transient_failure_mid_way_names_its_page_and_the_retry_resumes_there(admin, api, db_session, app):
    api.items = firms(6)
    api.fail = {2: [503]}
    path, paging = PROTOCOLS["next"]
    batch_id = fetch_now(admin, source(db_session, api.url + path, paging)).get_json()["id"]
    with app.app_context():
        with pytest.raises(FetchError):
            loading.run_import(db_session, import_id=batch_id, final_attempt=False)
        waiting = db_session.get(ProspectImport, batch_id)
        assert waiting.status == "queued"
        assert (waiting.errors[0]["page"], waiting.errors[0]["code"]) == (2, "prospect-fetch-http-503")
        assert len(api.requests) == 2
        result = loading.run_import(db_session, import_id=batch_id, final_attempt=True)
    assert result["status"] == "done" and result["created"] == 6 and result["errors"] == []
    # Page 1 was kept from the first attempt: the retry asked for pages 2 and 3 only.
    assert api.requests == ["/cursor", "/cursor?after=2", "/cursor?after=2", "/cursor?after=4"]


def test_a_page_failing_for_good_fails_the_import_with_its_page_and_loads_nothing(
    admin, api, db_session, app
):
    api.items = firms(6)
    api.not_json = {3}
    path, paging = PROTOCOLS["offset"]
    batch_id = fetch_now(admin, source(db_session, api.url + path, paging)).get_json()["id"]
    with app.app_context():
        assert loading.run_import(db_session, import_id=batch_id) == {"failed": "prospect-json-unreadable"}
    failed = report(admin, batch_id)
    assert failed["status"] == "failed" and failed["errors"][0]["page"] == 3
    assert "Page 3" in failed["errors"][0]["reason"]
    codes = [i["uniscid"] for i in api.items]
    assert db_session.exec(select(Prospect).where(Prospect.credit_code.in_(codes))).all() == []

    api.fail = {2: [404]}  # a 4xx is not retried
    other = fetch_now(admin, source(db_session, api.url + "/paged", PROTOCOLS["page"][1])).get_json()["id"]
    with app.app_context():
        assert loading.run_import(db_session, import_id=other, final_attempt=False) == {
            "failed": "prospect-fetch-http-404"
        }
    assert report(admin, other)["errors"][0]["page"] == 2


def test_pages_are_bounded_in_number_and_size(admin, api, db_session, app):
    api.items = firms(7)
    settings = app.config["SETTINGS"]
    saved = (settings.PROSPECT_FETCH_MAX_PAGES, settings.PROSPECT_FETCH_MAX_PAGE_ITEMS)
    try:
        settings.PROSPECT_FETCH_MAX_PAGES = 2
        many = fetch_now(admin, source(db_session, api.url + "/paged", PROTOCOLS["page"][1])).get_json()["id"]
        with app.app_context():
            assert loading.run_import(db_session, import_id=many) == {
                "failed": "prospect-fetch-too-many-pages"
            }
        assert report(admin, many)["errors"][0]["page"] == 3
        assert len(api.requests) == 2  # the third page is never asked for
        settings.PROSPECT_FETCH_MAX_PAGES = 50
        # A page size beyond the bound is refused when the fetch is asked for ...
        settings.PROSPECT_FETCH_MAX_PAGE_ITEMS = 1
        r = fetch_now(admin, source(db_session, api.url + "/paged", PROTOCOLS["page"][1]))
        assert r.status_code == 422 and r.get_json()["code"] == "prospect-paging-invalid"
        # ... and a page holding more items than the bound fails the import.
        big = fetch_now(admin, source(db_session, api.url + "/cursor", PROTOCOLS["next"][1])).get_json()["id"]
        with app.app_context():
            assert loading.run_import(db_session, import_id=big) == {
                "failed": "prospect-fetch-page-too-large"
            }
    finally:
        settings.PROSPECT_FETCH_MAX_PAGES, settings.PROSPECT_FETCH_MAX_PAGE_ITEMS = saved


def test_an_api_that_does_not_page_answers_its_whole_list_in_one(admin, api, db_session, app):
    """The page bound is for paged APIs; one answer may hold up to the row limit."""
    api.items = firms(5)
    settings = app.config["SETTINGS"]
    saved = settings.PROSPECT_FETCH_MAX_PAGE_ITEMS
    settings.PROSPECT_FETCH_MAX_PAGE_ITEMS = 2
    try:
        batch_id = fetch_now(admin, source(db_session, api.url + "/all", {})).get_json()["id"]
        with app.app_context():
            result = loading.run_import(db_session, import_id=batch_id)
    finally:
        settings.PROSPECT_FETCH_MAX_PAGE_ITEMS = saved
    assert (result["status"], result["created"]) == ("done", 5)
    assert api.requests == ["/all"]


def test_loops_and_links_to_other_hosts_are_refused(admin, api, db_session, app):
    api.items = firms(6)
    api.ignore_paging = True  # answers page 1 for ever
    same = fetch_now(admin, source(db_session, api.url + "/paged", PROTOCOLS["page"][1])).get_json()["id"]
    with app.app_context():
        assert loading.run_import(db_session, import_id=same) == {"failed": "prospect-paging-loop"}
    assert report(admin, same)["errors"][0]["page"] == 2
    api.ignore_paging = False
    api.next_base = "http://registry.example.org"
    elsewhere = fetch_now(admin, source(db_session, api.url + "/cursor", PROTOCOLS["next"][1])).get_json()[
        "id"
    ]
    with app.app_context():
        assert loading.run_import(db_session, import_id=elsewhere) == {"failed": "prospect-paging-host"}
    assert not any("example.org" in p for p in api.requests)


def test_a_paging_mapping_that_makes_no_sense_is_refused_when_asked(admin, api, db_session):
    for paging in (
        {"page_param": "page", "next": "links.next"},
        {"page_param": "page", "size_param": "size"},
        {"page_param": "page", "page_size": "lots"},
        {"offset_param": "offset", "page_size": "0"},
    ):
        r = fetch_now(admin, source(db_session, api.url + "/paged", paging))
        assert r.status_code == 422 and r.get_json()["code"] == "prospect-paging-invalid", paging
    assert api.requests == []


def test_the_admin_lists_page_with_limit_and_offset(admin, api, worker, sinks, db_session, login):
    api.items = firms(5, bad=(1, 2, 4))
    path, paging = PROTOCOLS["page"]
    src = source(db_session, api.url + path, paging)
    ids = [fetch_now(admin, src).get_json()["id"] for _ in range(3)]
    worker.work(burst=True)
    first = admin.get("/api/v1/prospects/imports?limit=2").get_json()
    assert [i["id"] for i in first["items"]] == [ids[2], ids[1]] and first["has_more"] is True
    assert "errors" not in first["items"][0] and first["items"][0]["error_count"] == 3
    rest = admin.get("/api/v1/prospects/imports?limit=2&offset=2").get_json()
    assert rest["items"][0]["id"] == ids[0] and rest["offset"] == 2
    errors = admin.get(f"/api/v1/prospects/imports/{ids[0]}/errors?limit=2").get_json()
    assert [(e["line"], e["page"]) for e in errors["items"]] == [(1, 1), (2, 1)]
    assert (errors["total"], errors["has_more"]) == (3, True)
    tail = admin.get(f"/api/v1/prospects/imports/{ids[0]}/errors?limit=2&offset=2").get_json()
    assert [(e["line"], e["page"]) for e in tail["items"]] == [(4, 2)] and tail["has_more"] is False
    assert admin.get("/api/v1/prospects/imports?limit=0").status_code == 422
    assert admin.get("/api/v1/prospects/imports?limit=101").status_code == 422
    assert admin.get("/api/v1/prospects/imports/999999999/errors").status_code == 404
    rm = login(factories.make_user(db_session))
    assert rm.get(f"/api/v1/prospects/imports/{ids[0]}/errors").status_code == 403


def test_kept_pages_are_told_from_an_answer_that_merely_looks_alike():
    from server.prospects import registry

    kept = registry.envelope([[{"a": 1}], [{"a": 2}, {"a": 3}]], None, ["u1", "u2"])
    assert registry.read_envelope(kept)[registry.ENVELOPE][1] == [{"a": 2}, {"a": 3}]
    page_of = registry.page_of_item(kept)
    assert page_of is not None and [page_of(n) for n in (1, 2, 3)] == [1, 2, 2]
    for other in (
        b'{"_registry_pages": 5}',
        b'{"_registry_pages": [1, 2]}',
        b'{"_registry_pages": [[',
        b"[]",
        None,
    ):
        assert registry.read_envelope(other) is None
