"""Response schemas of the inbox API (the in-app inbox is the source of truth; push is a hint)."""

from __future__ import annotations

from server.schemas import Strict


class NotificationPublic(Strict):
    id: int
    kind: str
    title: str
    body: str
    url: str
    urgency: str
    due_at: str | None
    late: bool
    created_at: str | None
    read_at: str | None


class InboxPage(Strict):
    items: list[NotificationPublic]
    total: int
    unread: int


class UnreadCount(Strict):
    unread: int


class NotificationRead(NotificationPublic):
    """The notification just read, with the unread count after it."""

    unread: int


class ReadAllResult(Strict):
    marked: int
    unread: int
