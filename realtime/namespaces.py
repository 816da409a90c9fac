"""Every feature's Socket.IO namespace class, registered by `realtime.init_app`. A feature adds its
class here (and its path to realtime/names.py)."""

from __future__ import annotations

from realtime.base import SessionNamespace
from realtime.feed import FeedNamespace
from realtime.inbox import InboxNamespace
from realtime.warroom import WarRoomNamespace

NAMESPACE_CLASSES: tuple[type[SessionNamespace], ...] = (FeedNamespace, InboxNamespace, WarRoomNamespace)
