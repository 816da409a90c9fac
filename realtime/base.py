"""Base class of every feature namespace: authenticate at connect, re-check the session while the
socket sends events, open and close a DB session per event, and answer bad input with an `error`
event.

The session is checked against the database at connect and then at most every
SOCKET_SESSION_RECHECK_SECONDS per socket; the events in between use the user as last read (a copy,
attached to the event's session without a query). Nothing that ends or narrows a session waits for
the next check: logout, disable and a role change end the session's sockets on every process when
they commit (the `session.revoked` sink), a change of team, qualifications or role forgets the
checks of that user's sockets on every process (the access channel below), and the absolute expiry
is compared on every event. An idle socket's first event after the interval is checked in full, so
idle expiry holds as before. The check (a query and an ORM load of two rows) was about 2 of the
7 ms between a chat message's arrival and its broadcast on PostgreSQL."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from flask_socketio import Namespace, disconnect, emit, join_room
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session

from realtime.emit import _socketio, queue_channel
from realtime.names import session_room, user_room
from realtime.session import SocketUser, authenticate_connect, socket_sid, still_valid
from server import db, events
from server.errors import Problem, is_database_outage
from server.org.models import User
from server.redis_client import client_from_url, get_redis
from server.timeutil import utcnow

log = logging.getLogger(__name__)
MAX_EVENT_BYTES = 4096
ACCESS_EVENT = "user.access_changed"  # published by server/org when what a user may see changes


def access_channel(redis_url: str) -> str:
    return queue_channel(redis_url) + ":feed-access"


def announce_access_change(event: events.DomainEvent) -> None:
    """Sink: tell every web process (they hold the sockets) whose access changed."""
    if event.kind != ACCESS_EVENT:
        return
    settings = current_app.config["SETTINGS"]
    get_redis().publish(
        access_channel(settings.REDIS_URL), json.dumps({"user_ids": event.payload["user_ids"]})
    )


@dataclass(frozen=True)
class _Check:
    """A socket's last full session check: when, and the user's columns as read then."""

    at: float  # time.monotonic()
    user_id: int
    columns: dict[str, Any]

    def user(self, session: Session) -> User:
        """The user as checked, in `session` without a query (a fresh copy each event, so a
        rollback or change in one event never reaches the next). Built as the ORM builds a row it
        loads, not through the model's constructor and a merge: this runs for every socket event,
        and those took about 0.1 ms of it."""
        copy = sa_inspect(User).class_manager.new_instance()
        copy.__dict__.update(self.columns)
        make_transient_to_detached(copy)  # as if just loaded: persistent once added, nothing to flush
        session.add(copy)
        return copy


def _snapshot(user: User) -> dict[str, Any]:
    return {column.key: getattr(user, column.key) for column in User.__table__.columns}  # type: ignore[attr-defined]


class _AccessListener:
    """One subscriber per process to the access channel; it tells every session namespace."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started = False

    def start(self, namespace: SessionNamespace) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        namespace.socketio.start_background_task(self._listen, namespace.socketio, app)

    def _listen(self, socketio: Any, app: Flask) -> None:
        redis_url = app.config["SETTINGS"].REDIS_URL
        while True:
            try:
                pubsub = client_from_url(redis_url).pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(access_channel(redis_url))
                for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    user_ids = {int(u) for u in json.loads(message["data"])["user_ids"]}
                    for handler in list(socketio.server.namespace_handlers.values()):
                        if isinstance(handler, SessionNamespace):
                            handler.access_changed(app, user_ids)
            except Exception:
                log.exception("access listener failed; resubscribing")
                socketio.sleep(1)


_access_listener = _AccessListener()


def _sockets_key(session_id: str) -> str:
    return f"ws:session:{session_id}"


class SessionNamespace(Namespace):
    path = "/"

    def __init__(self, namespace: str):
        super().__init__(namespace)
        self._socket_users: dict[str, SocketUser] = {}
        self._session_checks: dict[str, _Check] = {}  # sid -> the socket's last full session check
        self._access_changes = 0  # access changes heard so far (see checked_user)

    # connect/disconnect bookkeeping shared by every namespace
    def on_connect(self, auth: Any = None):
        try:
            return self._connect(auth)
        except Exception:
            log.exception("socket connect failed")
            return False  # never let a failure admit an unauthenticated socket

    def _connect(self, auth: Any):
        who = authenticate_connect()
        if who is None:
            return False  # refused: the client gets a connect_error
        sid = socket_sid()
        _access_listener.start(self)
        self._socket_users[sid] = who
        join_room(session_room(who.session_id))
        join_room(user_room(who.user_id))
        get_redis().sadd(_sockets_key(who.session_id), f"{self.namespace}|{sid}")
        get_redis().expire(_sockets_key(who.session_id), 86400)
        self.connected(who, auth)
        return None

    def on_disconnect(self, reason: Any = None):
        sid = socket_sid()
        who = self._socket_users.pop(sid, None)
        self._session_checks.pop(sid, None)
        if who is not None:
            get_redis().srem(_sockets_key(who.session_id), f"{self.namespace}|{sid}")
            self.disconnected(who)

    # hooks for subclasses
    def connected(self, who: SocketUser, auth: Any) -> None:
        pass

    def disconnected(self, who: SocketUser) -> None:
        pass

    def access_changed(self, app: Flask, user_ids: set[int]) -> None:
        """What these users may see or do changed: their sockets' next event is checked in full.
        Called on every process by the access listener."""
        self._access_changes += 1
        checks = self._session_checks
        for sid, check in list(checks.items()):
            if check.user_id in user_ids:
                checks.pop(sid, None)

    def checked_user(self, session: Session, who: SocketUser) -> User | None:
        """The socket's user if its session is live (see the module's note), else None."""
        sid = socket_sid()
        checks = self._session_checks
        last = checks.get(sid)
        recheck_s = current_app.config["SETTINGS"].SOCKET_SESSION_RECHECK_SECONDS
        if last is not None and time.monotonic() - last.at < recheck_s and utcnow() < who.expires_at:
            return last.user(session)
        at, changes_before = time.monotonic(), self._access_changes
        user = still_valid(session, who)
        if user is None:
            checks.pop(sid, None)
            return None
        if self._access_changes == changes_before:
            # (an access change heard while this read waited may postdate it: then read again next time)
            checks[sid] = _Check(at, who.user_id, _snapshot(user))
        return user

    def who(self) -> SocketUser | None:
        return self._socket_users.get(socket_sid())

    @contextmanager
    def event_session(self):
        with db.session_scope(db.engine_for(current_app)) as session:
            yield session

    def error(self, code: str | Exception, message: str = "", **extra: Any) -> dict[str, Any]:
        if isinstance(code, Exception):
            # Flask-SocketIO calls `error(exc)` for an exception a handler (or connect) let out,
            # outside the event's request context: log it; the return value is the ack.
            log.error("socket handler failed", exc_info=code)
            return {"ok": False, "code": "internal", "message": "Something went wrong on our side."}
        payload = {"code": code, "message": message, **extra}
        emit("error", payload)
        return {"ok": False, **payload}

    def guarded(
        self,
        handler: Callable[..., Any],
        data: Any,
        *,
        size_limit: int = MAX_EVENT_BYTES,
        quiet_problems: bool = False,
    ) -> Any:
        """Runs one event: checks the session is still live, the payload size, and maps domain
        Problems to `error` events (only to the acknowledgement with `quiet_problems`, for events
        whose refusals are ordinary answers). Returns the acknowledgement payload."""
        who = self.who()
        if who is None:
            disconnect()
            return {"ok": False, "code": "unauthenticated"}
        if len(repr(data)) > size_limit * 2 or len(str(data).encode()) > size_limit:
            return self.error("too-large", f"Event payload over {size_limit} bytes.")
        with self.event_session() as session:
            try:
                user = self.checked_user(session, who)
            except Exception as exc:  # e.g. no database connection free in time: an answer, not silence
                if is_database_outage(exc):
                    log.warning("socket session check: database unavailable")
                    return self.error("unavailable", "The database is restarting; try again in a moment.")
                log.exception("socket session check failed")
                return self.error("internal", "Something went wrong on our side.")
            if user is None:
                self.error("session-ended", "Your session has ended; sign in again.")
                disconnect()
                return {"ok": False, "code": "session-ended"}
            try:
                return handler(session, user, data)
            except Problem as problem:
                session.rollback()
                extra = {k: v for k, v in problem.extra.items() if k not in ("code", "message")}
                if quiet_problems:
                    return problem_ack(problem)
                return self.error(
                    problem.code, problem.detail or problem.title, status=problem.status, **extra
                )
            except Exception as exc:
                session.rollback()
                if is_database_outage(exc):  # restart or failover: nothing was stored; send again
                    log.warning("socket handler: database unavailable")
                    return self.error("unavailable", "The database is restarting; try again in a moment.")
                log.exception("socket handler failed")
                return self.error("internal", "Something went wrong on our side.")


def problem_ack(problem: Problem) -> dict[str, Any]:
    """A domain Problem as an acknowledgement payload."""
    extra = {k: v for k, v in problem.extra.items() if k not in ("code", "message")}
    message = problem.detail or problem.title
    return {"ok": False, "code": problem.code, "message": message, "status": problem.status, **extra}


def disconnect_session_sockets(session_id: str) -> None:
    """Drop every socket of a session, on whichever process holds it (through the message queue;
    from a worker, through its write-only client of that queue)."""
    manager = _socketio().server.manager
    redis = get_redis()
    members = redis.smembers(_sockets_key(session_id))
    for member in members:
        text = member.decode() if isinstance(member, bytes) else member
        namespace, sid = text.split("|", 1)
        try:
            manager.disconnect(sid, namespace=namespace)
        except Exception:
            log.exception("could not drop socket %s", sid)
    redis.delete(_sockets_key(session_id))
