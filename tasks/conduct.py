"""Conduct jobs: the daily run over every RM (a chain that books its next night), the near-real-time
refresh of the audit-log rules after a watched action, and the departing-RM check."""

from __future__ import annotations

from datetime import datetime, timedelta

from server.audit.service import REALTIME_ACTIONS
from server.conduct import departing, runs
from server.events import DomainEvent
from server.timeutil import utcnow
from tasks.context import job_session
from tasks.queues import DEFAULT, LOW, job, job_logger, redis_conn

log = job_logger(__name__)

DAILY_HOUR_UTC = 19  # 03:00 in China, after the ledger's nightly load
NEXT_DAILY_KEY = "conduct:daily:next"
PENDING_KEY = "conduct:rt:pending:{rm_id}"


@job(queue_name=LOW, timeout=1800)
def run_daily(chain: bool = False) -> dict:
    with job_session() as session:
        run = runs.run_daily(session)
        result = {"run_id": run.id, "rms": run.rm_count, "flagged": run.flagged, "elapsed_ms": run.elapsed_ms}
    log.info("conduct daily run: %s", result)
    if chain:
        schedule_daily()
    return result


@job(queue_name=DEFAULT, timeout=120, result_ttl=0)
def refresh_rm(rm_id: int) -> float | None:
    # Clear the pending mark first: an event after this point books a new refresh.
    redis_conn().delete(PENDING_KEY.format(rm_id=rm_id))
    with job_session() as session:
        row = runs.refresh_audit_rules(session, rm_id=rm_id)
        return row.score if row else None


@job(queue_name=DEFAULT, timeout=600)
def departing_check(check_id: int) -> None:
    with job_session() as session:
        departing.run_departing_check(session, check_id=check_id)


def schedule_daily(after: datetime | None = None) -> datetime:
    after = after or utcnow()
    nxt = after.replace(hour=DAILY_HOUR_UTC, minute=0, second=0, microsecond=0)
    if nxt <= after:
        nxt += timedelta(days=1)
    run_daily.enqueue(True, job_id=f"conduct-daily-{nxt:%Y%m%d}", at=nxt)  # type: ignore[attr-defined]
    redis_conn().set(NEXT_DAILY_KEY, nxt.isoformat(), ex=2 * 86400)
    return nxt


def ensure_daily_scheduled() -> None:
    if redis_conn().get(NEXT_DAILY_KEY) is None:
        schedule_daily()


def on_event(event: DomainEvent) -> None:
    """A watched audit action books one refresh of its actor (deterministic id; a refresh already
    pending covers later events, since it reads the log when it runs)."""
    if event.kind == "audit.recorded" and event.payload.get("action") in REALTIME_ACTIONS:
        ensure_daily_scheduled()  # the daily chain heals itself if Redis lost it
        rm_id = event.payload.get("actor_id")
        if not rm_id:
            return
        if redis_conn().set(PENDING_KEY.format(rm_id=rm_id), "1", nx=True, ex=300):
            refresh_rm.enqueue(int(rm_id), job_id=f"conduct-rt-{rm_id}")  # type: ignore[attr-defined]
    elif event.kind == "conduct.departing_check":
        check_id = int(event.payload["check_id"])
        departing_check.enqueue(check_id, job_id=f"conduct-departing-{check_id}")  # type: ignore[attr-defined]
