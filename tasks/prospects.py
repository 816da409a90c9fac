"""Prospect jobs: train a lookalike version, load an uploaded registry extract, record conversions,
and the daily sweep that ends lapsed claims. Each takes ids, is safe to run twice, and has a
deterministic job id so a double request queues one job."""

from __future__ import annotations

from datetime import timedelta

from rq import Retry, get_current_job

from server.events import DomainEvent
from server.prospects import claims, conversions, imports, loading, training, versions
from server.timeutil import utcnow
from tasks.context import job_session
from tasks.queues import LOW, job, job_logger, queue

log = job_logger(__name__)


@job(
    queue_name=LOW,
    timeout=1800,
    result_ttl=86400,
    failure_ttl=7 * 86400,
    retry=Retry(max=2, interval=[30, 300]),
)
def train_model(model_id: int) -> dict:
    with job_session() as session:
        conversions.record_conversions(session)
        result = training.run_training(session, model_id=model_id)
    log.info("prospect model %s: %s", model_id, result)
    return result


@job(
    queue_name=LOW,
    timeout=1800,
    result_ttl=86400,
    failure_ttl=7 * 86400,
    retry=Retry(max=3, interval=[10, 60, 300]),
)
def load_import(import_id: int) -> dict:
    """Loads an uploaded file, or fetches a JSON source first (a transient fetch failure raises for
    the retry; the last attempt fails the import instead, so it never stays queued)."""
    current = get_current_job()
    final_attempt = current is None or not current.retries_left
    with job_session() as session:
        result = loading.run_import(session, import_id=import_id, final_attempt=final_attempt)
    log.info("prospect import %s: %s", import_id, {k: v for k, v in result.items() if k != "errors"})
    return result


@job(
    queue_name=LOW,
    timeout=300,
    result_ttl=3600,
    failure_ttl=7 * 86400,
    retry=Retry(max=3, interval=[10, 60, 300]),
)
def record_conversions() -> int:
    with job_session() as session:
        return conversions.record_conversions(session)


@job(queue_name=LOW, timeout=300, result_ttl=3600, failure_ttl=7 * 86400)
def expire_claims(scheduled: bool = True) -> int:
    """Ends lapsed claims (the list already treats them as free) and books the next hour's run."""
    with job_session() as session:
        ended = claims.expire_claims(session)
    if scheduled:
        schedule_sweep()
    return ended


def schedule_sweep() -> str:
    at = utcnow().replace(minute=5, second=0, microsecond=0) + timedelta(hours=1)
    job_id = f"prospects-expire-{at:%Y%m%dT%H}"
    registry = queue(LOW).scheduled_job_registry
    if registry.connection.zscore(registry.key, job_id) is None:
        expire_claims.enqueue(job_id=job_id, at=at)  # type: ignore[attr-defined]
    return job_id


def on_event(event: DomainEvent) -> None:
    if event.kind == versions.EVENT_TRAIN:
        model_id = int(event.payload["model_id"])
        train_model.enqueue(model_id, job_id=f"prospects-train-{model_id}")  # type: ignore[attr-defined]
    elif event.kind == imports.EVENT_IMPORT:
        import_id = int(event.payload["import_id"])
        load_import.enqueue(import_id, job_id=f"prospects-import-{import_id}")  # type: ignore[attr-defined]
    elif event.kind == "customer.changed":
        record_conversions.enqueue()  # type: ignore[attr-defined]
