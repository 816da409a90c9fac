"""Every socket event runs in a request context built from the socket's websocket handshake. That
context must be freed when the event ends, by reference counting: left in a reference cycle it waits
for the cyclic garbage collector, and collecting thousands of them stalled a busy process's sockets."""

from __future__ import annotations

import gc

from flask import request
from werkzeug.routing.exceptions import WebsocketMismatch
from werkzeug.test import EnvironBuilder

from realtime.base import drop_routing_exception


def _handshake_environ():
    # The environ Flask-SocketIO keeps per socket: the GET that upgraded to a websocket.
    builder = EnvironBuilder(
        path="/socket.io/",
        query_string="EIO=4&transport=websocket",
        headers={"Upgrade": "websocket", "Connection": "Upgrade"},
    )
    return builder.get_environ()


def _contexts_left_in_cycles(app, *, drop: bool) -> int:
    environ = _handshake_environ()
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what the collector finds unreachable goes to gc.garbage
    try:
        for _ in range(5):
            with app.request_context(environ):
                assert isinstance(request.routing_exception, WebsocketMismatch)
                if drop:
                    drop_routing_exception()
        gc.collect()
        return sum(1 for obj in gc.garbage if isinstance(obj, WebsocketMismatch))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def test_event_context_is_freed_without_the_cycle_collector(app):
    assert _contexts_left_in_cycles(app, drop=False) == 5  # the cycle this guards against exists
    assert _contexts_left_in_cycles(app, drop=True) == 0
