"""The claim race's early answer. A hundred RMs tap "claim" on the same card within a second: one
wins, 99 get the same 409. Those 99 should not each open a database session, take the write lock
and run the rule checks just to learn what the pool already knows.

- The latest feed event of each opportunity (by seq) is kept in Redis for a short while
  (`remember_claim_state`, an after-commit sink), so a claim on a card whose latest event is its
  claim is answered 409 from there, on every web process.
- Within a process, claims for the same card take turns (`claim_turn`): the first goes to the
  database while the rest wait for its outcome, then find the answer in this process's memory.

The conditional UPDATE in `service.claim` stays the only judge of who wins: this record can only
refuse, never grant, and whenever it is missing (expired, Redis down, not yet written) or the
asker is outside the audience of the claim event, the claim takes the full way."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from server import events
from server.errors import Problem, conflict
from server.opportunities.models import Visibility
from server.org.models import Role

STATE_TTL_S = 120  # a contest lasts seconds; this also bounds how long a winner's name can be stale
LOCAL_TTL_S = 1.0  # this process's copy of a claimed state (see `_local_state`)
TURN_WAIT_S = 30.0  # longest a claim waits for the one ahead of it before asking the database itself
_REMEMBER_IF_NEWER = """
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current)['seq'] >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""

# This process's claimed states. The only way from claimed back to the pool is a recycle (days
# without activity), so a refusal from here can lag a re-share by LOCAL_TTL_S at most.
_local: dict[str, tuple[float, dict[str, Any]]] = {}
_turns: dict[str, threading.Event] = {}
_turns_lock = threading.Lock()


def _key(opportunity_id: int) -> str | None:
    from flask import current_app, has_app_context

    if not has_app_context():
        return None
    # Keys carry the database's identity: two databases on one Redis never read each other's races.
    tag = current_app.extensions.get("zhanye_claim_race_tag")
    if tag is None:
        url = current_app.config["SETTINGS"].database_url()
        tag = current_app.extensions["zhanye_claim_race_tag"] = hashlib.sha256(url.encode()).hexdigest()[:12]
    return f"opp:race:{tag}:{opportunity_id}"


def _keep_local(key: str, state: dict[str, Any]) -> None:
    if state["kind"] != "claimed":
        _local.pop(key, None)
        return
    if len(_local) > 10_000:
        _local.clear()
    _local[key] = (time.monotonic() + LOCAL_TTL_S, state)


def _local_state(key: str) -> dict[str, Any] | None:
    known = _local.get(key)
    return known[1] if known is not None and known[0] > time.monotonic() else None


def _shared_state(key: str) -> dict[str, Any] | None:
    from server.redis_client import get_redis

    try:
        raw = get_redis().get(key)
    except Exception:  # the database answers instead
        return None
    if raw is None:
        return None
    state = json.loads(raw)
    _keep_local(key, state)
    return state


def remember_claim_state(event: events.DomainEvent) -> None:
    """Sink: after a feed event commits, record it as the opportunity's latest state unless a later
    one (higher seq) is already recorded, so sinks that run out of order cannot resurrect a claim
    that a recycle or transfer has since undone."""
    if event.kind != "opportunity.feed":
        return
    from server.redis_client import get_redis

    feed = event.payload["event"]
    key = _key(feed["opportunity"]["id"])
    if key is None:
        return
    state = {
        "seq": feed["seq"],
        "kind": feed["kind"],
        "status": feed["opportunity"]["status"],
        "owner": feed["opportunity"].get("owner"),
        "visibility": event.payload["visibility"],
        "branch_id": event.payload.get("branch_id"),
        "team_id": event.payload.get("team_id"),
        "originator_id": event.payload.get("originator_id"),
    }
    stored = get_redis().eval(_REMEMBER_IF_NEWER, 1, key, feed["seq"], json.dumps(state), STATE_TTL_S)
    if stored:
        _keep_local(key, state)


def note_settled(
    *,
    opportunity_id: int,
    status: str,
    owner: dict[str, Any],
    visibility: str,
    branch_id: int | None,
    team_id: int | None,
    originator_id: int,
) -> None:
    """The database just told a claim who won (the winner may be on another process, its record
    not in Redis yet): keep it here, so the claims waiting behind this one need not ask again."""
    key = _key(opportunity_id)
    if key is None:
        return
    _keep_local(
        key,
        {
            "seq": None,
            "kind": "claimed",
            "status": status,
            "owner": owner,
            "visibility": visibility,
            "branch_id": branch_id,
            "team_id": team_id,
            "originator_id": originator_id,
        },
    )


def _answer(
    state: dict[str, Any], *, user_id: int, branch_id: int | None, team_id: int | None
) -> Problem | None:
    """The 409 a settled race gives this RM, or None when they were not in the claim event's
    audience (the full way then answers, e.g. 404): it tells nobody what they were not sent."""
    owner = state.get("owner")
    if state["kind"] != "claimed" or not owner:
        return None
    visibility = state["visibility"]
    audience = (
        user_id == state["originator_id"]
        or visibility == Visibility.bank
        or (visibility == Visibility.branch and branch_id is not None and state["branch_id"] == branch_id)
        or (visibility == Visibility.team and team_id is not None and state["team_id"] == team_id)
    )
    if not audience:
        return None
    return conflict(
        f"{owner['display_name']} claimed this opportunity first.",
        code="already-claimed",
        winner={"id": owner["id"], "display_name": owner["display_name"]},
        opportunity_status=state["status"],
    )


@contextmanager
def claim_turn(
    opportunity_id: int, *, user_id: int, role: str, branch_id: int | None, team_id: int | None
) -> Iterator[Problem | None]:
    """Yields the 409 of a race already settled, or None: then it is this claim's turn to ask the
    database, and other claims for the same card in this process wait until the block ends."""
    key = _key(opportunity_id)
    if key is None or role != Role.rm:
        yield None
        return
    deadline = time.monotonic() + TURN_WAIT_S
    while True:
        state = _local_state(key)
        if state is None:
            with _turns_lock:
                ahead = _turns.get(key)
            if ahead is not None:
                if not ahead.wait(timeout=max(0.0, deadline - time.monotonic())):
                    yield None  # waited long enough: the database decides
                    return
                continue
            state = _shared_state(key)
        if state is not None and state["kind"] == "claimed":
            yield _answer(state, user_id=user_id, branch_id=branch_id, team_id=team_id)
            return
        with _turns_lock:
            mine = key not in _turns
            if mine:
                turn = _turns[key] = threading.Event()
        if mine:
            break
    try:
        yield None
    finally:
        if _local_state(key) is None:
            _shared_state(key)  # lost to another process: fetch its answer once, for those waiting
        with _turns_lock:
            _turns.pop(key, None)
        turn.set()
