"""The periodic job chains (reminder scan, intel tick, nightly knowledge batch, pool recycle sweep,
monthly persona run)
and what keeps them alive.

Each chain books its own next run under a deterministic job id, so booking again, or from two
places at once, adds nothing. A chain can still break: Redis restarted without persistence loses
every booked job, and RQ's scheduler process dies when Redis goes away. So the worker
(tasks/worker.py) calls `heal()` when it starts and every CHAIN_HEAL_SECONDS: each missing chain is
booked again and a dead scheduler is started again, and a Redis blip costs at most about a minute.

`python -m tasks.schedule` (the Procfile's release step) books every chain once."""

from __future__ import annotations

import logging
from datetime import datetime

from redis.exceptions import RedisError

from server.timeutil import as_utc, utcnow
from tasks.context import app
from tasks.queues import DEFAULT, HIGH, LOW, queue, redis_conn
from tasks.queues import init_app as init_queues

log = logging.getLogger(__name__)


def chain_status(now: datetime | None = None) -> dict[str, bool]:
    """Whether each chain has its next run booked (scheduled, queued or running)."""
    from tasks import knowledge, personas, reminders

    now = as_utc(now or utcnow())

    def booked(queue_name: str, prefix: str) -> bool:
        q = queue(queue_name)
        ids = [
            *q.scheduled_job_registry.get_job_ids(),
            *q.get_job_ids(),
            *q.started_job_registry.get_job_ids(),
        ]
        return any(job_id.startswith(prefix) for job_id in ids)

    redis = redis_conn()
    marker = redis.get(reminders.NEXT_SCAN_KEY)
    return {
        "reminders": marker is not None and booked(HIGH, "reminder-scan-"),
        "intel": booked(LOW, "intel-tick-"),
        "knowledge": redis.get(knowledge.NEXT_NIGHTLY_KEY) is not None and booked(LOW, "knowledge-nightly-"),
        "opportunities": booked(DEFAULT, "opportunities-recycle-"),
        "personas": redis.get(personas.NEXT_RUN_KEY) is not None and booked(LOW, "personas-monthly-"),
    }


def heal(now: datetime | None = None) -> list[str]:
    """Books again every chain that is missing; returns their names. Never raises: a Redis that is
    still away is tried again at the next call."""
    from tasks import intel, knowledge, opportunities, personas, reminders

    try:
        status = chain_status(now)
        healed = []
        if not status["reminders"]:
            reminders.ensure_scan_scheduled(force=True)
            healed.append("reminders")
        if not status["intel"] and intel.schedule_next_tick(force=True) is not None:
            healed.append("intel")
        if not status["knowledge"]:
            knowledge.schedule_nightly()
            healed.append("knowledge")
        if not status["opportunities"]:
            opportunities.schedule_sweep()
            healed.append("opportunities")
        if not status["personas"]:
            personas.schedule_monthly()
            healed.append("personas")
    except RedisError as exc:
        log.warning("chains not checked: Redis unavailable (%s)", type(exc).__name__)
        return []
    if healed:
        log.warning("booked missing job chains again: %s", ", ".join(healed))
    return healed


def start_all() -> dict[str, str]:
    from tasks import (
        assistant,
        conduct,
        intel,
        knowledge,
        opportunities,
        personas,
        prospects,
        reminders,
        warrooms,
    )

    init_queues(app())
    started = {}
    reminders.ensure_scan_scheduled()
    started["reminders"] = "minute scan"
    started["intel"] = str(intel.schedule_next_tick())
    knowledge.ensure_nightly_scheduled()
    started["knowledge"] = "nightly batch"
    started["opportunities"] = opportunities.schedule_sweep()
    conduct.ensure_daily_scheduled()
    started["conduct"] = "daily run"
    started["prospects"] = prospects.schedule_sweep()
    assistant.ensure_nightly_scheduled()
    started["assistant"] = "nightly recommender retrain"
    started["warrooms"] = warrooms.schedule_daily_summaries()
    personas.ensure_monthly_scheduled()
    started["personas"] = "monthly classification and mentor pairing"
    return started


if __name__ == "__main__":
    for chain, detail in start_all().items():
        print(f"schedule {chain}: {detail}")
