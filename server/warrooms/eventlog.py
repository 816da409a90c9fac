"""The event log: each room's numbered events (chat and board changes), and the notifications a room sends.

Every change to a room takes the room's next sequence number first, with one atomic
`UPDATE war_room SET last_seq = last_seq + 1 ... RETURNING last_seq`. That row stays locked until the
transaction ends, so changes to one room are serialised, numbers have no gaps, and they are in commit
order on SQLite and PostgreSQL alike. The stored event is then published (`warroom.event`); the
realtime layer broadcasts it only after the commit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, select

from server import events
from server.inbox import service as inbox
from server.org.models import User
from server.timeutil import iso, utcnow
from server.warrooms.access import open_room_of_member, unknown_room
from server.warrooms.models import (
    MemberStatus,
    RoomStatus,
    WarRoom,
    WarRoomEvent,
    WarRoomMember,
)

EVENT_KIND = "warroom.event"  # payload: one serialised event, broadcast to the room
# payload: a compact batch (see `compact_batch`), broadcast to the room as one socket message `batch`:
# a campaign's bulk change is thousands of events, each still with its own seq.
BATCH_KIND = "warroom.batch"
# The first batch of a bulk is small so that members see the change start at once; the rest go in
# larger batches (fewer messages, each encoded once and shared by every socket of the room).
FIRST_BATCH_SIZE = 100
BATCH_SIZE = 500

# The tables, for the statements every message runs: plain Core on them costs a fraction of the ORM's
# work for the same SQL (see `next_seq_as_member` and `append`).
_ROOM = WarRoom.__table__  # type: ignore[attr-defined]
_MEMBER = WarRoomMember.__table__  # type: ignore[attr-defined]
_INSERT_EVENT = insert(WarRoomEvent.__table__)  # type: ignore[attr-defined]
_EVENT_JSON_COLUMNS = ("room_id", "seq", "kind", "payload", "client_id", "created_at")


def store_many(
    session: Session,
    *,
    room_id: int,
    first_seq: int,
    items: list[tuple[str, dict[str, Any]]],
    author: User | None,
) -> None:
    """Stores events first_seq, first_seq+1, ... (kind, payload) in one INSERT and publishes them
    as batches after commit: a campaign's bulk change. The caller took the seqs under the room's lock."""
    if not items:
        return
    now = utcnow()
    rows = [
        {
            "room_id": room_id,
            "seq": first_seq + offset,
            "kind": kind,
            "payload": payload,
            "client_id": None,
            "author_id": author.id if author else None,
            "created_at": now,
        }
        for offset, (kind, payload) in enumerate(items)
    ]
    session.connection().execute(_INSERT_EVENT, rows)  # Core: no ORM bookkeeping per row
    publish_batch(session, room_id=room_id, serialized=[event_json(row, author) for row in rows])


def publish_batch(session: Session, *, room_id: int, serialized: list[dict[str, Any]]) -> None:
    """Publishes consecutive events (seq order, no gap) as compact batches after commit."""
    start, size = 0, FIRST_BATCH_SIZE
    while start < len(serialized):
        events.publish(session, BATCH_KIND, compact_batch(serialized[start : start + size]))
        start, size = start + size, BATCH_SIZE


# --- the compact batch: what a bulk change sends over the socket -------------------------------------
# The events of one bulk share almost everything (room, kind, author, time, the bulk, the new stage):
# sent whole, 500 of them were ~300 KB for each member. A batch carries the fields every one of its
# events has in common once (`base`, nested dicts compared field by field) and per event only what
# differs (`rows[i]`, the event whose seq is `first_seq + i`). `expand_batch` (and the PWA's
# `expandBatch`) rebuilds exactly the events that the database replays, so the seq buffer treats
# both alike.


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b  # JSON-exact: True is not 1


def _common(values: list[dict[str, Any]]) -> dict[str, Any]:
    """The fields (recursively into dicts) that every value has with the same value."""
    out: dict[str, Any] = {}
    for key, value in values[0].items():
        if not all(key in v for v in values):
            continue
        if isinstance(value, dict) and all(isinstance(v[key], dict) for v in values):
            out[key] = _common([v[key] for v in values])
        elif all(_same(v[key], value) for v in values):
            out[key] = value
    return out


def _diff(value: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """What `value` has beyond `base` (a dict in `base` means every value had a dict there)."""
    out: dict[str, Any] = {}
    for key, v in value.items():
        if key not in base:
            out[key] = v
        elif isinstance(base[key], dict):
            sub = _diff(v, base[key])
            if sub:
                out[key] = sub
    return out


def _merge(base: dict[str, Any], diff: dict[str, Any]) -> dict[str, Any]:
    out = {k: _merge(v, diff.get(k, {})) if isinstance(v, dict) else v for k, v in base.items()}
    out.update((k, v) for k, v in diff.items() if k not in base)
    return out


def compact_batch(serialized: list[dict[str, Any]]) -> dict[str, Any]:
    """Consecutive serialised events of one room as `{room_id, first_seq, count, base, rows}`."""
    first_seq = serialized[0]["seq"]
    if [e["seq"] for e in serialized] != list(range(first_seq, first_seq + len(serialized))):
        raise ValueError("a batch is consecutive events")
    bare = [{k: v for k, v in e.items() if k != "seq"} for e in serialized]
    base = _common(bare)
    return {
        "room_id": serialized[0]["room_id"],
        "first_seq": first_seq,
        "count": len(serialized),  # so a client knows which seqs arrived before it unpacks them
        "base": base,
        "rows": [_diff(e, base) for e in bare],
    }


def expand_batch(batch: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of a compact batch, each as `serialize_event` gives it."""
    return [
        {"seq": batch["first_seq"] + i, **_merge(batch["base"], row)} for i, row in enumerate(batch["rows"])
    ]


def next_seq(session: Session, room_id: int) -> int:
    """Bumps the room's counter and locks its row until commit (see the module docstring)."""
    seq = session.execute(
        update(WarRoom)
        .where(col(WarRoom.id) == room_id)
        .values(last_seq=col(WarRoom.last_seq) + 1)
        .returning(col(WarRoom.last_seq))
    ).scalar_one_or_none()
    if seq is None:
        raise unknown_room()
    return int(seq)


# Built once, not per message, and on the tables rather than the models: this runs for every chat
# message, and the ORM's version (it returned the room as an object) took about 0.35 ms more. A room
# the session already holds gets the new counter set on it.
_BUMP_AS_MEMBER = (
    update(_ROOM)
    .where(
        _ROOM.c.id == bindparam("room_id"),
        _ROOM.c.status == RoomStatus.active,
        _MEMBER.c.room_id == _ROOM.c.id,
        _MEMBER.c.user_id == bindparam("user_id"),
        _MEMBER.c.status == MemberStatus.active,
    )
    .values(last_seq=_ROOM.c.last_seq + 1)
    .returning(_ROOM.c.last_seq)
)


def next_seq_as_member(session: Session, *, room_id: int, user: User) -> int:
    """`next_seq` for a member's chat message, in the same one statement: the room is bumped and
    locked only when it is open and the caller an active member of it (this runs for every message,
    and each statement is a round trip). When it matches nothing, the checks run one by one to name
    the refusal (unknown-room, not-a-member, room-closed)."""
    seq = (
        session.connection()
        .execute(_BUMP_AS_MEMBER, {"room_id": room_id, "user_id": user.id})
        .scalar_one_or_none()
    )
    if seq is None:
        open_room_of_member(session, room_id=room_id, user=user)
        raise unknown_room()  # the checks passed a moment later: the room changed meanwhile
    held = session.identity_map.get(identity_key(WarRoom, room_id))
    if held is not None:  # a session that keeps the room across commits (the demo loader) sees it too
        set_committed_value(held, "last_seq", seq)
    return int(seq)


def existing_event(session: Session, *, room_id: int, client_id: str | None) -> WarRoomEvent | None:
    if not client_id:
        return None
    return session.exec(
        select(WarRoomEvent).where(WarRoomEvent.room_id == room_id, WarRoomEvent.client_id == client_id)
    ).first()


def append(
    session: Session,
    *,
    room_id: int,
    seq: int,
    kind: str,
    payload: dict[str, Any],
    author: User | None,
    client_id: str | None = None,
) -> dict[str, Any]:
    """Stores event `seq` (taken by the caller under the room's lock) and publishes it after commit;
    returns it serialised. A plain INSERT, not an ORM object: every chat message passes here, and
    building and flushing a `WarRoomEvent` cost about 0.4 ms more before its broadcast (nothing reads the new row back in the same transaction)."""
    session.flush()  # whatever the caller changed first is stored first (what a flush here used to do)
    now = utcnow()
    row = {
        "room_id": room_id,
        "seq": seq,
        "kind": kind,
        "payload": payload,
        "client_id": client_id,
        "author_id": author.id if author else None,
        "created_at": now,
    }
    session.connection().execute(_INSERT_EVENT, row)
    event = event_json(row, author)
    events.publish(session, EVENT_KIND, event)
    return event


def record(
    session: Session,
    *,
    room_id: int,
    kind: str,
    payload: dict[str, Any],
    author: User | None,
    client_id: str | None = None,
) -> dict[str, Any]:
    return append(
        session,
        room_id=room_id,
        seq=next_seq(session, room_id),
        kind=kind,
        payload=payload,
        author=author,
        client_id=client_id,
    )


def event_json(row: Mapping[str, Any], author: User | None) -> dict[str, Any]:
    """An event as members receive it and replays return it, from its columns' values."""
    return {
        "room_id": row["room_id"],
        "seq": row["seq"],
        "kind": row["kind"],
        "payload": row["payload"],
        "client_id": row["client_id"],
        "author": {"id": author.id, "display_name": author.display_name} if author else None,
        "created_at": iso(row["created_at"]),
    }


def serialize_event(event: WarRoomEvent, author: User | None) -> dict[str, Any]:
    return event_json({name: getattr(event, name) for name in _EVENT_JSON_COLUMNS}, author)


def replayed(session: Session, event: WarRoomEvent) -> tuple[dict[str, Any], bool]:
    author = session.get(User, event.author_id) if event.author_id else None
    return serialize_event(event, author), False


def events_after(session: Session, *, room_id: int, after_seq: int, limit: int = 200) -> list[dict[str, Any]]:
    rows = session.exec(
        select(WarRoomEvent)
        .where(WarRoomEvent.room_id == room_id, WarRoomEvent.seq > after_seq)
        .order_by(col(WarRoomEvent.seq))
        .limit(limit)
    ).all()
    author_ids = {r.author_id for r in rows if r.author_id}
    authors = (
        {u.id: u for u in session.exec(select(User).where(col(User.id).in_(author_ids))).all()}
        if author_ids
        else {}
    )
    return [serialize_event(r, authors.get(r.author_id) if r.author_id else None) for r in rows]


def last_seq(session: Session, room_id: int) -> int:
    return int(session.exec(select(WarRoom.last_seq).where(WarRoom.id == room_id)).one())


def notify(
    session: Session, *, user_id: int, room: WarRoom, title: str, body: str, key: str, query: str = ""
) -> None:
    """An inbox notification that opens the room. The inbox carries it to the live socket and to
    push after commit, so an invitee or a mentioned RM who is not in the room still hears of it;
    the source key makes it once-only (a re-sent message does not notify twice)."""
    inbox.notify(
        session,
        user_id=user_id,
        kind="warroom",
        title=title,
        body=body,
        url=f"/war-rooms/{room.id}{query}",
        source_key=f"warroom:{room.id}:{user_id}:{key}",
    )
