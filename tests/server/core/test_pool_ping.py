"""PostgreSQL connections are pinged before use only after sitting idle (server/db.py): a connection
whose server side ended while it was idle is replaced before the request sees it; one handed back
moments ago is used as it is, and if its server went away meanwhile the statement fails as an outage
(a clean 503), after which the pool hands out working connections."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from server import db
from server.errors import is_database_outage


@pytest.fixture
def engine(app):
    engine = db.engine_for(app)
    if engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has no server connection to lose")
    return engine


def _end_backend_of_next_connection(engine) -> int:
    """Ends (server side) the connection the pool will hand out next; returns its backend pid."""
    with engine.connect() as conn:
        pid = conn.connection.dbapi_connection.get_backend_pid()
    outside = create_engine(engine.url.render_as_string(hide_password=False))
    try:
        with outside.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        outside.dispose()
    return pid


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_an_idle_connection_that_died_is_replaced_before_use(engine, monkeypatch):
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)  # every connection counts as idle
    dead = _end_backend_of_next_connection(engine)
    assert _backend_pid(engine) != dead  # answered, on another connection


def test_a_connection_used_moments_ago_is_not_pinged_and_fails_cleanly_if_it_died(engine, monkeypatch):
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 3600.0)  # every connection counts as just used
    pid = _backend_pid(engine)
    assert _backend_pid(engine) == pid  # the warm connection again (last in, first out)
    dead = _end_backend_of_next_connection(engine)
    with pytest.raises(DBAPIError) as failed:
        _backend_pid(engine)
    assert is_database_outage(failed.value)
    assert _backend_pid(engine) != dead  # the pool dropped it; the next use works
