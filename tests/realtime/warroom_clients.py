"""Socket.IO clients on /warroom for the real-socket tests: a Listener that records what one client
hears, a room made over HTTP, and a chat message sent with its acknowledgement checked."""

from __future__ import annotations

import threading
import uuid

import socketio

NS = "/warroom"


class Listener:
    """Records what the server sends to one client on /warroom."""

    def __init__(self, client: socketio.Client):
        self.client = client
        self.got: dict[str, list] = {
            "event": [],
            "error": [],
            "presence": [],
            "typing": [],
            "removed": [],
            "invited": [],
            "session_ended": [],
            "disconnect": [],
        }
        self.cond = threading.Condition()
        for name in self.got:
            client.on(name, self.recorder(name), namespace=NS)

    def recorder(self, name):
        def record(*args):
            with self.cond:
                self.got[name].append(args[0] if args else None)
                self.cond.notify_all()

        return record

    def wait(self, predicate, timeout: float = 10.0) -> None:
        with self.cond:
            assert self.cond.wait_for(predicate, timeout), f"timed out; got {self.got}"

    def events(self, room_id: int) -> list[dict]:
        return [e for e in self.got["event"] if e["room_id"] == room_id]

    def call(self, event: str, data: dict) -> dict:
        return self.client.call(event, data, namespace=NS, timeout=10)

    def online(self, room_id: int, joined: dict) -> list[int]:
        """Who is online as a client keeps it: the join acknowledgement's list, changed by each
        presence event since."""
        online = set(joined["online"])
        for change in self.got["presence"]:
            if change["room_id"] == room_id:
                online = (online | set(change["came_online"])) - set(change["went_offline"])
        return sorted(online)


def make_room(owner_http, base_url: str, member_https: list, title: str = "张江项目作战室") -> int:
    """A room made over HTTP on the live server: the owner invites, each member accepts."""
    ids = [m.user_id for m in member_https]
    response = owner_http.post(
        base_url + "/api/v1/war-rooms", json={"title": title, "invite_user_ids": ids}, timeout=10
    )
    assert response.status_code == 201, response.text
    room_id = response.json()["id"]
    for member in member_https:
        accepted = member.post(f"{base_url}/api/v1/war-rooms/{room_id}/invitations/accept", timeout=10)
        assert accepted.status_code == 200, accepted.text
    return room_id


def send_message(listener: Listener, room_id: int, text: str, client_id: str | None = None) -> dict:
    ack = listener.call(
        "message", {"room_id": room_id, "text": text, "client_id": client_id or str(uuid.uuid4())}
    )
    assert ack["ok"], ack
    return ack
