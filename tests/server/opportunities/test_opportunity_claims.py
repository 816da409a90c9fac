"""Contested claims: real threads and real processes race for one opportunity; exactly one wins."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlmodel import Session, col, func, select

from server import db
from server.audit.models import AuditEntry
from server.customers.models import CustomerGrant
from server.errors import Problem
from server.opportunities.claims import claim
from server.opportunities.lifecycle import create_opportunity
from server.opportunities.models import Opportunity, OpportunityTransition
from server.org.models import User
from tests import factories

CLAIMERS = 50


def _attempt(engine, rm_id: int, opp_id: int, barrier) -> tuple:
    with Session(engine, expire_on_commit=False) as session:
        user = session.get(User, rm_id)
        session.expunge(user)
    # Hold no pooled connection while waiting, or the pool's limit would deadlock the barrier.
    barrier.wait(timeout=120)
    with Session(engine, expire_on_commit=False) as session:
        try:
            opp = claim(session, user=user, opportunity_id=opp_id, ip=None)
            return ("won", opp.owner_id)
        except Problem as problem:
            return (problem.status, problem.code, (problem.extra.get("winner") or {}).get("id"))


def _setup(db_session, data_key, n: int):
    branch = factories.make_branch(db_session)
    originator = factories.make_user(db_session, branch=branch)
    customer = factories.make_customer(db_session, owner=originator, data_key=data_key)
    rms = [factories.make_user(db_session, branch=branch) for _ in range(n)]
    opp = create_opportunity(
        db_session,
        user=originator,
        data=factories.opportunity_data(customer_id=customer.id, prospect_name=None),
        ip=None,
    )
    return opp.id, [r.id for r in rms]


def _assert_one_winner(db_session, opp_id: int, rm_ids: list[int], results: list[tuple]) -> None:
    winners = [r for r in results if r[0] == "won"]
    losers = [r for r in results if r[0] != "won"]
    assert len(winners) == 1, results
    assert len(losers) == len(rm_ids) - 1
    winner_id = winners[0][1]
    # every loser is told who won
    assert all(r == (409, "already-claimed", winner_id) for r in losers), set(losers)
    db_session.expire_all()
    assert db_session.get(Opportunity, opp_id).owner_id == winner_id
    claims = db_session.exec(
        select(func.count())
        .select_from(OpportunityTransition)
        .where(OpportunityTransition.opportunity_id == opp_id, OpportunityTransition.to_status == "claimed")
    ).one()
    assert claims == 1
    grants = db_session.exec(
        select(CustomerGrant.user_id).where(
            CustomerGrant.source_type == "opportunity", CustomerGrant.source_id == opp_id
        )
    ).all()
    assert grants == [winner_id]
    audits = db_session.exec(
        select(AuditEntry.actor_id).where(
            AuditEntry.action == "opportunity.claim", AuditEntry.object_id == str(opp_id)
        )
    ).all()
    assert audits == [winner_id]


def test_fifty_threads_claim_one_opportunity_exactly_one_wins(app, db_session, data_key, policy):
    policy(priority_window_minutes=0, max_open_claims=5, require_qualification=True)
    opp_id, rm_ids = _setup(db_session, data_key, CLAIMERS)
    engine = db.engine_for(app)
    barrier = threading.Barrier(CLAIMERS)
    with ThreadPoolExecutor(CLAIMERS) as pool:
        results = list(pool.map(lambda rm: _attempt(engine, rm, opp_id, barrier), rm_ids))
    _assert_one_winner(db_session, opp_id, rm_ids, results)


def _process_main(database_url: str, rm_ids: list[int], opp_id: int, start, out) -> None:
    import server.models  # noqa: F401  (registers every table in this fresh interpreter)

    engine = db.get_engine(database_url)
    barrier = threading.Barrier(len(rm_ids))
    start.wait()  # all processes released together
    with ThreadPoolExecutor(len(rm_ids)) as pool:
        out.put(list(pool.map(lambda rm: _attempt(engine, rm, opp_id, barrier), rm_ids)))


def test_four_processes_claim_one_opportunity_exactly_one_wins(
    app, db_session, data_key, test_config, policy
):
    policy(priority_window_minutes=0, max_open_claims=5, require_qualification=True)
    opp_id, rm_ids = _setup(db_session, data_key, CLAIMERS)
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(4)
    out = ctx.Queue()
    chunks = [rm_ids[i::4] for i in range(4)]
    processes = [
        ctx.Process(target=_process_main, args=(test_config["DATABASE_URL"], chunk, opp_id, start, out))
        for chunk in chunks
    ]
    for p in processes:
        p.start()
    results = []
    for _ in processes:
        results.extend(out.get(timeout=120))
    for p in processes:
        p.join(30)
        assert p.exitcode == 0
    _assert_one_winner(db_session, opp_id, rm_ids, results)


def test_cap_holds_under_concurrent_claims_by_one_rm(app, db_session, data_key, policy):
    """The cap is part of the conditional UPDATE: one RM racing for many opportunities at once
    still ends with at most the cap."""
    policy(priority_window_minutes=0, max_open_claims=3, require_qualification=True)
    branch = factories.make_branch(db_session)
    originator = factories.make_user(db_session, branch=branch)
    rm = factories.make_user(db_session, branch=branch)
    opp_ids = [
        create_opportunity(db_session, user=originator, data=factories.opportunity_data(), ip=None).id
        for _ in range(10)
    ]
    engine = db.engine_for(app)
    barrier = threading.Barrier(len(opp_ids))
    with ThreadPoolExecutor(len(opp_ids)) as pool:
        results = list(pool.map(lambda opp: _attempt(engine, rm.id, opp, barrier), opp_ids))
    held = db_session.exec(
        select(func.count())
        .select_from(Opportunity)
        .where(Opportunity.owner_id == rm.id, col(Opportunity.status) == "claimed")
    ).one()
    assert held == 3 and sum(1 for r in results if r[0] == "won") == 3
    assert all(r[:2] == (403, "claim-cap") for r in results if r[0] != "won")
