"""The one place that emits. Works in the web process (through the app's SocketIO) and in RQ
workers (a write-only SocketIO client of the same Redis message queue)."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context
from flask_socketio import SocketIO
from socketio import RedisManager

from realtime.names import NAMESPACES
from server.redis_client import database_number

socketio = SocketIO()  # the web process's server, attached by `realtime.init_app`
_external: dict[str, SocketIO] = {}
_external_url: dict[str, str] = {}


def queue_channel(redis_url: str) -> str:
    """Redis pub/sub ignores the database number: two deployments (or test runs) on one Redis would
    hear each other's rooms. One channel per database keeps them apart."""
    return f"flask-socketio-db{database_number(redis_url)}"


def _socketio() -> SocketIO:
    """The web process's server, or in a worker a write-only client of the same message queue."""
    if socketio.server is not None:
        return socketio
    # A worker writes to the message queue of the app it runs (its settings, not the environment's).
    if has_app_context():
        url = current_app.config["SETTINGS"].REDIS_URL
    else:
        if "" not in _external_url:
            from server.config import load_settings

            _external_url[""] = load_settings().REDIS_URL  # read once: settings are not cheap
        url = _external_url[""]
    if url not in _external:
        # threading, named: left to guess, Flask-SocketIO picks eventlet when it is installed, and
        # eventlet's hub then takes over plain threads and sockets in a process nobody patched.
        # The manager is named too: Flask-SocketIO picks Redis only for redis:// URLs and would take
        # a redis+sentinel:// one for Kombu's; python-socketio's RedisManager reads both forms.
        writer = RedisManager(url, channel=queue_channel(url), write_only=True)
        _external[url] = SocketIO(message_queue=url, client_manager=writer, async_mode="threading")
    return _external[url]


def emit(event: str, data: Any, *, room: str | list[str], namespace: str) -> None:
    _socketio().emit(event, data, to=room, namespace=namespace)


def emit_everywhere(event: str, data: Any, *, room: str) -> None:
    """The same event to a room on every namespace (e.g. the end of a session)."""
    for namespace in NAMESPACES:
        emit(event, data, room=room, namespace=namespace)
