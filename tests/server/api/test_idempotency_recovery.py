"""What a retried write meets after a crash or a database restart (server/api.py `idempotent`): a
key whose write was applied is never run again, a key abandoned before writing runs again."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlmodel import func, select

from server.auth.models import IdempotencyRecord
from server.notebook.models import Note
from server.timeutil import utcnow
from tests import factories


def _claim(db_session, user, key: str, body: dict, *, state: str, age_s: float) -> None:
    raw = json.dumps(body).encode()
    db_session.add(
        IdempotencyRecord(
            user_id=user.id,
            key=key,
            method="POST",
            path="/api/v1/notes",
            request_hash=hashlib.sha256(b"POST /api/v1/notes\n" + raw).hexdigest(),
            state=state,
            created_at=utcnow() - timedelta(seconds=age_s),
        )
    )
    db_session.commit()


def _notes(db_session, user) -> int:
    db_session.expire_all()
    return db_session.exec(select(func.count()).select_from(Note).where(Note.owner_id == user.id)).one()


def _post(api, key: str, body: dict):
    return api.post(
        "/api/v1/notes",
        data=json.dumps(body),
        headers={"Idempotency-Key": key, "Content-Type": "application/json"},
    )


def _unavailable_then_runs_once(api, db_session, user, key: str, body: dict, first) -> None:
    """The first answer was a clean 503 that wrote nothing, and the same key's retry runs at once."""
    assert first.status_code == 503 and first.get_json()["code"] == "unavailable", first.get_data(
        as_text=True
    )
    assert _notes(db_session, user) == 0
    retry = _post(api, key, body)
    assert retry.status_code == 201, retry.get_data(as_text=True)


def test_applied_key_whose_answer_was_lost_is_never_run_again(login, db_session):
    rm = factories.make_user(db_session)
    api = login(rm)
    body = {"body": "写入后应答丢失"}
    _claim(db_session, rm, "applied-1", body, state="applied", age_s=600)
    answer = _post(api, "applied-1", body)
    assert answer.status_code == 409 and answer.get_json()["code"] == "idempotency-applied"
    assert _notes(db_session, rm) == 0


def test_key_abandoned_before_writing_runs_again_once(app, login, db_session):
    rm = factories.make_user(db_session)
    api = login(rm)
    body = {"body": "进程被杀时尚未写入"}
    abandoned_after = app.config["SETTINGS"].IDEMPOTENCY_ABANDONED_SECONDS
    _claim(db_session, rm, "fresh", body, state="in_progress", age_s=1)
    assert _post(api, "fresh", body).get_json()["code"] == "idempotency-in-progress"
    _claim(db_session, rm, "stale", body, state="in_progress", age_s=abandoned_after + 5)
    first = _post(api, "stale", body)
    assert first.status_code == 201
    again = _post(api, "stale", body)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert _notes(db_session, rm) == 1


def test_the_applied_mark_commits_with_the_write(app, login, db_session):
    """The before-commit hook marks the record in the view's own transaction: once the note exists,
    its key can no longer be taken for abandoned, whatever happens to the answer afterwards."""
    from sqlalchemy import event
    from sqlmodel import Session

    rm = factories.make_user(db_session)
    api = login(rm)
    seen: list[str] = []

    def after_commit(session: Session) -> None:
        with Session(session.get_bind()) as look:
            record = look.exec(select(IdempotencyRecord).where(IdempotencyRecord.key == "atomic-1")).first()
            if record is not None:
                seen.append(record.state)

    event.listen(Session, "after_commit", after_commit)
    try:
        assert _post(api, "atomic-1", {"body": "原子标记"}).status_code == 201
    finally:
        event.remove(Session, "after_commit", after_commit)
    assert "applied" in seen  # right after the note's commit, before the answer was stored
    db_session.expire_all()
    stored = db_session.exec(select(IdempotencyRecord).where(IdempotencyRecord.key == "atomic-1")).one()
    assert stored.state == "done"


def test_key_is_forgotten_when_the_database_dies_under_the_write(app, login, db_session):
    """PostgreSQL only: the server ends the request's connection just before the note's INSERT (as a
    restart does). The write fails, the rollback on the dead connection fails too, and the answer is a
    503; the key must still be forgotten, so that the client's retry runs at once instead of meeting
    409 `idempotency-in-progress` until the key counts as abandoned."""
    from sqlalchemy import event, text

    from server import db

    engine = db.engine_for(app)
    if engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has no server to end a connection")
    rm = factories.make_user(db_session)
    api = login(rm)
    ended: list[int] = []

    def end_connection(conn, cursor, statement, parameters, context, executemany) -> None:
        if ended or not statement.lstrip().upper().startswith("INSERT INTO NOTE"):
            return
        pid = conn.connection.dbapi_connection.get_backend_pid()
        with engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        ended.append(pid)

    event.listen(engine, "before_cursor_execute", end_connection)
    try:
        first = _post(api, "dies-1", {"body": "写入时数据库断开"})
    finally:
        event.remove(engine, "before_cursor_execute", end_connection)
    assert ended, "the note's INSERT never ran"
    _unavailable_then_runs_once(api, db_session, rm, "dies-1", {"body": "写入时数据库断开"}, first)
    assert _post(api, "dies-1", {"body": "写入时数据库断开"}).headers.get("Idempotent-Replayed") == "true"
    assert _notes(db_session, rm) == 1


def test_a_claim_whose_commit_answer_was_lost_is_forgotten(app, login, db_session):
    """The database goes away just as the key's claim commits: the claim landed but its COMMIT
    answered with a dropped connection, and the view never ran. The answer is a 503 and the claim
    is forgotten, so the client's retry runs at once (not 409 until the key counts as abandoned)."""
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError
    from sqlmodel import Session

    rm = factories.make_user(db_session)
    api = login(rm)
    lost: list[int] = []

    def lose_the_answer(session: Session) -> None:
        if lost:
            return
        with Session(session.get_bind()) as look:
            claim = look.exec(select(IdempotencyRecord).where(IdempotencyRecord.key == "lost-ack")).first()
        if claim is not None and claim.state == "in_progress":
            lost.append(claim.id)
            raise OperationalError("COMMIT", None, Exception("server closed the connection unexpectedly"))

    event.listen(Session, "after_commit", lose_the_answer)
    try:
        first = _post(api, "lost-ack", {"body": "认领时应答丢失"})
    finally:
        event.remove(Session, "after_commit", lose_the_answer)
    assert lost, "the claim never committed"
    _unavailable_then_runs_once(api, db_session, rm, "lost-ack", {"body": "认领时应答丢失"}, first)
    assert _notes(db_session, rm) == 1
