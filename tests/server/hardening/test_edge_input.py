"""Trivially bad input answers 4xx, never 500, whatever the endpoint: ids past the database's
integer columns in paths, queries, bodies and If-Match; JSON nested 1,000 deep; lone surrogates
and NUL bytes in text and `q`. Runs on SQLite and PostgreSQL (DATABASE_URL)."""

from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture
def rm_client(login, db_session):
    return login(factories.make_user(db_session))


@pytest.mark.parametrize("value", [2**31, 2**63, 2**64 + 7, 10**30])
def test_huge_ids_in_paths_are_not_found(rm_client, value):
    for url in (f"/api/v1/customers/{value}", f"/api/v1/notes/{value}", f"/api/v1/opportunities/{value}"):
        response = rm_client.get(url)
        assert response.status_code == 404, (url, response.status_code)
        assert response.headers["Content-Type"].startswith("application/problem+json")
    response = rm_client.post(f"/api/v1/notes/{value}/done", json={})
    assert response.status_code == 404


@pytest.mark.parametrize("value", [2**31, 2**63, -(2**63) - 1])
def test_huge_ids_in_bodies_and_queries_are_422(rm_client, value):
    response = rm_client.post("/api/v1/notes", json={"body": "拜访", "customer_id": value})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["code"] == "out-of-range"
    response = rm_client.get(f"/api/v1/inbox?before_id={value}")
    assert response.status_code == 422, response.get_data(as_text=True)


def test_huge_if_match_is_400(rm_client, db_session, data_key):
    customer = factories.make_customer(db_session, owner=rm_client.user, data_key=data_key)
    for header in (str(2**63), f'"{2**31}"', 'W/"99999999999999999999"'):
        response = rm_client.patch(
            f"/api/v1/customers/{customer.id}", json={"name": "改名有限公司"}, headers={"If-Match": header}
        )
        assert response.status_code == 400, (header, response.status_code)
        assert response.get_json()["code"] == "bad-if-match"


def test_deeply_nested_json_is_400(rm_client):
    for depth in (40, 1000, 100_000):
        raw = "[" * depth + "]" * depth
        response = rm_client.post("/api/v1/notes", data=raw, content_type="application/json")
        assert response.status_code == 400, (depth, response.status_code)
        assert response.get_json()["code"] == "json-too-deep"
    raw = '{"body": ' + '{"a": ' * 1000 + "1" + "}" * 1000 + "}"
    assert rm_client.post("/api/v1/notes", data=raw, content_type="application/json").status_code == 400


def test_lone_surrogates_and_nul_bytes_in_text_are_422(rm_client, db_session):
    before = rm_client.get("/api/v1/notes").get_json()
    for raw in ('{"body": "a\\ud800b"}', '{"body": "a\\udfffb"}', '{"body": "a\\u0000b"}'):
        response = rm_client.post("/api/v1/notes", data=raw, content_type="application/json")
        assert response.status_code == 422, (raw, response.status_code)
        assert response.get_json()["code"] == "bad-text"
    assert rm_client.get("/api/v1/notes").get_json() == before  # nothing stored


def test_nul_bytes_in_queries_are_422(rm_client):
    for url in ("/api/v1/customers?q=%00", "/api/v1/customers?q=a%00b", "/api/v1/notes?q=x%00"):
        response = rm_client.get(url)
        assert response.status_code == 422, (url, response.status_code)
        assert response.get_json()["code"] == "bad-text"


def test_ordinary_input_still_works(rm_client):
    response = rm_client.post("/api/v1/notes", json={"body": "拜访 🙂 客户"})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert rm_client.get("/api/v1/customers?q=12345678901234567890").status_code == 200
