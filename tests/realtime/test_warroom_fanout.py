"""Room broadcasts with one shared websocket frame (realtime/fanout.py), against the real eventlet
server processes: sockets on long-polling, upgraded from polling, on websocket from the start, on a
second process, and one that stops reading so the server's writes only partly fit, all get every
event once and in the same order."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest
import socketio
import websocket

from realtime.fanout import text_frame
from tests import factories
from tests.conftest import http_login, in_order_socket_client
from tests.realtime.warroom_clients import NS, Listener, make_room, send_message


@pytest.fixture
def members(db_session):
    branch = factories.make_branch(db_session)
    return [factories.make_user(db_session, branch=branch, display_name=f"成员{i}") for i in range(5)]


@pytest.fixture
def connect_via():
    """connect_via(user, base_url, transports) -> Listener whose .http is signed in."""
    clients: list[socketio.Client] = []

    def _connect(user, base_url: str, transports: list[str] | None) -> Listener:
        http = http_login(base_url, user.username)
        http.user_id = user.id
        # in arrival order: the stock client runs each event's handler in a thread of its own
        client = in_order_socket_client(reconnection=False)
        client.connect(
            base_url,
            namespaces=[NS],
            headers={"Cookie": "; ".join(f"{c.name}={c.value}" for c in http.cookies)},
            transports=transports,
            wait_timeout=10,
        )
        clients.append(client)
        listener = Listener(client)
        listener.http = http
        return listener

    yield _connect
    for client in clients:
        try:
            client.disconnect()
        except Exception:
            pass


def test_every_transport_and_process_gets_every_event_in_one_order(
    connect_via, members, live_server, start_server
):
    a, b, c, d, e = members
    second = start_server()
    sender_a = connect_via(a, live_server.url, ["websocket"])
    sender_b = connect_via(b, live_server.url, ["websocket"])
    polling = connect_via(c, live_server.url, ["polling"])
    upgraded = connect_via(d, live_server.url, None)  # polling first, then the websocket upgrade
    remote = connect_via(e, second.url, ["websocket"])
    listeners = [sender_a, sender_b, polling, upgraded, remote]
    assert polling.client.transport() == "polling" and remote.client.transport() == "websocket"
    room_id = make_room(sender_a.http, live_server.url, [x.http for x in listeners[1:]])
    for listener in listeners:
        assert listener.call("join", {"room_id": room_id, "last_seq": 10**9})["ok"]
    deadline = time.time() + 10
    while upgraded.client.transport() != "websocket" and time.time() < deadline:
        time.sleep(0.05)
    assert upgraded.client.transport() == "websocket"

    # Two members post at once, so broadcasts follow each other closely on the sending process.
    acked: list[int] = []

    def post(sender: Listener, tag: str) -> None:
        for i in range(25):
            acked.append(send_message(sender, room_id, f"{tag} {i}")["event"]["seq"])

    threads = [threading.Thread(target=post, args=(s, t)) for s, t in ((sender_a, "甲"), (sender_b, "乙"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(acked) == 50

    def seqs(listener: Listener) -> list[int]:
        return [ev["seq"] for ev in listener.events(room_id) if ev["kind"] == "message"]

    for listener in listeners:
        listener.wait(lambda listener=listener: len(seqs(listener)) >= 50, timeout=20)
    orders = [seqs(listener) for listener in listeners]
    assert sorted(orders[0]) == sorted(acked)  # each event once
    assert all(order == orders[0] for order in orders), orders  # the same order on every socket


def _raw_join(base_url: str, user, room_id: int, *, receive_buffer: int) -> websocket.WebSocket:
    """A bare Engine.IO 4 / Socket.IO 5 websocket with a small receive buffer, joined to the room."""
    http = http_login(base_url, user.username)
    ws = websocket.create_connection(
        base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket",
        header=["Cookie: " + "; ".join(f"{c.name}={c.value}" for c in http.cookies)],
        sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)],
        timeout=20,
    )
    assert ws.recv().startswith("0")
    ws.send(f"40{NS},")
    while not ws.recv().startswith(f"40{NS},"):
        pass
    ws.send(f"42{NS},1" + json.dumps(["join", {"room_id": room_id, "last_seq": 10**9}]))
    while True:
        frame = ws.recv()
        if frame.startswith(f"43{NS},1"):
            assert json.loads(frame[len(f"43{NS},1") :])[0]["ok"], frame
            return ws


def test_a_member_who_stops_reading_still_gets_whole_frames_in_order(members, start_server, socket_client):
    """Enough large messages that the server's writes to the stalled socket fill its buffers and are
    taken only in part: the rest of a frame must go out before anything else on that socket, and the
    socket must get the events in the same order as one that kept reading."""
    a, b, c, *_ = members
    server = start_server(WARROOM_RATE_LIMIT="100000")
    sender = Listener(socket_client(a, NS, base_url=server.url))
    sender.http = sender.client.http
    http_b = http_login(server.url, b.username)
    http_b.user_id = b.id
    http_c = http_login(server.url, c.username)
    http_c.user_id = c.id
    room_id = make_room(sender.http, server.url, [http_b, http_c])
    assert sender.call("join", {"room_id": room_id})["ok"]
    reader = _raw_join(server.url, b, room_id, receive_buffer=4096)
    # The member who keeps reading, on a bare socket too: a python-socketio client hands each event to
    # its own thread, so the order its handlers see is not the order the server wrote.
    keeper = _raw_join(server.url, c, room_id, receive_buffer=1 << 20)
    kept: list[int] = []

    def keep_reading() -> None:
        while len(kept) < 400:
            frame = keeper.recv()
            if frame == "2":
                keeper.send("3")
            elif frame.startswith(f"42{NS},"):
                name, event = json.loads(frame[len(f"42{NS},") :])
                if name == "event" and event["kind"] == "message":
                    kept.append(event["seq"])

    keeping = threading.Thread(target=keep_reading, daemon=True)
    keeping.start()
    try:
        text = "好" * 1300  # 3,900 bytes
        count = 400  # ~3 MB (JSON escapes each 好 to 6 bytes): past what the kernel buffers here
        acks: dict[int, dict] = {}
        done = threading.Event()
        in_flight = threading.Semaphore(20)  # a steady stream, not 400 handlers queueing for the database

        def acked(i: int):
            def record(ack):
                acks[i] = ack
                in_flight.release()
                if len(acks) == count:
                    done.set()

            return record

        for i in range(count):
            assert in_flight.acquire(timeout=60)
            sender.client.emit(
                "message",
                {"room_id": room_id, "text": f"{i} {text}", "client_id": str(uuid.uuid4())},
                namespace=NS,
                callback=acked(i),
            )
        assert done.wait(120)
        assert all(ack["ok"] for ack in acks.values()), [a for a in acks.values() if not a["ok"]][:3]
        text_of = {acks[i]["event"]["seq"]: f"{i} {text}" for i in range(count)}
        # While the reader is still stalled, a request of its own: the answer queues behind the events.
        reader.send(f"42{NS},2" + json.dumps(["sync", {"room_id": room_id, "after_seq": max(text_of)}]))

        got: list[int] = []
        answered = False
        while not answered:
            frame = reader.recv()  # a torn or interleaved frame fails here or in json.loads
            if frame == "2":
                reader.send("3")
            elif frame.startswith(f"42{NS},"):
                name, event = json.loads(frame[len(f"42{NS},") :])
                if name == "event" and event["kind"] == "message":
                    assert event["payload"]["text"] == text_of[event["seq"]]
                    got.append(event["seq"])
            elif frame.startswith(f"43{NS},2"):
                assert json.loads(frame[len(f"43{NS},2") :])[0]["ok"]
                answered = True
        assert sorted(got) == sorted(text_of)  # each once, and all before the answer sent after them

        # In the order the server sent them to the member who kept reading. (Under concurrent posts that
        # is commit order, which on PostgreSQL need not be seq order: clients order by seq themselves.)
        keeping.join(60)
        assert len(kept) == count
        assert got == kept
    finally:
        reader.close()
        keeper.close()


_EVENTLET_FRAME = """
import sys
from eventlet.websocket import RFC6455WebSocket
text = sys.stdin.buffer.read().decode("utf-8")
sys.stdout.buffer.write(RFC6455WebSocket(None, {})._pack_message(text))
"""


@pytest.mark.parametrize("size", [0, 1, 125, 126, 4000, 65535, 65536, 70000])
def test_shared_frame_is_the_frame_eventlet_builds(size):
    # eventlet builds its frame in a child process: importing eventlet's green modules into the test
    # process makes later plain-thread tests (a local HTTP stand-in) wait on eventlet's hub forever.
    text = ("好" * size)[: size // 3] + "a" * (size - 3 * (size // 3))  # exactly `size` bytes
    assert len(text.encode()) == size
    built = subprocess.run(
        [sys.executable, "-c", _EVENTLET_FRAME],
        input=text.encode(),
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    assert text_frame(text) == built


def test_server_declines_permessage_deflate(live_server):
    """Shared frames need uncompressed sockets (also the Node.js Socket.IO server's default)."""
    ws = websocket.create_connection(
        live_server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket",
        header=["Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"],
        timeout=10,
    )
    try:
        assert ws.getstatus() == 101
        assert "sec-websocket-extensions" not in {k.lower() for k in ws.getheaders()}
        assert ws.recv().startswith("0")
    finally:
        ws.close()
