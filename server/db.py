"""Engines and sessions. One engine per (URL, process): a forked worker never reuses the parent's
pooled connections. Domain services take an explicit `session`; routes get one per request."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, cast

from flask import Flask, current_app, g
from sqlalchemy import Table, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Mapped
from sqlalchemy.sql.expression import Executable
from sqlmodel import Session, SQLModel, col, create_engine

from server.config import Settings

_engines: dict[str, tuple[int, Engine]] = {}
# A pooled PostgreSQL connection is pinged before use only when it has sat unused this long. The ping
# is a round trip before every request and socket event; a connection handed back moments ago was
# answering then. A server that restarts or fails over in less than this between a connection's
# return and its next use fails that one statement as an outage (a clean 503 or `unavailable`,
# nothing half-written), and SQLAlchemy then drops every older connection of the pool; any longer
# outage is caught by the ping as before.
PING_AFTER_IDLE_S = 1.0
_IDLE_SINCE = "zhanye_idle_since"


def _on_sqlite_connect(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    # Connections are kept rather than opened per burst: a new connection costs milliseconds of this
    # process's time (TLS probe, authentication), and bursts come exactly when the process is busiest.
    # 30 at most per process (DB_POOL_SIZE + DB_MAX_OVERFLOW); the PostgreSQL sizing is in
    # docs/deployment.md. A statement that runs past DB_STATEMENT_TIMEOUT_MS is cancelled by the
    # server, so one bad query cannot hold a pooled connection (and its greenthread) for ever.
    settings = Settings()  # the environment only: no secrets are read or made here
    connect_args = {}
    if settings.DB_STATEMENT_TIMEOUT_MS and url.startswith("postgresql+psycopg2"):
        connect_args["options"] = f"-c statement_timeout={settings.DB_STATEMENT_TIMEOUT_MS}"
    engine = create_engine(
        url,
        echo=echo,
        pool_size=settings.DB_POOL_SIZE,
        max_overflow=settings.DB_MAX_OVERFLOW,
        pool_timeout=10,
        # The connection handed back last is handed out first, so a steady trickle keeps reusing
        # a few warm connections (no ping) and the rest stay idle until a burst needs them.
        pool_use_lifo=True,
        connect_args=connect_args,
    )
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Pessimistic disconnect handling (SQLAlchemy's `checkout` event recipe), skipped for a
    connection used within PING_AFTER_IDLE_S."""

    def mark_idle(_dbapi_connection, record) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def ping_if_idle(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is not None and time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)  # what `pool_pre_ping` runs: the dialect's own
        except Exception as exc:
            # The pool discards this connection and checks out another (a fresh one if need be).
            raise DisconnectionError("pooled connection did not answer its ping") from exc

    event.listen(engine, "connect", mark_idle)
    event.listen(engine, "checkin", mark_idle)
    event.listen(engine, "checkout", ping_if_idle)


def get_engine(url: str, *, echo: bool = False) -> Engine:
    pid = os.getpid()
    known = _engines.get(url)
    if known and known[0] == pid:
        return known[1]
    if known:
        # Inherited across fork: drop the parent's pool without closing its sockets.
        known[1].dispose(close=False)
    engine = make_engine(url, echo=echo)
    _engines[url] = (pid, engine)
    return engine


def dispose_all() -> None:
    """Close every pooled connection of this process (tests, shutdown)."""
    for _pid, engine in _engines.values():
        engine.dispose()
    _engines.clear()


def is_postgres(engine_or_session) -> bool:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "postgresql"


class _Persisted(Protocol):
    @property
    def id(self) -> int | None: ...


def row_id(row: _Persisted) -> int:
    """The primary key of a stored row. Models declare `id: int | None` because the database assigns
    it on INSERT; once a row is loaded or flushed it is always set, and this says so to the type checker."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id before it is flushed")
    return row.id


def id_col(column: int | None) -> Mapped[int]:
    """A primary-key column for a query, e.g. `select(id_col(User.id))`: a stored row's key is never
    NULL, so the result is typed `int` rather than the model attribute's `int | None`."""
    return cast("Mapped[int]", col(column))


def table_of(model: type[SQLModel]) -> Table:
    """The Core `Table` behind a table model (SQLModel does not type `Model.__table__`)."""
    table = sa_inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table


def rollback(session: Session) -> None:
    """Ends the session's transaction without keeping anything. When the database went away under it
    (a restart), rolling back on the dead connection fails too: the session drops the connection
    instead, which ends the transaction just the same, and the caller's answer (a 503) stands
    rather than this error replacing it with a 500."""
    try:
        session.rollback()
    except DBAPIError:
        session.invalidate()


def init_app(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    app.extensions["zhanye_db_url"] = settings.database_url()
    app.extensions["zhanye_db_echo"] = settings.SQL_ECHO

    @app.teardown_appcontext
    def _close_session(_exc) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            rollback(session)  # closing rolls back too, and could fail the same way
            session.close()


def engine_for(app: Flask) -> Engine:
    return get_engine(app.extensions["zhanye_db_url"], echo=app.extensions["zhanye_db_echo"])


def session() -> Session:
    """The request's session, created on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = Session(engine_for(current_app), expire_on_commit=False)
    return g.db_session


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session for code outside a request (socket handlers, jobs, CLI)."""
    with Session(engine, expire_on_commit=False) as s:
        try:
            yield s
        except BaseException:
            s.rollback()
            raise


def rows_affected(session: Session, statement: Executable) -> int:
    """Runs an UPDATE or DELETE and returns how many rows it matched (a conditional write's answer:
    did it win?)."""
    result = session.execute(statement)
    return cast(CursorResult, result).rowcount
