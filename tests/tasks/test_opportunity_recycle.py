"""The recycle sweep on a real RQ worker with a clock the test controls."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from server.audit.models import AuditEntry
from server.customers.models import CustomerGrant
from server.inbox.models import Notification
from server.opportunities.claims import claim
from server.opportunities.lifecycle import create_opportunity, record_activity
from server.opportunities.models import FeedEvent, Opportunity, OpportunityTransition
from server.opportunities.schemas import ActivityCreate
from server.timeutil import utcnow
from tasks.opportunities import recycle_stale_opportunities, schedule_sweep
from tasks.queues import DEFAULT, queue
from tests import factories


def _sweep(worker, at, tag: str) -> None:
    job = recycle_stale_opportunities.enqueue(
        at.isoformat(), job_id=f"test-recycle-{tag}-{at:%Y%m%d%H%M%S%f}"
    )
    worker.work(burst=True)
    job.refresh()
    assert job.is_finished, job.exc_info


def _notes(db_session, user_id: int) -> list[str]:
    db_session.expire_all()
    return list(db_session.exec(select(Notification.title).where(Notification.user_id == user_id)).all())


def test_stale_claim_is_warned_then_recycled_once(worker, db_session, data_key, policy):
    policy(priority_window_minutes=0, max_open_claims=50, require_qualification=True)
    branch = factories.make_branch(db_session)
    originator = factories.make_user(db_session, branch=branch)
    holder = factories.make_user(db_session, branch=branch)
    customer = factories.make_customer(db_session, owner=originator, data_key=data_key)  # tier mass: 5 days
    t0 = utcnow()
    opp = create_opportunity(
        db_session,
        user=originator,
        data=factories.opportunity_data(customer_id=customer.id, prospect_name=None),
        ip=None,
        now=t0,
    )
    claim(db_session, user=holder, opportunity_id=opp.id, ip=None, now=t0)

    # day 4: a day before the 5-day limit, the holder is warned (once, however often the sweep runs)
    day4 = t0 + timedelta(days=4, minutes=1)
    _sweep(worker, day4, "warn")
    _sweep(worker, day4 + timedelta(minutes=1), "warn-again")
    assert _notes(db_session, holder.id).count("商机即将被回收") == 1
    db_session.refresh(opp)
    assert opp.status == "claimed" and opp.recycle_warned_at is not None

    # a recorded activity resets the clock
    touched = t0 + timedelta(days=4, hours=1)
    record_activity(
        db_session, user=holder, opportunity_id=opp.id, data=ActivityCreate(kind="call"), ip=None, now=touched
    )
    db_session.refresh(opp)
    assert opp.status == "in_progress" and opp.recycle_warned_at is None
    _sweep(worker, t0 + timedelta(days=6), "not-yet")
    db_session.refresh(opp)
    assert opp.status == "in_progress" and opp.owner_id == holder.id

    # five quiet days after the activity: back to the pool, once
    late = touched + timedelta(days=5, minutes=1)
    _sweep(worker, late, "recycle")
    _sweep(worker, late, "recycle-again")
    db_session.expire_all()
    opp = db_session.get(Opportunity, opp.id)
    assert opp.status == "shared" and opp.owner_id is None and opp.recycle_count == 1
    steps = db_session.exec(
        select(
            OpportunityTransition.from_status, OpportunityTransition.to_status, OpportunityTransition.actor_id
        )
        .where(OpportunityTransition.opportunity_id == opp.id)
        .order_by(col(OpportunityTransition.id))
    ).all()
    assert steps[-2:] == [("in_progress", "recycled", None), ("recycled", "shared", None)]
    assert [s[1] for s in steps].count("recycled") == 1
    grant = db_session.exec(
        select(CustomerGrant).where(
            CustomerGrant.source_type == "opportunity", CustomerGrant.source_id == opp.id
        )
    ).one()
    assert grant.revoked_at is not None
    assert "你共享的商机已回收再共享" in _notes(db_session, originator.id)
    assert "商机已退回商机池" in _notes(db_session, holder.id)
    kinds = db_session.exec(select(FeedEvent.kind).where(FeedEvent.opportunity_id == opp.id)).all()
    assert kinds.count("recycled") == 1
    assert (
        db_session.exec(
            select(AuditEntry).where(
                AuditEntry.action == "opportunity.recycle", AuditEntry.object_id == str(opp.id)
            )
        )
        .one()
        .detail["from_rm_id"]
        == holder.id
    )
    # anyone eligible may claim it again, the old holder included
    assert claim(db_session, user=holder, opportunity_id=opp.id, ip=None, now=late).owner_id == holder.id


def test_vip_customers_get_longer_and_expired_pool_items_leave_the_feed(worker, db_session, data_key, policy):
    policy(priority_window_minutes=0, max_open_claims=50, require_qualification=True)
    branch = factories.make_branch(db_session)
    originator = factories.make_user(db_session, branch=branch)
    holder = factories.make_user(db_session, branch=branch)
    t0 = utcnow()
    vip = create_opportunity(
        db_session, user=originator, data=factories.opportunity_data(tier="vip"), ip=None, now=t0
    )
    claim(db_session, user=holder, opportunity_id=vip.id, ip=None, now=t0)
    stale_pool = create_opportunity(
        db_session,
        user=originator,
        data=factories.opportunity_data(expected_date=(t0 + timedelta(days=2)).date()),
        ip=None,
        now=t0,
    )
    _sweep(worker, t0 + timedelta(days=6), "vip")
    db_session.expire_all()
    assert db_session.get(Opportunity, vip.id).status == "claimed"  # vip: 14 days
    assert db_session.get(Opportunity, stale_pool.id).status == "expired"
    assert db_session.exec(
        select(FeedEvent.kind).where(FeedEvent.opportunity_id == stale_pool.id).order_by(col(FeedEvent.seq))
    ).all() == ["shared", "withdrawn"]
    _sweep(worker, t0 + timedelta(days=14, minutes=1), "vip-late")
    db_session.expire_all()
    assert db_session.get(Opportunity, vip.id).status == "shared"


def test_sweep_is_booked_once_per_hour(worker):
    registry = queue(DEFAULT).scheduled_job_registry
    # Five past the hour, so ten minutes later is still the same hour whenever the test runs.
    at = (utcnow() + timedelta(days=3)).replace(minute=5, second=0, microsecond=0)
    first = schedule_sweep(after=at)
    second = schedule_sweep(after=at + timedelta(minutes=10))
    assert first == second and first in registry.get_job_ids()
    assert sum(1 for j in registry.get_job_ids() if j == first) == 1
    registry.remove(first, delete_job=True)
