"""The claim race's early answer (server/opportunities/race.py): a settled race is answered from
the pool's record without the database, but never refuses a claim the database would allow."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from server.errors import Problem
from server.opportunities import race
from server.opportunities.claims import claim
from server.opportunities.feed import last_seq
from server.opportunities.lifecycle import create_opportunity
from server.opportunities.recycling import recycle_stale
from tests import factories


@pytest.fixture
def contest(app, db_session, policy):
    policy(priority_window_minutes=0, max_open_claims=50)
    branch = factories.make_branch(db_session)
    people = {
        "originator": factories.make_user(db_session, branch=branch),
        "b": factories.make_user(db_session, branch=branch, display_name="乙"),
        "c": factories.make_user(db_session, branch=branch, display_name="丙"),
        "outsider": factories.make_user(db_session),  # another branch
    }
    with app.app_context():
        opp = create_opportunity(
            db_session,
            user=people["originator"],
            data=factories.opportunity_data(visibility="branch"),
            ip=None,
        )
        yield opp, people


def _turn(opp_id: int, user) -> Problem | None:
    with race.claim_turn(
        opp_id, user_id=user.id, role=user.role, branch_id=user.branch_id, team_id=user.team_id
    ) as settled:
        return settled


def test_a_settled_race_is_answered_from_the_record_and_only_to_its_audience(contest, db_session):
    opp, p = contest
    assert _turn(opp.id, p["c"]) is None  # still open: the database decides
    claim(db_session, user=p["b"], opportunity_id=opp.id, ip=None)
    settled = _turn(opp.id, p["c"])
    assert settled is not None and settled.status == 409 and settled.code == "already-claimed"
    assert settled.extra["winner"] == {"id": p["b"].id, "display_name": "乙"}
    # someone outside the pool learns nothing from the record: the full way answers 404
    assert _turn(opp.id, p["outsider"]) is None
    with pytest.raises(Problem) as hidden:
        claim(db_session, user=p["outsider"], opportunity_id=opp.id, ip=None)
    assert hidden.value.status == 404


def test_a_recycled_opportunity_is_claimable_again_at_once(contest, db_session):
    opp, p = contest
    claim(db_session, user=p["b"], opportunity_id=opp.id, ip=None)
    claimed_seq = last_seq(db_session)
    assert _turn(opp.id, p["c"]) is not None
    db_session.refresh(opp)
    recycle_stale(db_session, now=opp.claimed_at + timedelta(days=30))
    assert _turn(opp.id, p["c"]) is None
    won = claim(db_session, user=p["c"], opportunity_id=opp.id, ip=None)
    assert won.owner_id == p["c"].id
    # a late sink replaying the old claim cannot bring the old winner back over the newer events
    from server import events

    stale = events.DomainEvent(
        "opportunity.feed",
        {
            "event": {
                "seq": claimed_seq,
                "kind": "claimed",
                "opportunity": {
                    "id": opp.id,
                    "status": "claimed",
                    "owner": {"id": p["b"].id, "display_name": "乙"},
                },
            },
            "visibility": "branch",
            "branch_id": opp.branch_id,
            "team_id": opp.team_id,
            "originator_id": opp.originator_id,
        },
    )
    race._local.clear()
    race.remember_claim_state(stale)
    settled = _turn(opp.id, p["b"])
    assert settled is not None and settled.extra["winner"]["id"] == p["c"].id


def test_claims_in_one_process_take_turns_and_share_the_answer(app, contest, db_session):
    """Threads stand in for one web process's concurrent handlers: one asks the database, the
    rest wait for it and are answered from memory, and there is still exactly one winner."""
    from sqlmodel import Session

    from server import db
    from server.org.models import User

    opp, p = contest
    rms = [factories.make_user(db_session, branch=opp_branch(db_session, opp)) for _ in range(20)]
    barrier = threading.Barrier(len(rms))
    outcomes: list[tuple] = []
    asked_db = []

    def attempt(rm_id: int) -> None:
        with Session(db.engine_for(app), expire_on_commit=False) as session:
            user = session.get(User, rm_id)
            session.expunge(user)
        barrier.wait(timeout=30)  # holding no pooled connection, or the pool's limit would deadlock it
        with app.app_context(), Session(db.engine_for(app), expire_on_commit=False) as session:
            with race.claim_turn(
                opp.id, user_id=user.id, role=user.role, branch_id=user.branch_id, team_id=user.team_id
            ) as settled:
                if settled is not None:
                    outcomes.append(("refused", settled.extra["winner"]["id"]))
                    return
                asked_db.append(rm_id)
                try:
                    won = claim(session, user=user, opportunity_id=opp.id, ip=None, race_checked=True)
                    outcomes.append(("won", won.owner_id))
                except Problem as problem:
                    outcomes.append(("lost", problem.extra["winner"]["id"]))

    threads = [threading.Thread(target=attempt, args=(u.id,)) for u in rms]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    winners = [o for o in outcomes if o[0] == "won"]
    assert len(winners) == 1 and len(outcomes) == len(rms)
    assert all(o[1] == winners[0][1] for o in outcomes)
    assert len(asked_db) < len(rms) // 2, asked_db  # the rest were answered without the database


def opp_branch(session, opp):
    from server.org.models import Branch

    return session.get(Branch, opp.branch_id)
