"""`/warroom` over real sockets: python-socketio clients against the real eventlet server process(es)
on the real Redis message queue, and a real RQ worker posting into a room."""

from __future__ import annotations

import time
import uuid

import pytest
import socketio

from tests import factories
from tests.realtime.warroom_clients import NS, Listener, make_room, send_message


@pytest.fixture
def people(db_session):
    branch = factories.make_branch(db_session)
    return [factories.make_user(db_session, branch=branch, display_name=name) for name in ("甲", "乙", "丙")]


@pytest.fixture
def connect(socket_client, live_server):
    """connect(user, base_url=None) -> Listener on a connected client; its .http is signed in."""

    def _connect(user, base_url: str | None = None) -> Listener:
        client = socket_client(user, NS, base_url=base_url)
        client.http.user_id = user.id
        listener = Listener(client)
        listener.http = client.http
        listener.base = base_url or live_server.url
        return listener

    return _connect


def test_unauthenticated_connect_is_refused(live_server):
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(live_server.url, namespaces=[NS], transports=["websocket"], wait_timeout=5)
    forged = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        forged.connect(
            live_server.url,
            namespaces=[NS],
            transports=["websocket"],
            wait_timeout=5,
            headers={"Cookie": "zhanye_session=forged"},
        )


def test_join_refusals_keep_the_connection(connect, people, live_server):
    a, b, outsider = people
    la = connect(a)
    lo = connect(outsider)
    room_id = make_room(la.http, live_server.url, [])

    ack = lo.call("join", {"room_id": room_id, "last_seq": 0})
    assert ack["ok"] is False and ack["code"] == "not-a-member"
    lo.wait(lambda: lo.got["error"] and lo.got["error"][-1]["code"] == "not-a-member")
    assert lo.call("join", {"room_id": 987654321})["code"] == "unknown-room"
    assert lo.call("join", {"room": "x"})["code"] == "validation"
    assert lo.call("join", "garbage")["code"] == "validation"
    assert lo.call("message", {"room_id": room_id, "text": "hi"})["code"] == "not-a-member"
    assert lo.client.connected
    # Still usable: the outsider's own room works on the same connection.
    own = make_room(lo.http, live_server.url, [])
    assert lo.call("join", {"room_id": own, "last_seq": 0})["ok"]
    assert not la.events(own)  # no leak of another room's events


def test_broadcast_ordering_presence_and_typing(connect, people, live_server):
    a, b, _ = people
    la, lb = connect(a), connect(b)
    room_id = make_room(la.http, live_server.url, [lb.http])
    joined = la.call("join", {"room_id": room_id, "last_seq": 0})
    assert [e["seq"] for e in joined["events"]] == list(range(1, joined["last_seq"] + 1))
    head = joined["last_seq"]
    b_joined = lb.call("join", {"room_id": room_id, "last_seq": head})
    assert b_joined["events"] == [] and b_joined["online"] == sorted([a.id, b.id])
    la.wait(lambda: la.online(room_id, joined) == sorted([a.id, b.id]))

    assert lb.call("typing", {"room_id": room_id, "typing": True})["ok"]
    la.wait(lambda: la.got["typing"] and la.got["typing"][-1]["user"]["id"] == b.id)
    assert lb.got["typing"] == []  # the typist does not hear themselves

    acks = [send_message(la, room_id, f"消息 {i}") for i in range(20)]
    assert [ack["event"]["seq"] for ack in acks] == list(range(head + 1, head + 21))
    lb.wait(lambda: len(lb.events(room_id)) >= 20)
    got = lb.events(room_id)
    assert [e["seq"] for e in got] == list(range(head + 1, head + 21))
    assert [e["payload"]["text"] for e in got] == [f"消息 {i}" for i in range(20)]
    assert got[0]["author"] == {"id": a.id, "display_name": "甲"} and got[0]["kind"] == "message"

    # A task created and moved by B reaches A with its own sequence numbers.
    created = lb.call(
        "task",
        {"room_id": room_id, "item": "准备授信材料", "assignee_id": a.id, "client_id": str(uuid.uuid4())},
    )
    assert created["ok"], created
    moved = lb.call(
        "task",
        {
            "room_id": room_id,
            "task_id": created["task"]["id"],
            "status": "doing",
            "version": 1,
            "client_id": str(uuid.uuid4()),
        },
    )
    assert moved["ok"] and moved["task"]["status"] == "doing"
    la.wait(lambda: [e["kind"] for e in la.events(room_id)][-2:] == ["task.created", "task.updated"])
    stale = lb.call(
        "task", {"room_id": room_id, "task_id": created["task"]["id"], "status": "done", "version": 1}
    )
    assert stale["code"] == "stale-version" and stale["current"]["status"] == "doing"

    lb.client.disconnect()
    # Only the change travels, not the whole list again.
    la.wait(lambda: la.got["presence"][-1] == {"room_id": room_id, "came_online": [], "went_offline": [b.id]})
    assert la.online(room_id, joined) == [a.id]


def test_reconnect_replays_the_gap_without_loss_or_duplicates(connect, people, live_server):
    a, b, _ = people
    la, lb = connect(a), connect(b)
    room_id = make_room(la.http, live_server.url, [lb.http])
    la.call("join", {"room_id": room_id, "last_seq": 0})
    lb.call("join", {"room_id": room_id, "last_seq": 0})
    for i in range(5):
        send_message(la, room_id, f"before {i}")
    lb.wait(lambda: len([e for e in lb.events(room_id) if e["kind"] == "message"]) == 5)
    last_seen = max(e["seq"] for e in lb.events(room_id))
    lb.client.disconnect()

    for i in range(7):  # sent while B is away
        send_message(la, room_id, f"missed {i}")

    lb2 = connect(b)
    ack = lb2.call("join", {"room_id": room_id, "last_seq": last_seen})
    replayed = ack["events"]
    assert [e["payload"]["text"] for e in replayed] == [f"missed {i}" for i in range(7)]
    assert [e["seq"] for e in replayed] == list(range(last_seen + 1, last_seen + 8))
    assert ack["last_seq"] == last_seen + 7 and ack["more"] is False
    send_message(la, room_id, "after")
    lb2.wait(lambda: lb2.events(room_id))
    assert [e["seq"] for e in lb2.events(room_id)] == [last_seen + 8]  # live resumes, nothing twice
    synced = lb2.call("sync", {"room_id": room_id, "after_seq": last_seen + 6})
    assert [e["seq"] for e in synced["events"]] == [last_seen + 7, last_seen + 8]


def test_resent_client_id_is_stored_and_broadcast_once(connect, people, live_server):
    a, b, _ = people
    la, lb = connect(a), connect(b)
    room_id = make_room(la.http, live_server.url, [lb.http])
    la.call("join", {"room_id": room_id})
    lb.call("join", {"room_id": room_id})
    client_id = str(uuid.uuid4())
    first = send_message(la, room_id, "只发一次", client_id)
    second = send_message(la, room_id, "只发一次", client_id)
    assert first["duplicate"] is False and second["duplicate"] is True
    assert second["event"]["seq"] == first["event"]["seq"]
    send_message(la, room_id, "marker")
    lb.wait(lambda: any(e["payload"].get("text") == "marker" for e in lb.events(room_id)))
    assert [e["payload"]["text"] for e in lb.events(room_id)] == ["只发一次", "marker"]


def test_two_server_processes_share_the_room(connect, people, live_server, start_server):
    a, b, c = people
    second = start_server()
    la = connect(a)  # server 1
    lb = connect(b, base_url=second.url)  # server 2
    room_id = make_room(la.http, live_server.url, [lb.http])
    la.call("join", {"room_id": room_id})
    lb.call("join", {"room_id": room_id})
    send_message(la, room_id, "from server 1")
    send_message(lb, room_id, "from server 2")
    for listener in (la, lb):
        listener.wait(
            lambda listener=listener: (
                {e["payload"].get("text") for e in listener.events(room_id)}
                >= {"from server 1", "from server 2"}
            )
        )
    seqs = sorted(e["seq"] for e in la.events(room_id))
    assert seqs == sorted(e["seq"] for e in lb.events(room_id)) and len(set(seqs)) == len(seqs)

    # Removal through server 1 takes B's socket on server 2 out of the room at once.
    removed = la.http.delete(f"{live_server.url}/api/v1/war-rooms/{room_id}/members/{b.id}", timeout=10)
    assert removed.status_code == 200, removed.text
    lb.wait(lambda: lb.got["removed"] == [{"room_id": room_id}])
    send_message(la, room_id, "after removal")
    la.wait(lambda: any(e["payload"].get("text") == "after removal" for e in la.events(room_id)))
    time.sleep(0.5)
    assert not any(e["payload"].get("text") == "after removal" for e in lb.events(room_id))
    assert lb.call("message", {"room_id": room_id, "text": "还在吗"})["code"] == "not-a-member"
    assert lb.call("join", {"room_id": room_id})["code"] == "not-a-member"
    assert lb.client.connected


def test_rq_job_posts_into_the_room(connect, people, live_server, worker):
    from tasks.warrooms import post_system_message

    a, b, _ = people
    la, lb = connect(a), connect(b)
    room_id = make_room(la.http, live_server.url, [lb.http])
    lb.call("join", {"room_id": room_id})
    alert_key = f"alert-{uuid.uuid4()}"
    post_system_message.enqueue(room_id, "情报：客户园区获批扩建", alert_key, job_id=f"wr-{alert_key}")
    post_system_message.enqueue(room_id, "情报：客户园区获批扩建", alert_key)  # a retried duplicate
    worker.work(burst=True)
    lb.wait(lambda: any(e["kind"] == "system" for e in lb.events(room_id)))
    time.sleep(0.3)
    system = [e for e in lb.events(room_id) if e["kind"] == "system"]
    assert len(system) == 1 and system[0]["author"] is None
    assert system[0]["payload"]["text"] == "情报：客户园区获批扩建" and system[0]["client_id"] == alert_key


def test_flood_and_oversize_get_error_codes(connect, people, live_server):
    a, _, _ = people
    la = connect(a)
    room_id = make_room(la.http, live_server.url, [])
    la.call("join", {"room_id": room_id})
    too_big = la.call("message", {"room_id": room_id, "text": "a" * 4097})
    assert too_big["code"] == "too-large"
    huge = la.call("message", {"room_id": room_id, "text": "a" * 20000})
    assert huge["code"] == "too-large"
    assert la.call("message", {"room_id": room_id, "text": "好" * 1365})["ok"]  # 4095 bytes fit
    codes = [la.call("message", {"room_id": room_id, "text": f"刷屏 {i}"}).get("code") for i in range(40)]
    assert "rate-limited" in codes
    limited = next(e for e in la.got["error"] if e["code"] == "rate-limited")
    assert limited["retry_after"] >= 1
    assert la.client.connected
    assert la.call("sync", {"room_id": room_id, "after_seq": 0})["ok"]  # reading is not throttled


def test_logout_drops_the_live_socket(connect, people, live_server):
    a, _, _ = people
    la = connect(a)
    room_id = make_room(la.http, live_server.url, [])
    assert la.call("join", {"room_id": room_id})["ok"]
    assert la.http.post(live_server.url + "/api/v1/auth/logout", timeout=10).status_code == 204
    la.wait(lambda: la.got["disconnect"] or not la.client.connected)
    assert la.got["session_ended"] == [{"code": "session-ended"}]


def test_target_removal_is_broadcast_once_even_when_resent(connect, people, live_server):
    a, b, _ = people
    la, lb = connect(a), connect(b)
    room_id = make_room(la.http, live_server.url, [lb.http])
    added = la.http.post(
        f"{live_server.url}/api/v1/war-rooms/{room_id}/targets",
        json={"prospect_name": "某物流公司"},
        timeout=10,
    )
    assert added.status_code == 201, added.text
    target = added.json()
    head = la.call("join", {"room_id": room_id, "last_seq": 0})["last_seq"]
    lb.call("join", {"room_id": room_id, "last_seq": head})

    assert lb.call("target_remove", {"room_id": room_id, "target_id": target["id"]})["code"] == "forbidden"
    assert la.call("target_remove", {"room_id": room_id})["code"] == "validation"
    client_id = str(uuid.uuid4())
    removal = {"room_id": room_id, "target_id": target["id"], "version": 1, "client_id": client_id}
    first, again = la.call("target_remove", removal), la.call("target_remove", removal)
    assert first == again == {"ok": True, "removed": target["id"]}  # the re-send changes nothing
    send_message(la, room_id, "marker")
    lb.wait(lambda: any(e["payload"].get("text") == "marker" for e in lb.events(room_id)))
    got = [(e["seq"], e["kind"]) for e in lb.events(room_id)]
    assert got == [(head + 1, "target.removed"), (head + 2, "message")]
    assert lb.events(room_id)[0]["payload"]["target"]["name"] == "某物流公司"
    gone = la.call("target_remove", {"room_id": room_id, "target_id": target["id"]})
    assert gone["code"] == "not-found" and la.client.connected


def test_the_room_list_follows_without_being_present(connect, people, live_server):
    """`follow` (the room list) brings a room's events without marking the follower present or
    replaying anything; `join` (the open room) does both. Outsiders cannot follow."""
    a, b, outsider = people
    la, lb, lo = connect(a), connect(b), connect(outsider)
    room_id = make_room(la.http, live_server.url, [lb.http])
    joined = la.call("join", {"room_id": room_id, "last_seq": 0})
    assert joined["online"] == [a.id]

    followed = lb.call("follow", {"room_id": room_id})
    assert followed == {"ok": True, "room_id": room_id, "last_seq": joined["last_seq"]}
    assert "events" not in followed and "online" not in followed
    send_message(la, room_id, "明早九点碰头")
    lb.wait(lambda: [e["kind"] for e in lb.events(room_id)] == ["message"])  # live, no replay
    time.sleep(1.5)  # past the presence coalescing window
    assert la.online(room_id, joined) == [a.id]  # the follower is not shown as present
    assert all(b.id not in change["came_online"] for change in la.got["presence"])

    assert lb.call("unfollow", {"room_id": room_id})["ok"]
    send_message(la, room_id, "改到十点")
    time.sleep(0.5)
    assert [e["payload"].get("text") for e in lb.events(room_id)] == ["明早九点碰头"]

    refused = lo.call("follow", {"room_id": room_id})
    assert refused["ok"] is False and refused["code"] == "not-a-member"
    send_message(la, room_id, "外人听不到")
    time.sleep(0.5)
    assert lo.events(room_id) == []
