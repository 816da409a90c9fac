"""The event log: each room's numbered events (chat and board changes), and the notifications a room sends.

Every change to a room takes the room's next sequence number first, with one atomic
`UPDATE war_room SET last_seq = last_seq + 1 ... RETURNING last_seq`. That row stays locked until the
transaction ends, so changes to one room are serialised, numbers have no gaps, and they are in commit
order on SQLite and PostgreSQL alike. The stored event is then published (`warroom.event`); the
realtime layer broadcasts it only after the commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, update
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
    from sqlalchemy import insert

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
    session.connection().execute(insert(WarRoomEvent), rows)  # Core: no ORM bookkeeping per row
    who = {"id": author.id, "display_name": author.display_name} if author else None
    at = iso(now)
    publish_batch(
        session,
        room_id=room_id,
        serialized=[
            {k: r[k] for k in ("room_id", "seq", "kind", "payload", "client_id")}
            | {"author": who, "created_at": at}
            for r in rows
        ],
    )


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


# Built once, not per message: constructing it took about 0.1 ms of every chat message's work.
_BUMP_AS_MEMBER = (
    update(WarRoom)
    .where(
        col(WarRoom.id) == bindparam("room_id"),
        col(WarRoom.status) == RoomStatus.active,
        col(WarRoomMember.room_id) == WarRoom.id,
        col(WarRoomMember.user_id) == bindparam("user_id"),
        col(WarRoomMember.status) == MemberStatus.active,
    )
    .values(last_seq=col(WarRoom.last_seq) + 1)
    .returning(WarRoom)
)


def next_seq_as_member(session: Session, *, room_id: int, user: User) -> tuple[WarRoom, int]:
    """`next_seq` for a member's chat message, in the same one statement: the room is bumped and
    locked only when it is open and the caller an active member of it (this runs for every message,
    and each statement is a round trip). When it matches nothing, the checks run one by one to name
    the refusal (unknown-room, not-a-member, room-closed)."""
    room = session.scalars(
        _BUMP_AS_MEMBER,
        {"room_id": room_id, "user_id": user.id},
        # populate_existing: a session that already holds the room (one that created it, or read it
        # earlier and keeps objects across commits) gets the returned row, not its old copy
        execution_options={"synchronize_session": False, "populate_existing": True},
    ).one_or_none()
    if room is None:
        open_room_of_member(session, room_id=room_id, user=user)
        raise unknown_room()  # the checks passed a moment later: the room changed meanwhile
    return room, int(room.last_seq)


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
) -> WarRoomEvent:
    event = WarRoomEvent(
        room_id=room_id,
        seq=seq,
        kind=kind,
        payload=payload,
        client_id=client_id,
        author_id=author.id if author else None,
    )
    session.add(event)
    session.flush()
    events.publish(session, EVENT_KIND, serialize_event(event, author))
    return event


def record(
    session: Session,
    *,
    room_id: int,
    kind: str,
    payload: dict[str, Any],
    author: User | None,
    client_id: str | None = None,
) -> WarRoomEvent:
    return append(
        session,
        room_id=room_id,
        seq=next_seq(session, room_id),
        kind=kind,
        payload=payload,
        author=author,
        client_id=client_id,
    )


def serialize_event(event: WarRoomEvent, author: User | None) -> dict[str, Any]:
    return {
        "room_id": event.room_id,
        "seq": event.seq,
        "kind": event.kind,
        "payload": event.payload,
        "client_id": event.client_id,
        "author": {"id": author.id, "display_name": author.display_name} if author else None,
        "created_at": iso(event.created_at),
    }


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
