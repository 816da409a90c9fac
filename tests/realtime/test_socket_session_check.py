"""A live socket's session between full checks (realtime/base.py): events use the user as last read,
and whatever ends or narrows the session still reaches the socket at once. Run on a server whose
recheck interval is longer than any test, so only those paths can explain a fresh read."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlmodel import select

from server.auth.models import UserSession
from server.org.models import Role, User
from server.timeutil import utcnow
from tests import factories
from tests.conftest import http_login, in_order_socket_client
from tests.realtime.warroom_clients import NS, Listener, make_room, send_message


@pytest.fixture(scope="module")
def slow_recheck_server(start_server):
    return start_server(SOCKET_SESSION_RECHECK_SECONDS="600")


def _listener(socket_client, user, base_url: str) -> Listener:
    client = socket_client(user, NS, base_url=base_url)
    listener = Listener(client)
    listener.http = client.http
    return listener


def _author(ack: dict) -> str:
    return ack["event"]["author"]["display_name"]


def test_events_between_checks_use_the_user_as_read_until_an_access_change(
    slow_recheck_server, socket_client, db_session
):
    base = slow_recheck_server.url
    branch = factories.make_branch(db_session)
    rm = factories.make_user(db_session, branch=branch, display_name="甲")
    admin = factories.make_user(db_session, role=Role.admin, persona=None, branch=branch)
    team = factories.make_team(db_session, branch=branch)
    la = _listener(socket_client, rm, base)
    room_id = make_room(la.http, base, [])
    assert la.call("join", {"room_id": room_id, "last_seq": 0})["ok"]
    assert _author(send_message(la, room_id, "第一条")) == "甲"

    # Changed behind the application's back (no event): the socket goes on with the user as read.
    stored = db_session.get(User, rm.id)
    stored.display_name = "甲改"
    db_session.add(stored)
    db_session.commit()
    assert _author(send_message(la, room_id, "第二条")) == "甲"

    # An access change (here the team) reaches every process: the next event reads the user again.
    changed = http_login(base, admin.username).patch(
        f"{base}/api/v1/admin/users/{rm.id}", json={"team_id": team.id}, timeout=10
    )
    assert changed.status_code == 200, changed.text
    deadline = time.monotonic() + 5
    authors = []
    while time.monotonic() < deadline:
        authors.append(_author(send_message(la, room_id, f"第{len(authors) + 3}条")))
        if authors[-1] == "甲改":
            break
        time.sleep(0.1)
    assert authors[-1] == "甲改", authors
    assert la.client.connected


def test_the_absolute_end_of_a_session_is_kept_between_checks(
    slow_recheck_server, socket_client, db_session, app
):
    base = slow_recheck_server.url
    rm = factories.make_user(db_session, display_name="乙")
    la = _listener(socket_client, rm, base)
    room_id = make_room(la.http, base, [])
    assert la.call("join", {"room_id": room_id, "last_seq": 0})["ok"]
    send_message(la, room_id, "还在")

    # The session was signed in long enough ago that it ends two seconds from now. The socket read
    # its sign-in time at connect, so move it before connecting again.
    hours = app.config["SETTINGS"].SESSION_ABSOLUTE_HOURS  # the live server runs the same settings
    row = db_session.exec(select(UserSession).where(UserSession.user_id == rm.id)).one()
    row.created_at = utcnow() - timedelta(hours=hours) + timedelta(seconds=2)
    db_session.add(row)
    db_session.commit()
    cookie = "; ".join(f"{c.name}={c.value}" for c in la.http.cookies)
    la.client.disconnect()
    client = in_order_socket_client(reconnection=False)
    client.connect(
        base, namespaces=[NS], headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=10
    )
    try:
        again = Listener(client)
        assert again.call("join", {"room_id": room_id, "last_seq": 0})["ok"]
        assert send_message(again, room_id, "结束前")["ok"]
        time.sleep(2.5)
        # The answer is an `error` event and the end of the connection (the acknowledgement may not
        # make it out before the disconnect).
        client.emit("message", {"room_id": room_id, "text": "结束后"}, namespace=NS)
        again.wait(lambda: any(e["code"] == "session-ended" for e in again.got["error"]))
        again.wait(lambda: again.got["disconnect"] or not client.connected)
    finally:
        client.disconnect()


def test_each_event_gets_its_own_copy_of_the_checked_user_without_a_query(app, db_session):
    """Between checks an event's user is rebuilt from the columns read at the check: in the event's
    session, with no SELECT to make it and no UPDATE for it at commit, and a change that one event
    rolled back never shows in the next."""
    from sqlalchemy import event
    from sqlmodel import Session

    from realtime.base import _Check, _snapshot
    from server import db

    user = factories.make_user(db_session, display_name="丙")
    check = _Check(time.monotonic(), user.id, _snapshot(user))
    engine = db.engine_for(app)
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with Session(engine, expire_on_commit=False) as first:
            mine = check.user(first)
            assert (mine.id, mine.display_name, mine.role, mine.branch_id) == (
                user.id,
                "丙",
                user.role,
                user.branch_id,
            )
            assert mine in first and not first.dirty and not first.new
            mine.display_name = "改过又撤回"
            first.rollback()
        with Session(engine, expire_on_commit=False) as second:
            again = check.user(second)
            assert again is not mine and again.display_name == "丙"
            second.commit()
        assert statements == [], statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)
