"""`/feed`: the opportunity pool, live. A socket joins the rooms of the pools it may see (one per
pool and qualification held; a team lead, one per team led), so an event emitted to its rooms
reaches exactly the users who may see and claim it, on every web process (rooms work through the
Redis message queue). Events carry the database's `seq`; a reconnecting client sends
`resume {last_seq}` and gets the gap it is eligible for from the database. `claim
{opportunity_id}` claims over the socket with an acknowledgement (the HTTP route stays for the
offline outbox); both call the same domain function.

Rooms follow the user, not the connection: when a user's team, qualifications, role or active
flag change, or the teams a lead leads, every process recomputes that user's feed sockets' rooms
from the database. We chose recomputing rooms over filtering each recipient at emit time: an emit
stays one publish to a few rooms however many RMs listen (the hot path: ten shares a second to a
thousand sockets), while access changes are rare admin actions whose cost (one query per socket
of the changed user) lands where the change happens. A change of visibility of an opportunity
needs no room change: it is written as a feed event to the new audience's rooms."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from flask import Flask, request
from flask_socketio import disconnect, join_room

from realtime.base import SessionNamespace, problem_ack
from realtime.emit import emit
from realtime.names import FEED as NAMESPACE
from realtime.session import SocketUser, socket_sid
from server import db, events
from server.errors import unprocessable
from server.opportunities import cards, claims, race
from server.opportunities import feed as pool_feed
from server.org.models import User

log = logging.getLogger(__name__)
REPLAY_LIMIT = 500


def broadcast_feed(event: events.DomainEvent) -> None:
    """Sink: a committed feed event goes to its audience's rooms (and originator/owner)."""
    if event.kind != "opportunity.feed":
        return
    emit("feed", event.payload["event"], room=pool_feed.event_rooms(event.payload), namespace=NAMESPACE)


@dataclass
class FeedMember:
    """What the namespace keeps per socket: enough to answer a settled claim without the
    database, and the rooms joined, so a recompute knows which to leave."""

    user_id: int
    role: str
    branch_id: int | None
    team_id: int | None
    rooms: set[str] = field(default_factory=set)


class FeedNamespace(SessionNamespace):
    path = NAMESPACE

    def __init__(self, namespace: str):
        super().__init__(namespace)
        self._members: dict[str, FeedMember] = {}

    # --- membership ------------------------------------------------------------------------------

    def _member(self, session, user_id: int) -> FeedMember:
        user = session.get(User, user_id)
        if user is None:
            return FeedMember(user_id, "", None, None)
        rooms = set(pool_feed.socket_rooms(session, user=user))
        return FeedMember(user_id, user.role, user.branch_id, user.team_id, rooms)

    def connected(self, who: SocketUser, auth: Any) -> None:
        with self.event_session() as session:
            member = self._member(session, who.user_id)
        self._members[socket_sid()] = member
        for room in member.rooms:
            join_room(room)

    def disconnected(self, who: SocketUser) -> None:
        self._members.pop(socket_sid(), None)

    def access_changed(self, app: Flask, user_ids: set[int]) -> None:
        super().access_changed(app, user_ids)
        self.recompute_rooms(app, user_ids)

    def recompute_rooms(self, app: Flask, user_ids: set[int]) -> int:
        """Re-derives the rooms of this process's feed sockets of `user_ids`; returns how many
        sockets changed rooms."""
        local = [(sid, m) for sid, m in list(self._members.items()) if m.user_id in user_ids]
        if not local:
            return 0
        changed = 0
        with app.app_context(), db.session_scope(db.engine_for(app)) as session:
            fresh = {uid: self._member(session, uid) for uid in {m.user_id for _, m in local}}
        server = self.socketio.server
        for sid, old in local:
            new = fresh[old.user_id]
            if sid not in self._members:
                continue  # gone meanwhile
            for room in old.rooms - new.rooms:
                server.leave_room(sid, room, namespace=self.namespace)
            for room in new.rooms - old.rooms:
                server.enter_room(sid, room, namespace=self.namespace)
            self._members[sid] = replace(new, rooms=set(new.rooms))
            changed += old.rooms != new.rooms
            # The client reloads its list (or resumes) to pick up what it may now see.
            self.socketio.emit(
                "access_changed", {"rooms_changed": old.rooms != new.rooms}, to=sid, namespace=self.namespace
            )
        return changed

    # --- events ----------------------------------------------------------------------------------

    def on_resume(self, data: Any = None):
        return self.guarded(self._resume, data)

    def _resume(self, session, user: User, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict) or not isinstance(data.get("last_seq"), int) or data["last_seq"] < 0:
            raise unprocessable("Send {last_seq: integer >= 0}.")
        head = pool_feed.last_seq(session)
        gap = pool_feed.events_since(session, user=user, after_seq=data["last_seq"], limit=REPLAY_LIMIT)
        more = len(gap) == REPLAY_LIMIT
        # Feed writers commit in seq order, so `head` is a safe cursor once the gap is applied.
        cursor = gap[-1]["seq"] if more else max(head, data["last_seq"])
        return {"ok": True, "events": gap, "last_seq": cursor, "more": more}

    def on_claim(self, data: Any = None):
        """Ack `{ok: true, opportunity}` or `{ok: false, code, status, message, ...}` — a lost race is
        `already-claimed` with `winner`, answered in the ack only (it is an answer, not an error)."""
        member = self._members.get(socket_sid())
        if member is None:
            disconnect()
            return {"ok": False, "code": "unauthenticated"}
        opp_id = data.get("opportunity_id") if isinstance(data, dict) else None
        if not isinstance(opp_id, int) or isinstance(opp_id, bool) or opp_id < 1:
            return self.error("validation", "Send {opportunity_id: integer >= 1}.", status=422)
        # A race already settled is answered without a database session: the answer only repeats
        # the claim event this socket was sent (the audience is checked), and a revoked session's
        # sockets are dropped as it ends. Otherwise this claim takes its turn at the database.
        with race.claim_turn(
            opp_id,
            user_id=member.user_id,
            role=member.role,
            branch_id=member.branch_id,
            team_id=member.team_id,
        ) as settled:
            if settled is not None:
                return problem_ack(settled)
            return self.guarded(self._claim, data, quiet_problems=True)

    def _claim(self, session, user: User, data: dict) -> dict[str, Any]:
        opp = claims.claim(
            session,
            user=user,
            opportunity_id=data["opportunity_id"],
            ip=request.remote_addr,
            race_checked=True,
        )
        return {"ok": True, "opportunity": cards.summaries(session, [opp])[0]}
