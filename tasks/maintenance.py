"""Housekeeping jobs."""

from __future__ import annotations

from datetime import timedelta

from server.api import purge_idempotency_records
from tasks.context import app, job_session
from tasks.queues import LOW, job, job_logger

log = job_logger(__name__)


@job(queue_name=LOW, timeout=300)
def purge_expired_idempotency_keys() -> int:
    hours = app().config["SETTINGS"].IDEMPOTENCY_TTL_HOURS
    with job_session() as session:
        removed = purge_idempotency_records(session, older_than=timedelta(hours=hours))
    log.info("purged %d idempotency records", removed)
    return removed
