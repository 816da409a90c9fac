"""An opportunity's history (one `opportunity_transition` row per lifecycle step) and the inbox
notices that tell the people concerned."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from server.db import row_id
from server.inbox import service as inbox
from server.opportunities.models import Opportunity, OpportunityTransition


def record_transition(
    session: Session,
    *,
    opportunity_id: int,
    from_status: str | None,
    to_status: str,
    actor_id: int | None,
    reason: str | None,
    now: datetime,
) -> None:
    """One row of an opportunity's history. Callers whose status moved in a guarded UPDATE (claim,
    reassign, recycle) say the status it moved from; `transition` moves it here."""
    session.add(
        OpportunityTransition(
            opportunity_id=opportunity_id,
            actor_id=actor_id,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            at=now,
        )
    )


def transition(
    session: Session, *, opp: Opportunity, to: str, actor_id: int | None, reason: str | None, now: datetime
) -> None:
    record_transition(
        session,
        opportunity_id=row_id(opp),
        from_status=opp.status,
        to_status=to,
        actor_id=actor_id,
        reason=reason,
        now=now,
    )
    opp.status = to


def notify(
    session: Session,
    *,
    user_id: int | None,
    title: str,
    body: str,
    opp_id: int,
    key: str,
    urgency: str = "normal",
) -> None:
    """An inbox notification (the inbox sends it on to sockets and push after commit). The source
    key makes it once-only, so a job that runs twice warns once."""
    if not user_id:
        return
    inbox.notify(
        session,
        user_id=user_id,
        kind="opportunity",
        title=title,
        body=body,
        url=f"/opportunities/{opp_id}",
        source_key=f"opportunity:{opp_id}:{user_id}:{key}",
        urgency=urgency,
    )
