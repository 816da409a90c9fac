"""The /inbox namespace: live notifications while the app is open. The base class joins each socket
to `user:<id>`; jobs emit `notifications` ({items, unread}) there. On connect the client gets its unread count and,
if it says which notification it saw last (`auth: {"last_id": n}`), everything newer: the socket
alone is at-most-once, the inbox table is not."""

from __future__ import annotations

from typing import Any

from flask_socketio import emit

from realtime.base import SessionNamespace
from realtime.names import INBOX, user_room
from realtime.session import SocketUser
from server.errors import unprocessable
from server.inbox import service as inbox


def _last_id(auth: Any) -> int | None:
    if isinstance(auth, dict) and isinstance(auth.get("last_id"), int) and auth["last_id"] >= 0:
        return auth["last_id"]
    return None


class InboxNamespace(SessionNamespace):
    path = INBOX

    def connected(self, who: SocketUser, auth: Any) -> None:
        with self.event_session() as session:
            last_id = _last_id(auth)
            if last_id is not None:
                missed = inbox.since(session, user_id=who.user_id, after_id=last_id)
                if missed:
                    emit("missed", {"items": [inbox.public(n) for n in missed]})
            emit("unread", {"unread": inbox.unread_count(session, user_id=who.user_id)})

    def on_read(self, data: Any = None):
        return self.guarded(self._read, data)

    def _read(self, session, user, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict) or not isinstance(data.get("id"), int):
            raise unprocessable("Send {id: <notification id>}.")
        inbox.mark_read(session, user_id=user.id, notification_id=data["id"])
        unread = inbox.unread_count(session, user_id=user.id)
        # Every open device of this user updates its badge.
        emit("unread", {"unread": unread}, to=user_room(user.id))
        return {"ok": True, "unread": unread}
