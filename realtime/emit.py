"""The one place that emits. Works in the web process (through the app's SocketIO) and in RQ
workers (a write-only SocketIO client of the same Redis message queue)."""

from __future__ import annotations

from typing import Any

from flask_socketio import SocketIO

NAMESPACES: list[str] = []  # filled by register_namespaces
_external: SocketIO | None = None


def register_namespaces(socketio: SocketIO) -> None:
    """Each feature adds its Namespace class here."""
    import realtime.namespaces  # noqa: F401  (imports every feature namespace)
    from realtime.base import SessionNamespace

    for namespace_cls in SessionNamespace.__subclasses__():
        ns = namespace_cls(namespace_cls.path)
        socketio.on_namespace(ns)
        if ns.namespace not in NAMESPACES:
            NAMESPACES.append(ns.namespace)


def _socketio() -> SocketIO:
    from realtime import socketio

    if socketio.server is not None:
        return socketio
    global _external
    if _external is None:
        from server.config import load_settings

        _external = SocketIO(message_queue=load_settings().REDIS_URL)
    return _external


def emit(event: str, data: Any, *, room: str, namespace: str) -> None:
    _socketio().emit(event, data, to=room, namespace=namespace)


def emit_everywhere(event: str, data: Any, *, room: str) -> None:
    """The same event to a room on every namespace (e.g. the end of a session)."""
    for namespace in NAMESPACES:
        emit(event, data, room=room, namespace=namespace)
