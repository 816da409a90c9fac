"""Base class of every feature namespace: authenticate at connect, re-check the session on every
event, open and close a DB session per event, and answer bad input with an `error` event."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from flask import current_app
from flask_socketio import Namespace, disconnect, emit, join_room

from realtime.emit import _socketio
from realtime.names import session_room, user_room
from realtime.session import SocketUser, authenticate_connect, socket_sid, still_valid
from server import db
from server.errors import Problem, is_database_outage
from server.redis_client import get_redis

log = logging.getLogger(__name__)
MAX_EVENT_BYTES = 4096


def _sockets_key(session_id: str) -> str:
    return f"ws:session:{session_id}"


class SessionNamespace(Namespace):
    path = "/"

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
        self._users()[sid] = who
        join_room(session_room(who.session_id))
        join_room(user_room(who.user_id))
        get_redis().sadd(_sockets_key(who.session_id), f"{self.namespace}|{sid}")
        get_redis().expire(_sockets_key(who.session_id), 86400)
        self.connected(who, auth)
        return None

    def on_disconnect(self, reason: Any = None):
        sid = socket_sid()
        who = self._users().pop(sid, None)
        if who is not None:
            get_redis().srem(_sockets_key(who.session_id), f"{self.namespace}|{sid}")
            self.disconnected(who)

    # hooks for subclasses
    def connected(self, who: SocketUser, auth: Any) -> None:
        pass

    def disconnected(self, who: SocketUser) -> None:
        pass

    def _users(self) -> dict[str, SocketUser]:
        if not hasattr(self, "_socket_users"):
            self._socket_users: dict[str, SocketUser] = {}
        return self._socket_users

    def who(self) -> SocketUser | None:
        return self._users().get(socket_sid())

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
                user = still_valid(session, who)
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
