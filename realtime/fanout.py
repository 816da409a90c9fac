"""Room broadcasts that encode once and write one shared websocket frame straight to each socket.

python-socketio encodes a broadcast once, then for every recipient queues an Engine.IO packet on that
socket; the socket's writer greenthread wakes, encodes the packet again, builds a websocket frame and
sends it. In a 1,000-member room that queue put, wake-up timer, greenlet switch, queue-get Timeout
and frame build per recipient took about two thirds of the web process's CPU, and the last member
heard a message only after a thousand writer switches.

Here a room broadcast builds the Engine.IO text and the websocket frame once, and the emitting
greenthread writes that frame with one non-blocking `send` to every websocket that is idle: nothing
queued for it and its writer not sending. Anything else (a socket still on long-polling or mid
upgrade, a writer busy, a full send buffer, a broadcast with an acknowledgement callback) takes the
stock queue path, so each socket still gets its packets in the order they were emitted:

- the writer takes packets off the queue and holds the websocket's send lock from before its first
  write until after its last, with no switch in between, so "queue empty and lock free" means no
  packet of that socket is waiting or in flight;
- a frame the kernel takes only in part is finished by a short-lived greenthread that holds the send
  lock meanwhile, so everything after it waits behind it.

Frames are plain RFC 6455 text frames, the same bytes eventlet builds. So that every socket can share
them, the server does not negotiate permessage-deflate (the Node.js Socket.IO server's default too):
per-socket compression would mean per-recipient zlib work and a zlib context per connection.

Installed by `realtime.init_app`; used only under eventlet (the threading mode of the tests' in-process
app keeps the stock path)."""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from typing import Any

from engineio import packet as eio_packet
from socketio import RedisManager
from socketio import packet as sio_packet
from socketio.manager import Manager

log = logging.getLogger(__name__)

# After the message queue's connection drops, the listener tries again this soon, doubling up to the
# cap (the library's own backoff starts at 1 s and reaches 60 s: a Redis restart of a second or two
# left a process deaf to the others for up to half a minute).
RESUBSCRIBE_FIRST_S = 0.1
RESUBSCRIBE_MAX_S = 1.0
# Told to every local socket once the listener is subscribed again: broadcasts published while it
# was not were lost to this process, so clients fetch what they missed since their last seq.
RESYNC_EVENT = "resync"

# The engineio socket attribute holding its websocket while that websocket is open and frames can be
# shared with it (plain TCP, RFC 6455, uncompressed); absent or None otherwise.
DIRECT_ATTR = "_zhanye_direct_ws"


def text_frame(text: str) -> bytes:
    """One unmasked, uncompressed, final RFC 6455 text frame (a server never masks, section 5.1)."""
    payload = text.encode("utf-8")
    length = len(payload)
    if length <= 125:
        header = struct.pack("!BB", 0x81, length)
    elif length <= 0xFFFF:
        header = struct.pack("!BBH", 0x81, 126, length)
    else:
        header = struct.pack("!BBQ", 0x81, 127, length)
    return header + payload


def write_frame(eio_socket: Any, frame: bytes) -> bool:
    """Writes `frame` to the socket's websocket now if that keeps the socket's order. Returns False when
    the caller must use the queue path instead."""
    ws = getattr(eio_socket, DIRECT_ATTR, None)
    if (
        ws is None
        or not eio_socket.upgraded
        or eio_socket.upgrading
        or eio_socket.closing
        or eio_socket.closed
    ):
        return False
    if eio_socket.queue.qsize() or ws._sendlock.locked():
        return False  # earlier packets are waiting or being written: go behind them
    if not eio_socket.check_ping_timeout():
        return True  # the client stopped answering pings; the socket is closing (as Socket.send does)
    try:
        sent = ws.socket.fd.send(frame)  # the real non-blocking socket under eventlet's GreenSocket
    except BlockingIOError:
        return False  # send buffer full: the writer waits for room, in order
    except OSError:
        return False  # a broken connection: the stock path finds out and closes it as usual
    if sent < len(frame):
        from eventlet import spawn_n

        ws._sendlock.acquire()  # free (checked above, no switch since): later packets wait behind
        spawn_n(_finish_frame, ws, frame[sent:])
    return True


def _finish_frame(ws: Any, rest: bytes) -> None:
    try:
        ws.socket.sendall(rest)
    except OSError:
        pass  # the connection broke; its reader sees that and closes the socket
    finally:
        ws._sendlock.release()


class _SharedFrameFanout(Manager):
    """The local half of a room broadcast (what Manager.emit does), with shared frames."""

    def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        room = to or room
        if callback is not None or self.server.async_mode != "eventlet" or namespace not in self.rooms:
            # An acknowledgement needs its own packet id per recipient; threading mode has no shared
            # frame path. The stock code handles both.
            return super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback)
        args = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        encoded = self.server.packet_class(
            sio_packet.EVENT, namespace=namespace, data=[event, *args]
        ).encode()
        if isinstance(encoded, list):  # binary attachments go as several packets: stock path
            return super().emit(event, data, namespace, room=room, skip_sid=skip_sid)
        eio_pkt = eio_packet.Packet(eio_packet.MESSAGE, encoded)
        frame = text_frame(eio_pkt.encode())
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        sockets = self.server.eio.sockets
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid in skip:
                continue
            eio_socket = sockets.get(eio_sid)
            if eio_socket is None or eio_socket.closed:
                continue  # gone (the stock path logs and skips it too)
            if not write_frame(eio_socket, frame):
                eio_socket.send(eio_pkt)


class FanoutRedisManager(RedisManager, _SharedFrameFanout):
    """The Redis message-queue manager (one publish per broadcast, one decode per listening process)
    with shared-frame local delivery: in this class order the pub/sub manager's calls to the local
    `emit` land in `_SharedFrameFanout.emit`, both for a broadcast made here and for one heard from
    another process."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # Publishes leave in the order they were emitted. Without this, two greenthreads broadcasting
        # close together could each take a pool connection and the later one reach Redis first (a
        # pool connection is checked before use, which can switch greenthreads), so the other
        # processes would deliver the two events in the opposite order to this one.
        self._publish_lock = threading.Lock()

    def _publish(self, data):
        with self._publish_lock:
            return super()._publish(data)

    def _redis_listen_with_retries(self):  # the library's loop, with a short backoff and the nudge
        retry_s = RESUBSCRIBE_FIRST_S
        subscribed, dropped = False, False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    self.pubsub.subscribe(self.channel)
                    subscribed, retry_s = True, RESUBSCRIBE_FIRST_S
                    if dropped:
                        dropped = False
                        self._tell_local_sockets_to_resync()
                yield from self.pubsub.listen()
            except Exception as exc:
                log.warning("message queue connection lost (%s); subscribing again in %.1f s", exc, retry_s)
                subscribed, dropped = False, True
                time.sleep(retry_s)
                retry_s = min(retry_s * 2, RESUBSCRIBE_MAX_S)

    def _tell_local_sockets_to_resync(self) -> None:
        for namespace in list(self.rooms):
            try:
                _SharedFrameFanout.emit(self, RESYNC_EVENT, {}, namespace)  # this process only
            except Exception:
                log.exception("could not tell sockets on %s to resync", namespace)


def install(server: Any) -> None:
    """Makes the engineio server of `server` (a socketio.Server in eventlet mode) record each open,
    shareable websocket on its engineio socket and decline permessage-deflate."""
    if server.async_mode != "eventlet":
        return
    from engineio.async_drivers.eventlet import WebSocketWSGI
    from eventlet.greenio import GreenSocket
    from eventlet.websocket import RFC6455WebSocket

    class SharedFrameWebSocketWSGI(WebSocketWSGI):
        def __init__(self, handler, eio_server):
            eio_socket = handler.__self__  # engineio calls this with its socket's bound handler

            def run(ws):
                # Small frames go out at once (as the Node.js server does), not held back by Nagle's
                # algorithm until the client acknowledges the previous one, up to its delayed-ACK time.
                try:
                    ws.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                except OSError:
                    pass
                plain = (
                    isinstance(ws, RFC6455WebSocket)
                    and type(ws.socket) is GreenSocket  # not TLS: frames go to the raw socket
                    and not ws.extensions
                )
                setattr(eio_socket, DIRECT_ATTR, ws if plain else None)
                try:
                    return handler(ws)
                finally:
                    setattr(eio_socket, DIRECT_ATTR, None)

            super().__init__(run, eio_server)

        def _negotiate_permessage_deflate(self, extensions):
            return None

    eio = server.eio
    # A copy: the driver's table is shared by every engineio server in the process.
    eio._async = {**eio._async, "websocket": SharedFrameWebSocketWSGI}
