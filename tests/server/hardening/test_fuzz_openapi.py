"""Fuzzing every operation of the OpenAPI document (schemathesis: data that fits the schema and data
that does not) as a signed-in RM with the CSRF header: no answer is a 5xx. Bounded examples per
operation so it runs in about a minute; on SQLite and PostgreSQL (DATABASE_URL)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from server import create_app
from tests import factories

MAX_EXAMPLES = 3
SKIP = r"/auth/(logout|login)|/_test/"  # signing out would end the session the fuzz runs in


@pytest.fixture(scope="module")
def fuzz_app(app, test_config, tmp_path_factory):  # `app` migrates the database
    # No built PWA: a generated path that falls through to the app shell gets the small placeholder.
    return create_app({**test_config, "API_DOCS_PUBLIC": True, "PWA_DIST": tmp_path_factory.mktemp("no-pwa")})


@pytest.fixture(scope="module")
def signed_in(fuzz_app):
    from sqlmodel import Session

    from server import db

    with Session(db.engine_for(fuzz_app)) as session:
        user = factories.make_user(session)
        username = user.username
    client = fuzz_app.test_client()
    response = client.post("/api/v1/auth/login", json={"username": username, "password": factories.PASSWORD})
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"].split(";", 1)[0]
    return {"Cookie": cookie, "X-CSRF-Token": response.get_json()["csrf_token"]}


@pytest.fixture(scope="module")
def operations(fuzz_app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app).exclude(path_regex=SKIP)
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) > 60
    return found


def test_no_operation_answers_5xx(operations, signed_in):
    failures: list[str] = []
    calls = 0

    def fuzz_one(operation) -> None:
        # One small hypothesis run per operation: a single run drawing for every operation at once
        # outgrows hypothesis's data budget as the API grows, and then retries without end.
        @settings(
            max_examples=1,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(data=st.data())
        def fuzz(data):
            nonlocal calls
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                for _ in range(MAX_EXAMPLES):
                    try:
                        case = data.draw(operation.as_strategy(generation_mode=mode))
                    except Exception:  # noqa: BLE001  (an operation with nothing negative to make)
                        break
                    response = case.call(headers=signed_in)
                    calls += 1
                    if response.status_code >= 500:
                        failures.append(
                            f"{case.method} {case.formatted_path} -> {response.status_code}: "
                            f"{response.text[:200]} (query={case.query!r}, body={str(case.body)[:200]!r})"
                        )

        fuzz()

    for operation in operations:
        fuzz_one(operation)
    print(f"{calls} generated requests over {len(operations)} operations")
    assert calls > 250
    assert not failures, "\n".join(failures)
