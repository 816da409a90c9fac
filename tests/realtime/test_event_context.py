"""Every socket event runs in a request context built from the socket's websocket handshake. That
context must be freed when the event ends, by reference counting: left in a reference cycle it waits
for the cyclic garbage collector, and collecting thousands of them stalled a busy process's sockets."""

from __future__ import annotations

import gc

from flask import request
from werkzeug.routing.exceptions import WebsocketMismatch
from werkzeug.test import EnvironBuilder

from realtime import route_socket_handshake
from server import create_app

# The environ Flask-SocketIO keeps per socket: the GET that upgraded to a websocket.
HANDSHAKE = EnvironBuilder(
    path="/socket.io/",
    query_string="EIO=4&transport=websocket",
    headers={"Upgrade": "websocket", "Connection": "Upgrade"},
)


def _events(app, count: int = 5) -> tuple[list, int]:
    """Runs `count` empty events the way Flask-SocketIO does; returns the routing errors they saw and
    how many contexts were left for the cyclic collector."""
    environ = HANDSHAKE.get_environ()
    seen = []
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what the collector finds unreachable goes to gc.garbage
    try:
        for _ in range(count):
            with app.request_context(environ):
                seen.append(type(request.routing_exception))
        gc.collect()
        return seen, sum(1 for obj in gc.garbage if isinstance(obj, WebsocketMismatch))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def test_event_context_is_freed_without_the_cycle_collector(test_config):
    app = create_app(test_config)
    # Without its own rule the handshake falls to the PWA's page route: the cycle this guards against.
    assert _events(app) == ([WebsocketMismatch] * 5, 5)
    route_socket_handshake(app)
    assert _events(app) == ([type(None)] * 5, 0)
