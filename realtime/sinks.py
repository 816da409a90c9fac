"""The real-time layer's event sinks: committed domain events out to sockets, from whichever process
(web or RQ worker) committed them. Installed with every other sink by tasks/sinks.install, the one
call each process makes at start."""

from __future__ import annotations

from collections.abc import Callable

from realtime.base import announce_access_change, disconnect_session_sockets
from realtime.emit import emit_everywhere
from realtime.feed import broadcast_feed
from realtime.names import session_room
from realtime.warroom import broadcast_sink as warroom_broadcast
from server.events import DomainEvent


def drop_revoked_sessions(event: DomainEvent) -> None:
    """Logout, disable or expiry: tell the session's sockets, then drop them on every process."""
    if event.kind != "session.revoked":
        return
    for session_id in event.payload.get("session_ids", []):
        emit_everywhere("session_ended", {"code": "session-ended"}, room=session_room(session_id))
        disconnect_session_sockets(session_id)


SINKS: list[Callable[[DomainEvent], None]] = [
    drop_revoked_sessions,
    broadcast_feed,
    announce_access_change,
    warroom_broadcast,
]
