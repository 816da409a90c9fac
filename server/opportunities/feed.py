"""The live stream: each pool-visible change writes a `feed_event` row (the stream's sequence) and
publishes it after commit; the rooms an event goes to and a socket joins; the gap a client replays."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, text
from sqlmodel import Session, col, select

from server import events
from server.db import row_id
from server.opportunities.access import led_team_ids, rm_profile
from server.opportunities.cards import summaries
from server.opportunities.models import FeedEvent, Opportunity, Visibility
from server.opportunities.policy import get_policy
from server.org.models import Role, User
from server.timeutil import iso


def _pool_room(visibility: str, branch_id: int | None, team_id: int | None) -> str | None:
    if visibility == Visibility.bank:
        return "feed:bank"
    if visibility == Visibility.branch and branch_id is not None:
        return f"feed:branch:{branch_id}"
    if visibility == Visibility.team and team_id is not None:
        return f"feed:team:{team_id}"
    return None


def event_room(
    visibility: str, branch_id: int | None, team_id: int | None, qualification: str | None
) -> str | None:
    """The pool's room for an event: `<pool>:all` when anyone in the pool may claim it, or
    `<pool>:q:<qualification>` when the policy asks for a qualification it names. An RM's socket
    joins both kinds for its pools (one per qualification held), so a room emit is the server-side
    visibility and qualification filter, and a policy change needs no socket to change rooms."""
    pool = _pool_room(visibility, branch_id, team_id)
    if pool is None:
        return None
    return f"{pool}:q:{qualification}" if qualification else f"{pool}:all"


def lead_room(team_id: int) -> str:
    """A team lead watches the opportunities of the teams they lead, in whatever pool (the ones
    `lead_manages` lets them open, reassign and transfer)."""
    return f"feed:lead:team:{team_id}"


def socket_rooms(session: Session, *, user: User) -> list[str]:
    """The feed rooms of a user's socket, from the database as it is now (at connect, and again
    whenever the user's team, qualifications or role change)."""
    if user.role == Role.team_lead:
        return [lead_room(team_id) for team_id in led_team_ids(session, lead=user)]
    if user.role != Role.rm or not user.is_active:
        return []
    profile = rm_profile(session, user=user)
    qualifications = sorted(set(profile.qualifications or [])) if profile else []
    rooms = []
    for pool in (
        "feed:bank",
        _pool_room(Visibility.branch, user.branch_id, None),
        _pool_room(Visibility.team, None, user.team_id),
    ):
        if pool is not None:
            rooms += [f"{pool}:all", *(f"{pool}:q:{qual}" for qual in qualifications)]
    return rooms


def event_rooms(event: dict[str, Any]) -> list[str]:
    """Every room an event goes to: its pool's room for its audience qualification, the leads of
    its team, and the originator and (previous) holder."""
    rooms = []
    pool = event_room(
        event["visibility"], event.get("branch_id"), event.get("team_id"), event.get("audience_qualification")
    )
    if pool is not None:
        rooms.append(pool)
    if event.get("team_id"):
        rooms.append(lead_room(event["team_id"]))
    people: set[int] = {
        uid
        for uid in (event.get("originator_id"), event.get("owner_id"), event.get("previous_owner_id"))
        if uid
    }
    rooms += [f"user:{uid}" for uid in sorted(people)]
    return rooms


def _serialize_event(ev: FeedEvent) -> dict[str, Any]:
    return {"seq": ev.seq, "kind": ev.kind, "at": iso(ev.at), **ev.payload}


def feed_event(
    session: Session,
    *,
    opp: Opportunity,
    kind: str,
    actor: User | None,
    now: datetime,
    previous_owner_id: int | None = None,
    card: dict | None = None,
) -> FeedEvent:
    card = card or summaries(session, [opp])[0]
    if session.get_bind().dialect.name == "postgresql":
        # Serialise feed writers to commit order, so a client never sees seq N+1 before N commits
        # (SQLite serialises writers anyway). The transaction's other writes go first, so the lock
        # is held only for the feed row and the commit: every writer of the pool waits on it.
        session.flush()
        session.execute(text("SELECT pg_advisory_xact_lock(732001)"))
    ev = FeedEvent(
        kind=kind,
        opportunity_id=row_id(opp),
        visibility=opp.visibility,
        branch_id=opp.branch_id,
        team_id=opp.team_id,
        required_qualification=opp.required_qualification,
        originator_id=opp.originator_id,
        payload={
            "opportunity": card,
            "actor": {"id": actor.id, "display_name": actor.display_name} if actor else None,
            "previous_owner_id": previous_owner_id,
        },
        at=now,
    )
    session.add(ev)
    session.flush()
    events.publish(
        session,
        "opportunity.feed",
        {
            "event": _serialize_event(ev),
            "visibility": ev.visibility,
            "branch_id": ev.branch_id,
            "team_id": ev.team_id,
            "required_qualification": ev.required_qualification,
            # who may claim it is decided when the event is written, by the policy then in force
            "audience_qualification": ev.required_qualification
            if get_policy(session).require_qualification
            else None,
            "originator_id": ev.originator_id,
            "owner_id": opp.owner_id,
            "previous_owner_id": previous_owner_id,
        },
    )
    return ev


def events_since(session: Session, *, user: User, after_seq: int, limit: int = 500) -> list[dict[str, Any]]:
    """The gap a reconnecting client may see, from the database, in order."""
    if user.role == Role.team_lead:
        # the same audience as the lead's live room: their teams' opportunities, and their own
        led = led_team_ids(session, lead=user)
        rows = session.exec(
            select(FeedEvent)
            .where(
                col(FeedEvent.seq) > after_seq,
                or_(col(FeedEvent.team_id).in_(led or [-1]), col(FeedEvent.originator_id) == user.id),
            )
            .order_by(col(FeedEvent.seq))
            .limit(limit)
        ).all()
        return [_serialize_event(ev) for ev in rows]
    policy = get_policy(session)
    profile = rm_profile(session, user=user)
    if profile is None:
        return []
    conds: list[Any] = [
        col(FeedEvent.seq) > after_seq,
        or_(
            col(FeedEvent.visibility) == Visibility.bank,
            and_(col(FeedEvent.visibility) == Visibility.branch, col(FeedEvent.branch_id) == user.branch_id),
            and_(col(FeedEvent.visibility) == Visibility.team, col(FeedEvent.team_id) == user.team_id),
            col(FeedEvent.originator_id) == user.id,
        ),
    ]
    if policy.require_qualification:
        quals = list(profile.qualifications or [])
        conds.append(
            or_(
                col(FeedEvent.required_qualification).is_(None),
                col(FeedEvent.required_qualification).in_(quals or [""]),
                col(FeedEvent.originator_id) == user.id,
            )
        )
    rows = session.exec(select(FeedEvent).where(*conds).order_by(col(FeedEvent.seq)).limit(limit)).all()
    return [_serialize_event(ev) for ev in rows]


def last_seq(session: Session) -> int:
    return session.exec(select(func.max(FeedEvent.seq))).one() or 0
