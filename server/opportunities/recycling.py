"""Recycling, run by the scheduled job: warn a holder before a claim goes stale, return stale claims
to the pool, expire pooled opportunities past their expected date."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from server.audit import service as audit
from server.db import row_id
from server.opportunities.cards import summaries
from server.opportunities.claims import revoke_grants
from server.opportunities.feed import feed_event
from server.opportunities.history import notify, record_transition
from server.opportunities.models import Opportunity, default_recycle_days
from server.opportunities.models import OpportunityStatus as S
from server.opportunities.policy import OPEN, get_policy
from server.timeutil import as_utc, utcnow


def recycle_stale(session: Session, *, now: datetime | None = None) -> dict[str, int]:
    """Warn holders a day before their claim goes stale, return stale claims to the pool, expire
    pooled opportunities past their expected date. Set-based per customer tier, and idempotent:
    a second run at the same `now` finds nothing more to do."""
    now = as_utc(now or utcnow())
    policy = get_policy(session)
    days_by_tier = {**default_recycle_days(), **(policy.recycle_days or {})}
    warned = recycled = 0
    open_status = col(Opportunity.status).in_(OPEN)
    for tier, days in days_by_tier.items():
        cutoff = now - timedelta(days=days)
        tier_cond = (
            col(Opportunity.tier) == tier
            if tier != "mass"
            else or_(col(Opportunity.tier) == tier, col(Opportunity.tier).not_in(list(days_by_tier)))
        )
        # 1. the owner's warning, once per quiet spell
        warn_rows = session.execute(
            update(Opportunity)
            .where(
                open_status,
                tier_cond,
                col(Opportunity.last_activity_at) <= cutoff + timedelta(days=1),
                col(Opportunity.last_activity_at) > cutoff,
                col(Opportunity.recycle_warned_at).is_(None),
            )
            .values(recycle_warned_at=now)
            .returning(
                col(Opportunity.id),
                col(Opportunity.owner_id),
                col(Opportunity.title),
                col(Opportunity.last_activity_at),
            )
            .execution_options(synchronize_session=False)
        ).all()
        for opp_id, owner_id, title, last in warn_rows:
            due = as_utc(last) + timedelta(days=days)
            notify(
                session,
                user_id=owner_id,
                title="商机即将被回收",
                body=f"「{title}」已{days - 1}天没有跟进记录，将于{due.strftime('%m-%d %H:%M')}(UTC)退回商机池。",
                opp_id=opp_id,
                key=f"recycle-warn:{as_utc(last).isoformat()}",
                urgency="high",
            )
        warned += len(warn_rows)
        # 2. stale claims back to the pool
        stale = session.exec(
            select(Opportunity).where(open_status, tier_cond, col(Opportunity.last_activity_at) <= cutoff)
        ).all()
        if not stale:
            continue
        previous = {o.id: (o.owner_id, o.status) for o in stale}
        done_ids = [
            row[0]
            for row in session.execute(
                update(Opportunity)
                .where(
                    col(Opportunity.id).in_(list(previous)),
                    open_status,
                    col(Opportunity.last_activity_at) <= cutoff,
                )
                .values(
                    status=S.shared,
                    owner_id=None,
                    shared_at=now,
                    claimed_at=None,
                    last_activity_at=None,
                    recycle_warned_at=None,
                    originator_share_bp=None,
                    closer_share_bp=None,
                    recycle_count=Opportunity.recycle_count + 1,
                    version=Opportunity.version + 1,
                    updated_at=now,
                )
                .returning(col(Opportunity.id))
                .execution_options(synchronize_session=False)
            ).all()
        ]
        if not done_ids:
            continue
        for opp_id in done_ids:
            owner_id, from_status = previous[opp_id]
            record_transition(
                session,
                opportunity_id=opp_id,
                from_status=from_status,
                to_status=S.recycled,
                actor_id=None,
                reason=f"no activity for {days} days",
                now=now,
            )
            record_transition(
                session,
                opportunity_id=opp_id,
                from_status=S.recycled,
                to_status=S.shared,
                actor_id=None,
                reason="back to the pool",
                now=now,
            )
            audit.record(
                session,
                actor_id=None,
                action="opportunity.recycle",
                object_type="opportunity",
                object_id=opp_id,
                detail={"from_rm_id": owner_id, "days": days},
            )
        revoke_grants(session, opportunity_ids=done_ids, reason="recycled", actor_id=None, now=now)
        fresh = session.exec(
            select(Opportunity)
            .where(col(Opportunity.id).in_(done_ids))
            .execution_options(populate_existing=True)
        ).all()
        cards = {c["id"]: c for c in summaries(session, list(fresh), policy=policy)}
        for opp in fresh:
            owner_id = previous[opp.id][0]
            feed_event(
                session,
                opp=opp,
                kind="recycled",
                actor=None,
                now=now,
                previous_owner_id=owner_id,
                card=cards[opp.id],
            )
            for uid, title in (
                (owner_id, "商机已退回商机池"),
                (opp.originator_id, "你共享的商机已回收再共享"),
            ):
                notify(
                    session,
                    user_id=uid,
                    title=title,
                    body=opp.title,
                    opp_id=row_id(opp),
                    key=f"recycled:{now.isoformat()}",
                )
        recycled += len(done_ids)
    expired = _expire(session, now=now)
    session.commit()
    return {"warned": warned, "recycled": recycled, "expired": expired}


def _expire(session: Session, *, now: datetime) -> int:
    rows = session.execute(
        update(Opportunity)
        .where(col(Opportunity.status) == S.shared, col(Opportunity.expected_date) < now.date())
        .values(status=S.expired, updated_at=now, version=Opportunity.version + 1)
        .returning(col(Opportunity.id))
        .execution_options(synchronize_session=False)
    ).all()
    ids = [r[0] for r in rows]
    if not ids:
        return 0
    opps = session.exec(
        select(Opportunity).where(col(Opportunity.id).in_(ids)).execution_options(populate_existing=True)
    ).all()
    cards = {c["id"]: c for c in summaries(session, list(opps))}
    for opp in opps:
        record_transition(
            session,
            opportunity_id=row_id(opp),
            from_status=S.shared,
            to_status=S.expired,
            actor_id=None,
            reason="past the expected date",
            now=now,
        )
        feed_event(session, opp=opp, kind="withdrawn", actor=None, now=now, card=cards[opp.id])
    return len(ids)
