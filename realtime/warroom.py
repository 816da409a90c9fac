"""`/warroom`: war rooms, live. A socket joins `room:<id>` after its membership is checked and is sent
the stored events it missed (`last_seq`). Chat messages and board changes are stored by the domain
service first; the domain publishes `warroom.event` and `broadcast_sink` below emits it to the room
after the commit, from whichever process (web or RQ worker) made the change. Presence and typing are
live only (Redis, not the database).

Client -> server (each answers through the acknowledgement; errors also come as an `error` event):
  join {room_id, last_seq}   leave {room_id}   sync {room_id, after_seq}   read {room_id, seq}
  follow {room_id}   unfollow {room_id}   (the room list: events only; no presence, no replay)
  message {room_id, client_id, text, mentions, cards}   typing {room_id, typing}
  task {room_id, client_id, task_id?, item, assignee_id, due_on, status, version}
  target {room_id, client_id, target_id, stage, amount_cents, version}
  target_remove {room_id, client_id, target_id, version}
  call_join {room_id}   call_leave {room_id}   call_media {room_id, muted, quality}
  call_signal {room_id, to_user_id, description {type, sdp} | candidate {candidate, sdpMid, sdpMLineIndex}}
  stage_share {room_id, kind, ref_id?, calculator?, downloadable}   stage_page {room_id, share_id, page}
  stage_clear {room_id}
Server -> client: event, batch {room_id, first_seq, count, base, rows} (a bulk change: consecutive events
sent compactly, `server.warrooms.eventlog.expand_batch` rebuilds them), presence {room_id, came_online, went_offline} (the join acknowledgement
holds the whole `online` list and what is on the call and the stage now), typing, removed, invited,
call_peer {room_id, call_id, user_id, joined}, call_signal {room_id, from_user_id, ...},
call_media {room_id, user_id, muted, quality}, stage {room_id, stage|null}, stage_page, error,
session_ended."""

from __future__ import annotations

import logging
from typing import Any, Literal

from flask import current_app, request
from flask_socketio import emit as reply
from flask_socketio import join_room, leave_room
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from realtime.base import MAX_EVENT_BYTES, SessionNamespace
from realtime.emit import _socketio, emit, socketio
from realtime.names import WARROOM as NAMESPACE
from realtime.names import user_room
from realtime.names import war_room as room_name
from realtime.session import SocketUser
from server import events
from server.db import row_id
from server.errors import Problem, conflict, field_errors_from_pydantic, unprocessable
from server.org.models import User
from server.redis_client import client_from_url, get_redis
from server.security import client_ip
from server.warrooms import access, board, calls, chat, eventlog, membership, reads, stage
from server.warrooms.schemas import MAX_TEXT_BYTES, MessageIn, TargetRemove, TargetUpdate, TaskIn, TaskUpdate

log = logging.getLogger(__name__)

REPLAY_LIMIT = 500
MAX_SDP_BYTES = 12_000  # an audio (or audio + video) offer is 2-6 KB
PRESENCE_TTL_SECONDS = 86400
PRESENCE_COALESCE_SECONDS = 1.0
# Users whose presence changed within one coalesced emit, up to which each is looked up on its own;
# the scan's COUNT covers a large room's set in one round trip.
PRESENCE_SCAN_USERS = 16
PRESENCE_SCAN_COUNT = 4096


def _user_sids_key(user_id: int) -> str:
    return f"wr:user:{user_id}:sids"


def _presence_key(room_id: int) -> str:
    return f"wr:presence:{room_id}"


def _presence_changes_key(room_id: int) -> str:
    return f"wr:presence:changed:{room_id}"


def _presence_pending_key(room_id: int) -> str:
    return f"wr:presence:pending:{room_id}"


def online_users(room_id: int, redis=None) -> list[int]:
    redis = redis or get_redis()
    return sorted({int(m.decode().split("|", 1)[0]) for m in redis.smembers(_presence_key(room_id))})


def online_among(room_id: int, user_ids: list[int], redis) -> set[int]:
    """Which of `user_ids` have a socket in the room. Redis matches each one's `id|*` members, so a
    change of one member does not bring the whole room's presence (a thousand entries) over the
    wire and through the parser, as reading the set would; past a few users reading it is cheaper."""
    if len(user_ids) > PRESENCE_SCAN_USERS:
        return set(online_users(room_id, redis)) & set(user_ids)
    key = _presence_key(room_id)
    return {
        u for u in user_ids if next(redis.sscan_iter(key, match=f"{u}|*", count=PRESENCE_SCAN_COUNT), None)
    }


def _presence_changed(room_id: int, user_id: int, redis=None, *, coalesce: bool = True) -> None:
    """Notes that `user_id` may have come online or gone offline in the room, and tells the room.

    Members get the whole list once, in the join acknowledgement; after that only who changed. A
    full list on every change would send each of a thousand members a thousand ids whenever anyone
    came or went. Changes are gathered in Redis and sent at most once a second per room, from
    whichever process noted the first one."""
    redis = redis or get_redis()
    changes = _presence_changes_key(room_id)
    pipe = redis.pipeline(transaction=False)
    pipe.sadd(changes, user_id)
    pipe.expire(changes, PRESENCE_TTL_SECONDS)
    pipe.execute()
    if not coalesce:
        _emit_presence(room_id, redis)
        return
    # The key only says an emit is on its way; the emit deletes it before it reads the changes, so
    # a change noted after that read schedules the next emit instead of waiting for another change.
    pending_ms = int(PRESENCE_COALESCE_SECONDS * 1000 * 5)  # lapses if this process dies meanwhile
    if redis.set(_presence_pending_key(room_id), 1, nx=True, px=pending_ms):
        socketio.start_background_task(_emit_presence_later, room_id, redis)


def _emit_presence_later(room_id: int, redis) -> None:
    socketio.sleep(PRESENCE_COALESCE_SECONDS)
    _emit_presence(room_id, redis)


def _emit_presence(room_id: int, redis) -> None:
    pipe = redis.pipeline(transaction=True)
    pipe.delete(_presence_pending_key(room_id))
    pipe.smembers(_presence_changes_key(room_id))
    pipe.delete(_presence_changes_key(room_id))
    changed = sorted(int(m) for m in pipe.execute()[1])
    if not changed:
        return  # another process's emit already told the room
    online = online_among(room_id, changed, redis)
    emit(
        "presence",
        {
            "room_id": room_id,
            "came_online": [u for u in changed if u in online],
            "went_offline": [u for u in changed if u not in online],
        },
        room=room_name(room_id),
        namespace=NAMESPACE,
    )


# --- sink: committed domain events -> sockets ------------------------------------------------------


def broadcast_sink(event: events.DomainEvent) -> None:
    if event.kind == eventlog.EVENT_KIND:
        emit("event", event.payload, room=room_name(event.payload["room_id"]), namespace=NAMESPACE)
    elif event.kind == eventlog.BATCH_KIND:  # a campaign's bulk change: many numbered events at once
        emit("batch", event.payload, room=room_name(event.payload["room_id"]), namespace=NAMESPACE)
    elif event.kind == stage.STAGE_KIND:
        emit("stage", event.payload, room=room_name(event.payload["room_id"]), namespace=NAMESPACE)
    elif event.kind == membership.INVITED_KIND:
        emit(
            "invited",
            {"room_id": event.payload["room_id"], "title": event.payload["title"]},
            room=user_room(event.payload["user_id"]),
            namespace=NAMESPACE,
        )
    elif event.kind == membership.LEFT_KIND:
        _drop_from_room(event.payload["room_id"], event.payload["user_id"])


def _drop_from_room(room_id: int, user_id: int) -> None:
    """Removal or leaving takes effect on live sockets at once, on every process (the Socket.IO
    manager forwards leave_room through the message queue to the process holding the socket)."""
    sio = _socketio()
    redis = _redis_for_sink()
    for member in redis.smembers(_user_sids_key(user_id)):
        sid = member.decode()
        sio.server.manager.leave_room(sid, NAMESPACE, room_name(room_id))
        redis.srem(_presence_key(room_id), f"{user_id}|{sid}")
    emit("removed", {"room_id": room_id}, room=user_room(user_id), namespace=NAMESPACE)
    if calls.drop(redis, room_id=room_id, user_id=user_id):
        emit(
            "call_peer",
            {"room_id": room_id, "user_id": user_id, "joined": False},
            room=room_name(room_id),
            namespace=NAMESPACE,
        )
    # This may run in a worker, which has no background tasks: tell the room now.
    _presence_changed(room_id, user_id, redis, coalesce=False)


_sink_redis: dict[str, Any] = {}


def _redis_for_sink():
    """The app's Redis in a web process; in a worker without an app context, the configured one."""
    from flask import has_app_context

    if has_app_context():
        return get_redis()
    from server.config import load_settings

    url = load_settings().REDIS_URL
    if url not in _sink_redis:
        _sink_redis[url] = client_from_url(url)
    return _sink_redis[url]


# --- the namespace ---------------------------------------------------------------------------------


class RoomRef(BaseModel):
    model_config = ConfigDict(extra="ignore")
    room_id: int = Field(ge=1)


class JoinIn(RoomRef):
    last_seq: int = Field(default=0, ge=0)


class SyncIn(RoomRef):
    after_seq: int = Field(ge=0)


class ReadIn(RoomRef):
    seq: int = Field(ge=0)


class TypingIn(RoomRef):
    typing: bool = True


class SessionDescription(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["offer", "answer"]
    sdp: str = Field(min_length=1, max_length=MAX_SDP_BYTES)


class IceCandidate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    candidate: str = Field(max_length=1024)  # "" marks the end of candidates
    sdpMid: str | None = Field(default=None, max_length=32)  # noqa: N815 (the browser's names)
    sdpMLineIndex: int | None = Field(default=None, ge=0, le=16)  # noqa: N815
    usernameFragment: str | None = Field(default=None, max_length=256)  # noqa: N815


def _sid() -> str:
    """The Socket.IO session id of the event being handled (Flask-SocketIO sets it on the request)."""
    return request.sid  # type: ignore[attr-defined]


def _parse(model: type[BaseModel], data: Any, *, drop_room: bool = False) -> Any:
    if not isinstance(data, dict):
        raise unprocessable("Send a JSON object.")
    if drop_room:
        data = {k: v for k, v in data.items() if k != "room_id"}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise unprocessable(
            "Some fields are invalid.", errors=field_errors_from_pydantic(exc.errors())
        ) from None


class CallSignal(RoomRef):
    to_user_id: int = Field(ge=1)
    description: SessionDescription | None = None
    candidate: IceCandidate | None = None


class CallMedia(RoomRef):
    muted: bool = False
    quality: Literal["good", "audio", "chat"] = "good"  # what the member's network allows now


class WarRoomNamespace(SessionNamespace):
    path = NAMESPACE

    def _calls_of(self, sid: str) -> set[int]:
        if not hasattr(self, "_in_calls"):
            self._in_calls: dict[str, set[int]] = {}
        return self._in_calls.setdefault(sid, set())

    def _rooms_of(self, sid: str) -> set[int]:
        if not hasattr(self, "_joined"):
            self._joined: dict[str, set[int]] = {}
        return self._joined.setdefault(sid, set())

    def connected(self, who: SocketUser, auth: Any) -> None:
        redis = get_redis()
        redis.sadd(_user_sids_key(who.user_id), _sid())
        redis.expire(_user_sids_key(who.user_id), PRESENCE_TTL_SECONDS)

    def disconnected(self, who: SocketUser) -> None:
        sid = _sid()
        redis = get_redis()
        redis.srem(_user_sids_key(who.user_id), sid)
        for room_id in self._joined.pop(sid, set()) if hasattr(self, "_joined") else set():
            redis.srem(_presence_key(room_id), f"{who.user_id}|{sid}")
            _presence_changed(room_id, who.user_id)
        # A dropped socket leaves its calls (the others close its peer); a reconnect joins again.
        for room_id in self._calls_of(sid).copy():
            try:
                with self.event_session() as session:
                    self._leave_call(session, room_id=room_id, user_id=who.user_id, sid=sid)
            except Exception:
                log.exception("could not take a dropped socket out of a call")
        self._in_calls.pop(sid, None)

    # join / leave / catch up ----------------------------------------------------------------------

    def on_join(self, data: Any = None):
        return self.guarded(self._join, data)

    def _join(self, session, user: User, data: Any) -> dict[str, Any]:
        ref: JoinIn = _parse(JoinIn, data)
        access.require_member(session, room_id=ref.room_id, user=user)
        sid = _sid()
        # Join first, then read the gap: an event committed in between arrives twice (the client
        # drops it by seq) rather than never.
        join_room(room_name(ref.room_id))
        self._rooms_of(sid).add(ref.room_id)
        redis = get_redis()
        redis.sadd(_presence_key(ref.room_id), f"{user.id}|{sid}")
        redis.expire(_presence_key(ref.room_id), PRESENCE_TTL_SECONDS)
        gap = eventlog.events_after(session, room_id=ref.room_id, after_seq=ref.last_seq, limit=REPLAY_LIMIT)
        _presence_changed(ref.room_id, row_id(user))
        return {
            "ok": True,
            "room_id": ref.room_id,
            "events": gap,
            "more": len(gap) == REPLAY_LIMIT,
            "last_seq": eventlog.last_seq(session, ref.room_id),
            "online": online_users(ref.room_id),
            "call": calls.current(redis, ref.room_id),
            "stage": stage.current(redis, ref.room_id),
        }

    def on_sync(self, data: Any = None):
        return self.guarded(self._sync, data)

    def _sync(self, session, user: User, data: Any) -> dict[str, Any]:
        ref: SyncIn = _parse(SyncIn, data)
        access.require_member(session, room_id=ref.room_id, user=user)
        gap = eventlog.events_after(session, room_id=ref.room_id, after_seq=ref.after_seq, limit=REPLAY_LIMIT)
        return {"ok": True, "room_id": ref.room_id, "events": gap, "more": len(gap) == REPLAY_LIMIT}

    def on_leave(self, data: Any = None):
        return self.guarded(self._leave, data)

    def _leave(self, session, user: User, data: Any) -> dict[str, Any]:
        ref: RoomRef = _parse(RoomRef, data)
        sid = _sid()
        leave_room(room_name(ref.room_id))
        self._rooms_of(sid).discard(ref.room_id)
        get_redis().srem(_presence_key(ref.room_id), f"{user.id}|{sid}")
        _presence_changed(ref.room_id, row_id(user))
        return {"ok": True, "room_id": ref.room_id}

    def on_follow(self, data: Any = None):
        return self.guarded(self._follow, data)

    def _follow(self, session, user: User, data: Any) -> dict[str, Any]:
        """The room list follows a room: its events arrive (to refresh unread counts and progress),
        but the follower is not shown as present and nothing is replayed, unlike `join`."""
        ref: RoomRef = _parse(RoomRef, data)
        access.require_member(session, room_id=ref.room_id, user=user)
        join_room(room_name(ref.room_id))
        return {"ok": True, "room_id": ref.room_id, "last_seq": eventlog.last_seq(session, ref.room_id)}

    def on_unfollow(self, data: Any = None):
        return self.guarded(self._unfollow, data)

    def _unfollow(self, session, user: User, data: Any) -> dict[str, Any]:
        ref: RoomRef = _parse(RoomRef, data)
        if ref.room_id not in self._rooms_of(_sid()):
            leave_room(room_name(ref.room_id))  # a room this socket joined stays joined
        return {"ok": True, "room_id": ref.room_id}

    def on_read(self, data: Any = None):
        return self.guarded(self._read, data)

    def _read(self, session, user: User, data: Any) -> dict[str, Any]:
        ref: ReadIn = _parse(ReadIn, data)
        return {
            "ok": True,
            "last_read_seq": reads.mark_read(session, room_id=ref.room_id, user=user, seq=ref.seq),
        }

    # chat and board -------------------------------------------------------------------------------

    def on_message(self, data: Any = None):
        # Room for the JSON around a full 4 KB text; the text itself is checked exactly.
        return self.guarded(self._message, data, size_limit=MAX_TEXT_BYTES + 1024)

    def _message(self, session, user: User, data: Any) -> dict[str, Any]:
        ref: RoomRef = _parse(RoomRef, data)
        message: MessageIn = _parse(MessageIn, data, drop_room=True)
        event, created = chat.post_message(session, room_id=ref.room_id, user=user, data=message)
        return {"ok": True, "event": event, "duplicate": not created}

    def on_task(self, data: Any = None):
        return self.guarded(self._task, data)

    def _task(self, session, user: User, data: Any) -> dict[str, Any]:
        ref: RoomRef = _parse(RoomRef, data)
        access.limit_rate(user)
        if isinstance(data, dict) and data.get("task_id") is not None:
            task = board.update_task(
                session, room_id=ref.room_id, user=user, data=_parse(TaskUpdate, data, drop_room=True)
            )
        else:
            task = board.create_task(
                session, room_id=ref.room_id, user=user, data=_parse(TaskIn, data, drop_room=True)
            )
        return {"ok": True, "task": task}

    def on_target(self, data: Any = None):
        return self.guarded(self._target, data)

    def _target(self, session, user: User, data: Any) -> dict[str, Any]:
        ref: RoomRef = _parse(RoomRef, data)
        update: TargetUpdate = _parse(TargetUpdate, data, drop_room=True)
        if update.target_id is None:
            raise unprocessable("Send target_id.")
        access.limit_rate(user)
        return {
            "ok": True,
            "target": board.update_target(session, room_id=ref.room_id, user=user, data=update),
        }

    def on_target_remove(self, data: Any = None):
        return self.guarded(self._target_remove, data)

    def _target_remove(self, session, user: User, data: Any) -> dict[str, Any]:
        ref: RoomRef = _parse(RoomRef, data)
        removal: TargetRemove = _parse(TargetRemove, data, drop_room=True)
        access.limit_rate(user)
        target = board.remove_target(session, room_id=ref.room_id, user=user, data=removal, ip=client_ip())
        return {"ok": True, "removed": target["id"]}

    def on_typing(self, data: Any = None):
        return self.guarded(self._typing, data, size_limit=MAX_EVENT_BYTES)

    def _typing(self, session, user: User, data: Any) -> dict[str, Any]:
        ref: TypingIn = _parse(TypingIn, data)
        access.require_member(session, room_id=ref.room_id, user=user)
        if ref.room_id not in self._rooms_of(_sid()):
            raise conflict("Join the room first.", code="not-joined")
        # Live only and never stored; others in the room see it, the typist does not.
        reply(
            "typing",
            {
                "room_id": ref.room_id,
                "user": {"id": user.id, "display_name": user.display_name},
                "typing": ref.typing,
            },
            to=room_name(ref.room_id),
            include_self=False,
        )
        return {"ok": True}

    # the call: signalling only; the audio goes browser to browser ---------------------------------

    def _require_joined(self, room_id: int) -> None:
        if room_id not in self._rooms_of(_sid()):
            raise conflict("Join the room first.", code="not-joined")

    def _require_in_call(self, redis, room_id: int, user: User) -> None:
        if calls.socket_of(redis, room_id, row_id(user)) != _sid():
            raise conflict("Join the call first.", code="not-in-call")

    def on_call_join(self, data: Any = None):
        return self.guarded(self._call_join, data)

    def _call_join(self, session, user: User, data: Any) -> dict[str, Any]:
        ref: RoomRef = _parse(RoomRef, data)
        self._require_joined(ref.room_id)
        access.limit_rate(user, bucket="signals")
        settings = current_app.config["SETTINGS"]
        redis = get_redis()
        joined = calls.join(
            session,
            redis,
            room_id=ref.room_id,
            user=user,
            sid=_sid(),
            max_members=settings.WARROOM_CALL_MAX_MEMBERS,
            online=set(online_users(ref.room_id, redis)),
        )
        self._calls_of(_sid()).add(ref.room_id)
        reply(
            "call_peer",
            {"room_id": ref.room_id, "call_id": joined.call_id, "user_id": user.id, "joined": True},
            to=room_name(ref.room_id),
            include_self=False,
        )
        return {
            "ok": True,
            "room_id": ref.room_id,
            "call_id": joined.call_id,
            "started": joined.started,
            "started_at": joined.started_at,
            "peers": joined.peers,  # the joiner offers to each of them
            "ice_servers": calls.ice_servers(settings, user_id=row_id(user)),
        }

    def on_call_leave(self, data: Any = None):
        return self.guarded(self._call_leave_event, data)

    def _call_leave_event(self, session, user: User, data: Any) -> dict[str, Any]:
        ref: RoomRef = _parse(RoomRef, data)
        left = self._leave_call(session, room_id=ref.room_id, user_id=row_id(user), sid=_sid())
        return {"ok": True, "room_id": ref.room_id, "ended": bool(left and left["ended"])}

    def _leave_call(self, session, *, room_id: int, user_id: int, sid: str) -> dict[str, Any] | None:
        self._calls_of(sid).discard(room_id)
        left = calls.leave(session, get_redis(), room_id=room_id, user_id=user_id, sid=sid)
        if left is not None:
            emit(
                "call_peer",
                {"room_id": room_id, "user_id": user_id, "joined": False},
                room=room_name(room_id),
                namespace=NAMESPACE,
            )
        return left

    def on_call_signal(self, data: Any = None):
        return self.guarded(self._call_signal, data, size_limit=MAX_SDP_BYTES + 1024)

    def _call_signal(self, session, user: User, data: Any) -> dict[str, Any]:
        """An offer, answer or ICE candidate for one other member in the call. Membership is checked
        on every signal: a member removed mid-call can no longer reach anyone."""
        signal: CallSignal = _parse(CallSignal, data)
        if (signal.description is None) == (signal.candidate is None):
            raise unprocessable("Send a description or a candidate.")
        access.require_member(session, room_id=signal.room_id, user=user)
        access.limit_rate(user, bucket="signals")
        redis = get_redis()
        self._require_in_call(redis, signal.room_id, user)
        to_sid = calls.socket_of(redis, signal.room_id, signal.to_user_id)
        if to_sid is None:
            raise Problem(404, "Not Found", "That member is not in the call.", code="peer-gone")
        payload: dict[str, Any] = {"room_id": signal.room_id, "from_user_id": user.id}
        if signal.description is not None:
            payload["description"] = signal.description.model_dump()
        else:
            payload["candidate"] = signal.candidate.model_dump() if signal.candidate else None
        emit("call_signal", payload, room=to_sid, namespace=NAMESPACE)
        return {"ok": True}

    def on_call_media(self, data: Any = None):
        return self.guarded(self._call_media, data)

    def _call_media(self, session, user: User, data: Any) -> dict[str, Any]:
        media: CallMedia = _parse(CallMedia, data)
        access.require_member(session, room_id=media.room_id, user=user)
        access.limit_rate(user, bucket="signals")
        self._require_in_call(get_redis(), media.room_id, user)
        reply(
            "call_media",
            {"room_id": media.room_id, "user_id": user.id, "muted": media.muted, "quality": media.quality},
            to=room_name(media.room_id),
            include_self=False,
        )
        return {"ok": True}

    # the shared stage -----------------------------------------------------------------------------

    def on_stage_share(self, data: Any = None):
        return self.guarded(self._stage_share, data)

    def _stage_share(self, session, user: User, data: Any) -> dict[str, Any]:
        share: stage.ShareIn = _parse(stage.ShareIn, data)
        access.limit_rate(user)
        shown = stage.share(session, get_redis(), data=share, user=user, ip=client_ip())
        return {"ok": True, "stage": shown}  # the room hears it from the sink, after the commit

    def on_stage_page(self, data: Any = None):
        return self.guarded(self._stage_page, data)

    def _stage_page(self, session, user: User, data: Any) -> dict[str, Any]:
        page: stage.PageIn = _parse(stage.PageIn, data)
        access.limit_rate(user, bucket="signals")
        turned = stage.turn_page(session, get_redis(), data=page, user=user)
        reply("stage_page", turned, to=room_name(page.room_id), include_self=False)
        return {"ok": True, **turned}

    def on_stage_clear(self, data: Any = None):
        return self.guarded(self._stage_clear, data)

    def _stage_clear(self, session, user: User, data: Any) -> dict[str, Any]:
        ref: RoomRef = _parse(RoomRef, data)
        stage.clear(session, get_redis(), room_id=ref.room_id, user=user)
        return {"ok": True}
