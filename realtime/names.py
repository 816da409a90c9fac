"""Every Socket.IO namespace and room name, in one place. Emitters (web process or RQ worker) and
namespaces build names only through these, so a room joined is the room emitted to.

The opportunity feed's audience rooms (`pool:*`, and `user:<id>` for originator and owner) are
computed by the domain in server/opportunities, which may not import this package; `user_room`
below is the same `user:<id>` form."""

from __future__ import annotations

FEED = "/feed"
INBOX = "/inbox"
WARROOM = "/warroom"
NAMESPACES: tuple[str, ...] = (FEED, INBOX, WARROOM)


def user_room(user_id: int) -> str:
    """Every socket of a user, on every namespace (joined at connect)."""
    return f"user:{user_id}"


def session_room(session_id: str) -> str:
    """Every socket of one sign-in session (dropped together when it ends)."""
    return f"session:{session_id}"


def war_room(room_id: int) -> str:
    """The members of a war room who joined it on /warroom."""
    return f"room:{room_id}"
