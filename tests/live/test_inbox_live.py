"""The /inbox namespace against the real eventlet server: a reminder fired by a real RQ worker on a
controlled clock arrives live on the RM's open socket (through the Redis message queue), read marks
propagate, bad events get an `error` with a code, and a reconnecting client catches up."""

from __future__ import annotations

import queue as queue_mod
from datetime import UTC, datetime, timedelta

import pytest
import socketio

from tasks.reminders import scan_reminders
from tests import factories
from tests.conftest import http_login

pytestmark = pytest.mark.live

T = datetime(2032, 4, 1, 1, 0, tzinfo=UTC)


def _collect(client, *events):
    box: queue_mod.Queue = queue_mod.Queue()
    for name in events:
        client.on(name, lambda data, name=name: box.put((name, data)), namespace="/inbox")
    return box


def _next(box, name, timeout=10):
    deadline = datetime.now().timestamp() + timeout
    while True:
        left = deadline - datetime.now().timestamp()
        if left <= 0:
            raise AssertionError(f"no {name} event within {timeout} s")
        got_name, data = box.get(timeout=left)
        if got_name == name:
            return data


def test_reminder_arrives_live(live_server, db_session, worker):
    rm = factories.make_user(db_session)
    client = socketio.Client(reconnection=False)
    box = _collect(client, "unread", "notifications", "error", "missed")
    http = http_login(live_server.url, rm.username)
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    client.connect(
        live_server.url, namespaces=["/inbox"], headers={"Cookie": cookie}, transports=["websocket"]
    )
    try:
        assert _next(box, "unread") == {"unread": 0}
        note = http.post(
            live_server.url + "/api/v1/notes",
            json={"body": "下午三点见王总", "remind_at": T.isoformat()},
            headers={"Idempotency-Key": "live-inbox-1"},
            timeout=10,
        ).json()

        scan_reminders.enqueue(now=(T + timedelta(seconds=5)).isoformat(), chain=False)
        worker.work(burst=True)
        batch = _next(box, "notifications")
        assert batch["unread"] == 1
        [live] = batch["items"]
        assert live["url"] == f"/notes/{note['id']}"
        assert live["body"] == "下午三点见王总"
        assert live["late"] is False and live["read_at"] is None

        ack = client.call("read", {"id": live["id"]}, namespace="/inbox", timeout=10)
        assert ack == {"ok": True, "unread": 0}
        bad = client.call("read", {"id": "x"}, namespace="/inbox", timeout=10)
        assert bad["ok"] is False and bad["code"] == "validation"
        assert _next(box, "error")["code"] == "validation"
        other = client.call("read", {"id": 10**9}, namespace="/inbox", timeout=10)
        assert other["code"] == "not-found"
    finally:
        client.disconnect()

    # Reconnecting with the last id seen replays what was missed from the database.
    again = socketio.Client(reconnection=False)
    box = _collect(again, "unread", "missed")
    again.connect(
        live_server.url,
        namespaces=["/inbox"],
        headers={"Cookie": cookie},
        transports=["websocket"],
        auth={"last_id": live["id"] - 1},
    )
    try:
        missed = _next(box, "missed")
        assert [n["id"] for n in missed["items"]] == [live["id"]]
        assert missed["items"][0]["read_at"] is not None
    finally:
        again.disconnect()


def test_inbox_refuses_anonymous_sockets(live_server):
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(live_server.url, namespaces=["/inbox"], transports=["websocket"], wait_timeout=5)
