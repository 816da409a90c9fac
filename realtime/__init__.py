"""Real-time layer: Flask-SocketIO namespaces over a Redis message queue, so any web process or RQ
worker can reach any socket. `init_app` attaches it to the Flask app in the web process; its event
sinks are installed with every other sink by tasks/sinks.install (see wsgi.py).

Layers, lowest first (no module imports one above it): names, emit, session, base, the feature
namespaces (feed, inbox, warroom), namespaces, sinks, this package's `init_app`."""

from __future__ import annotations

from flask import Flask
from flask_socketio import SocketIO

from realtime import fanout
from realtime.emit import queue_channel, socketio
from realtime.namespaces import NAMESPACE_CLASSES

__all__ = ["init_app", "route_socket_handshake", "socketio"]


def init_app(app: Flask) -> SocketIO:
    settings = app.config["SETTINGS"]
    socketio.init_app(
        app,
        async_mode=settings.ASYNC_MODE,
        client_manager=fanout.FanoutRedisManager(
            settings.REDIS_URL, channel=queue_channel(settings.REDIS_URL)
        ),
        cors_allowed_origins=[settings.PUBLIC_URL],
        max_http_buffer_size=64 * 1024,
        ping_interval=20,
        ping_timeout=20,
    )
    fanout.install(socketio.server)
    route_socket_handshake(app)
    for namespace_cls in NAMESPACE_CLASSES:
        socketio.on_namespace(namespace_cls(namespace_cls.path))
    return socketio


def route_socket_handshake(app: Flask) -> None:
    """Gives the websocket handshake a URL rule of its own. Flask-SocketIO runs every socket event in
    a request context built from that handshake, and pushing the context matches its URL. Without
    this rule `/socket.io/` falls to the PWA's catch-all page route, which refuses a websocket
    request: the stored WebsocketMismatch held its traceback, whose frames held the context, which
    held the exception. A reference cycle per event, freed only by the cyclic garbage collector:
    under load a collection of thousands of them stalled every socket of the process for 50-70 ms.
    The rule is never dispatched (Flask-SocketIO answers `/socket.io/` before Flask routes)."""
    if "socketio_handshake" not in app.view_functions:
        app.add_url_rule("/socket.io/", endpoint="socketio_handshake", websocket=True)
