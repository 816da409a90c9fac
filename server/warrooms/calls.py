"""The room's call (远程连线): who is in it now, and its start and end in the room's timeline.

The media never passes through the server: browsers connect to each other (a WebRTC mesh) and the
`/warroom` socket only relays their offers, answers and ICE candidates. Who is in the call is live
state, kept in Redis so every web process sees one call per room; what the room keeps is stored in
its event log like any other change: `call.started` (who started it) and `call.ended` (everyone who
took part, and how long it lasted).

Joining and leaving are single Lua scripts, so two members tapping "start" at once open one call, a
fifth member cannot slip into a full mesh, and exactly one leaver (the last) ends the call and
writes `call.ended`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from server.db import row_id
from server.errors import conflict
from server.org.models import User
from server.warrooms import access, eventlog
from server.warrooms.access import person

CALL_TTL_SECONDS = 12 * 3600  # a call whose last member's process died is forgotten after this

# KEYS: call hash, participants hash (user id -> socket id), everyone-who-joined set
# ARGV: new call id, now, user id, socket id, max members, ttl
_JOIN = """
local started = 0
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'id', ARGV[1], 'started_at', ARGV[2], 'started_by', ARGV[3])
  started = 1
end
local present = redis.call('HEXISTS', KEYS[2], ARGV[3])
if present == 0 and redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[5]) then
  return {-1, redis.call('HGET', KEYS[1], 'id')}
end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
redis.call('SADD', KEYS[3], ARGV[3])
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ARGV[6]) end
return {started, redis.call('HGET', KEYS[1], 'id'), redis.call('HGET', KEYS[1], 'started_at')}
"""

# KEYS as above. ARGV: user id, socket id ('' = whichever socket). Returns {left, ended, call fields}.
_LEAVE = """
local sid = redis.call('HGET', KEYS[2], ARGV[1])
if not sid or (ARGV[2] ~= '' and sid ~= ARGV[2]) then return {0, 0} end
redis.call('HDEL', KEYS[2], ARGV[1])
if redis.call('HLEN', KEYS[2]) > 0 then return {1, 0} end
local call = redis.call('HMGET', KEYS[1], 'id', 'started_at')
local ever = redis.call('SMEMBERS', KEYS[3])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return {1, 1, call[1], call[2], unpack(ever)}
"""


def ice_servers(settings, *, user_id: int, now: float | None = None) -> list[dict[str, Any]]:
    """The STUN/TURN servers for one member's browser: the configured list, plus the TURN server
    with a time-limited credential when a shared secret is set (coturn's `use-auth-secret`: the
    username is `<expiry>:<user id>`, the password the base64 HMAC-SHA1 of it with the secret)."""
    servers = list(settings.WEBRTC_ICE_SERVERS)
    if settings.WEBRTC_TURN_URLS and settings.WEBRTC_TURN_SECRET:
        expiry = int((now if now is not None else time.time()) + settings.WEBRTC_TURN_TTL_SECONDS)
        username = f"{expiry}:{user_id}"
        digest = hmac.new(settings.WEBRTC_TURN_SECRET.encode(), username.encode(), hashlib.sha1).digest()
        servers.append(
            {
                "urls": list(settings.WEBRTC_TURN_URLS),
                "username": username,
                "credential": base64.b64encode(digest).decode(),
            }
        )
    return servers


def _keys(room_id: int) -> list[str]:
    return [f"wr:call:{room_id}", f"wr:call:{room_id}:in", f"wr:call:{room_id}:ever"]


@dataclass(frozen=True)
class Joined:
    call_id: str
    started: bool  # this join opened the call
    started_at: float
    peers: list[int]  # the others already in the call: the joiner sends each an offer


def participants(redis, room_id: int) -> dict[int, str]:
    """user id -> the socket id that is in the call for them."""
    return {int(k): v.decode() for k, v in redis.hgetall(_keys(room_id)[1]).items()}


def current(redis, room_id: int) -> dict[str, Any] | None:
    call = redis.hgetall(_keys(room_id)[0])
    if not call:
        return None
    return {
        "call_id": call[b"id"].decode(),
        "started_at": float(call[b"started_at"]),
        "members": sorted(participants(redis, room_id)),
    }


def socket_of(redis, room_id: int, user_id: int) -> str | None:
    sid = redis.hget(_keys(room_id)[1], user_id)
    return sid.decode() if sid else None


def join(
    session: Session,
    redis,
    *,
    room_id: int,
    user: User,
    sid: str,
    max_members: int,
    online: set[int],
) -> Joined:
    """Starts the room's call or joins the one going on. Starting it stores `call.started` and rings
    the members who are not in the room right now through the inbox (live socket and push); those
    in the room see the event itself."""
    room = access.open_room_of_member(session, room_id=room_id, user=user)
    result = redis.eval(
        _JOIN, 3, *_keys(room_id), uuid.uuid4().hex[:16], f"{time.time():.3f}", row_id(user), sid, max_members,
        CALL_TTL_SECONDS,
    )  # fmt: skip
    if int(result[0]) == -1:
        raise conflict(f"The call is full ({max_members} at most).", code="call-full")
    started, call_id, started_at = int(result[0]) == 1, result[1].decode(), float(result[2])
    if started:
        eventlog.record(
            session, room_id=room_id, kind="call.started", payload={"call_id": call_id}, author=user
        )
        for member_id in access.active_member_ids(session, room_id):
            if member_id == user.id or member_id in online:
                continue
            eventlog.notify(
                session,
                user_id=member_id,
                room=room,
                title="远程连线",
                body=f"{user.display_name} 在「{room.title}」发起了语音连线，点此加入",
                key=f"call:{call_id}",
            )
        session.commit()
    peers = sorted(u for u in participants(redis, room_id) if u != user.id)
    return Joined(call_id=call_id, started=started, started_at=started_at, peers=peers)


def leave(session: Session, redis, *, room_id: int, user_id: int, sid: str = "") -> dict[str, Any] | None:
    """Takes the user out of the call (only from this socket's place, when `sid` is given: an old
    socket that drops after its owner reconnected does not take the new one out). The last one out
    ends the call and stores `call.ended`. Returns {"left": bool, "ended": event payload or None}."""
    result = redis.eval(_LEAVE, 3, *_keys(room_id), user_id, sid)
    if int(result[0]) == 0:
        return None
    if int(result[1]) == 0:
        return {"left": True, "ended": None}
    call_id, started_at = result[2].decode(), float(result[3])
    ever = sorted(int(u) for u in result[4:])
    people = session.exec(select(User).where(col(User.id).in_(ever))).all() if ever else []
    payload = {
        "call_id": call_id,
        "members": [person(u) for u in sorted(people, key=lambda u: row_id(u))],
        "seconds": max(0, round(time.time() - started_at)),
    }
    leaver = session.get(User, user_id)
    eventlog.record(session, room_id=room_id, kind="call.ended", payload=payload, author=leaver)
    session.commit()
    return {"left": True, "ended": payload}


def drop(redis, *, room_id: int, user_id: int) -> bool:
    """A member removed from (or leaving) the room is out of its call at once. The audio flows
    browser to browser, so the others are told to close their connections with them (the caller
    emits that); the call's end, if they were the last, is written by the next leave."""
    return bool(redis.hdel(_keys(room_id)[1], user_id))
