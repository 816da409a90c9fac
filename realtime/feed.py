"""`/feed`: the opportunity pool, live. At connect a socket joins one room per (pool, qualification)
it is eligible for, so an event emitted to its (pool, qualification) room reaches exactly the RMs
who may see and claim it, on every web process (rooms work through the Redis message queue).
Events carry the database's `seq`; a reconnecting client sends `resume {last_seq}` and gets the gap
it is eligible for from the database."""

from __future__ import annotations

from typing import Any

from flask_socketio import join_room

from realtime.base import SessionNamespace
from realtime.emit import emit
from realtime.session import SocketUser
from server import events
from server.errors import Problem
from server.opportunities import service
from server.org.models import RmProfile, User

NAMESPACE = "/feed"
REPLAY_LIMIT = 500


def broadcast_feed(event: events.DomainEvent) -> None:
    """Sink: a committed feed event goes to its audience's rooms (and originator/owner)."""
    if event.kind != "opportunity.feed":
        return
    emit("feed", event.payload["event"], room=service.event_rooms(event.payload), namespace=NAMESPACE)  # type: ignore[arg-type]


class FeedNamespace(SessionNamespace):
    path = NAMESPACE

    def connected(self, who: SocketUser, auth: Any) -> None:
        with self.event_session() as session:
            user = session.get(User, who.user_id)
            profile = session.get(RmProfile, who.user_id)
            policy = service.get_policy(session)
            rooms = (
                service.socket_rooms(
                    user=user,
                    qualifications=list(profile.qualifications or []) if profile else [],
                    require_qualification=policy.require_qualification,
                )
                if user is not None
                else []
            )
        for room in rooms:
            join_room(room)

    def on_resume(self, data: Any = None):
        return self.guarded(self._resume, data)

    def _resume(self, session, user: User, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict) or not isinstance(data.get("last_seq"), int) or data["last_seq"] < 0:
            raise Problem(422, "Unprocessable Content", "Send {last_seq: integer >= 0}.", code="validation")
        head = service.last_seq(session)
        gap = service.events_since(session, user=user, after_seq=data["last_seq"], limit=REPLAY_LIMIT)
        more = len(gap) == REPLAY_LIMIT
        # Feed writers commit in seq order, so `head` is a safe cursor once the gap is applied.
        cursor = gap[-1]["seq"] if more else max(head, data["last_seq"])
        return {"ok": True, "events": gap, "last_seq": cursor, "more": more}


events.add_sink(broadcast_feed)
