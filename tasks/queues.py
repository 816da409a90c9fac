"""Named queues and the one job decorator: explicit timeouts, TTLs and retries on every job, and a
logger that tags each line with the job id."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from redis import Redis
from rq import Queue, Retry, get_current_job

from server.config import load_settings

HIGH = "high"  # pushes, live notifications
DEFAULT = "default"
LOW = "low"  # batch scoring, imports, intel polling
QUEUES = (HIGH, DEFAULT, LOW)

_redis: Redis | None = None
_redis_url: str | None = None


def init_app(app) -> None:
    global _redis_url, _redis
    _redis_url = app.config["SETTINGS"].REDIS_URL
    _redis = None


def redis_conn() -> Redis:
    global _redis
    if _redis is None:
        _redis = Redis.from_url(_redis_url or load_settings().REDIS_URL)
    return _redis


def queue(name: str = DEFAULT) -> Queue:
    return Queue(name, connection=redis_conn())


class JobLogAdapter(logging.LoggerAdapter):
    def process(self, msg, kwargs):
        job = get_current_job()
        return f"[job {job.id if job else '-'}] {msg}", kwargs


def job_logger(name: str) -> JobLogAdapter:
    return JobLogAdapter(logging.getLogger(name), {})


def job(
    *,
    queue_name: str = DEFAULT,
    timeout: int = 60,
    result_ttl: int = 3600,
    failure_ttl: int = 7 * 86400,
    retry: Retry | None = None,
) -> Callable:
    """Marks a job function and gives it `.enqueue(*args, job_id=..., **kwargs)` with the explicit
    settings every job must have. A deterministic `job_id` prevents duplicates."""

    def decorator(func: Callable) -> Callable:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

        def enqueue(*args: Any, job_id: str | None = None, at=None, **kwargs: Any):
            q = queue(queue_name)
            options = dict(
                job_timeout=timeout,
                result_ttl=result_ttl,
                failure_ttl=failure_ttl,
                retry=retry or Retry(max=3, interval=[10, 60, 300]),
                job_id=job_id,
            )
            if at is not None:
                return q.enqueue_at(at, run, *args, **options, **kwargs)
            return q.enqueue(run, *args, **options, **kwargs)

        run.enqueue = enqueue  # type: ignore[attr-defined]
        return run

    return decorator
