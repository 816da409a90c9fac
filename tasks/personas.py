"""The monthly persona run: on the 1st of each month (after the ledger's nightly load) every RM is
classified from the month's figures and newcomers are paired with mentors. A chain that books its
next month under a deterministic job id; `heal()` in tasks/schedule.py books it again if Redis lost it.
An admin's new thresholds re-run the current month at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from server.conduct.runs import bank_today
from server.events import DomainEvent
from server.personas import service as personas
from server.personas.rules import CONFIG_NAME
from server.timeutil import utcnow
from tasks.context import job_session
from tasks.queues import LOW, job, job_logger, redis_conn

log = job_logger(__name__)

RUN_HOUR_UTC = 20  # 04:00 in China, the night after the ledger has the whole month
NEXT_RUN_KEY = "personas:monthly:next"


@job(queue_name=LOW, timeout=1800)
def run_monthly(chain: bool = False) -> dict:
    with job_session() as session:
        counts = personas.classify_all(session, as_of=bank_today())
    log.info("persona classification: %s", counts)
    if chain:
        schedule_monthly()
    return counts


def next_run(after: datetime) -> datetime:
    """20:00 UTC on the 1st of the next month (04:00 on the 2nd in China, after the 1st's ledger load)."""
    year, month = (after.year + 1, 1) if after.month == 12 else (after.year, after.month + 1)
    return after.replace(year=year, month=month, day=1, hour=RUN_HOUR_UTC, minute=0, second=0, microsecond=0)


def schedule_monthly(after: datetime | None = None) -> datetime:
    after = after or utcnow()
    this_month = after.replace(day=1, hour=RUN_HOUR_UTC, minute=0, second=0, microsecond=0)
    nxt = this_month if this_month > after else next_run(after)
    run_monthly.enqueue(True, job_id=f"personas-monthly-{nxt:%Y%m}", at=nxt)  # type: ignore[attr-defined]
    redis_conn().set(NEXT_RUN_KEY, nxt.isoformat(), ex=int((nxt - after + timedelta(days=2)).total_seconds()))
    return nxt


def ensure_monthly_scheduled() -> None:
    if redis_conn().get(NEXT_RUN_KEY) is None:
        schedule_monthly()


@job(queue_name=LOW, timeout=1800)
def rerun_current_month(version: int) -> dict:
    with job_session() as session:
        return personas.classify_all(session, as_of=bank_today())


def on_event(event: DomainEvent) -> None:
    """New thresholds re-classify this month (one job per threshold version)."""
    if event.kind == "workbench.config_changed" and event.payload.get("name") == CONFIG_NAME:
        version = int(event.payload.get("version") or 0)
        # RQ queues a re-used job id twice: a Redis mark makes it once per version.
        if redis_conn().set(f"personas:rerun:{version}", "1", nx=True, ex=86400):
            rerun_current_month.enqueue(version, job_id=f"personas-rerun-{version}")  # type: ignore[attr-defined]
