"""Opportunity pool jobs: the hourly recycle sweep (warn, recycle, expire). The sweep is idempotent
and each hour's run has a deterministic job id, so scheduling it twice schedules it once."""

from __future__ import annotations

from datetime import datetime, timedelta

from server.events import DomainEvent
from server.opportunities import recycling
from server.timeutil import as_utc, utcnow
from tasks.context import job_session
from tasks.queues import DEFAULT, job, job_logger, queue

log = job_logger(__name__)
SWEEP_EVERY = timedelta(hours=1)


def sweep_job_id(at: datetime) -> str:
    return f"opportunities-recycle-{as_utc(at):%Y%m%dT%H}"


@job(queue_name=DEFAULT, timeout=300)
def recycle_stale_opportunities(now_iso: str | None = None) -> dict[str, int]:
    """`now_iso` pins the clock (tests, replays); a scheduled run uses the real time and books the
    next hour's run."""
    now = as_utc(datetime.fromisoformat(now_iso)) if now_iso else utcnow()
    with job_session() as session:
        result = recycling.recycle_stale(session, now=now)
    log.info("recycle sweep at %s: %s", now.isoformat(), result)
    if now_iso is None:
        schedule_sweep(after=now)
    return result


def schedule_sweep(*, after: datetime | None = None) -> str:
    """Books the sweep at the top of the next hour under that hour's job id (re-booking the same
    hour overwrites the same job, never adds a second)."""
    base = as_utc(after or utcnow())
    at = base.replace(minute=0, second=0, microsecond=0) + SWEEP_EVERY
    job_id = sweep_job_id(at)
    if _scheduled(job_id):
        return job_id
    recycle_stale_opportunities.enqueue(job_id=job_id, at=at)
    return job_id


def _scheduled(job_id: str) -> bool:
    registry = queue(DEFAULT).scheduled_job_registry
    return registry.connection.zscore(registry.key, job_id) is not None


def on_claimed(event: DomainEvent) -> None:
    """A claim starts a recycle clock: make sure a sweep is booked."""
    if event.kind == "opportunity.claimed":
        schedule_sweep()
