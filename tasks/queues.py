"""Named queues and the one job decorator: explicit timeouts, TTLs and retries on every job, and a
logger that tags each line with the job id."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, ParamSpec, Protocol, TypeVar, cast

from redis import Redis
from rq import Queue, Retry, get_current_job
from rq.job import Job as RqJob

from server.config import load_settings
from server.redis_client import client_from_url

HIGH = "high"  # pushes, live notifications
DEFAULT = "default"
LOW = "low"  # batch scoring, imports, intel polling
QUEUES = (HIGH, DEFAULT, LOW)

P = ParamSpec("P")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)

_redis: Redis | None = None
_redis_url: str | None = None


def init_app(app) -> None:
    global _redis_url, _redis
    _redis_url = app.config["SETTINGS"].REDIS_URL
    _redis = None


def redis_conn() -> Redis:
    global _redis
    if _redis is None:
        _redis = client_from_url(_redis_url or load_settings().REDIS_URL)
    return _redis


def queue(name: str = DEFAULT) -> Queue:
    return Queue(name, connection=redis_conn())


class JobLogAdapter(logging.LoggerAdapter):
    def process(self, msg, kwargs):
        job = get_current_job()
        return f"[job {job.id if job else '-'}] {msg}", kwargs


def job_logger(name: str) -> JobLogAdapter:
    return JobLogAdapter(logging.getLogger(name), {})


class Job(Protocol[P, R_co]):
    """A job function: called directly it runs in the caller; `.enqueue(...)` queues it with the
    explicit settings every job must have. It stays a plain module-level function, so RQ (and a
    test that enqueues it by hand) finds it by its import path."""

    __name__: str

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...

    def enqueue(
        self, *args: Any, job_id: str | None = None, at: datetime | None = None, **kwargs: Any
    ) -> RqJob:
        """Queues the job (at `at`, when given). A deterministic `job_id` prevents duplicates."""
        ...


def job(
    *,
    queue_name: str = DEFAULT,
    timeout: int = 60,
    result_ttl: int = 3600,
    failure_ttl: int = 7 * 86400,
    retry: Retry | None = None,
) -> Callable[[Callable[P, R]], Job[P, R]]:
    """Marks a job function and gives it `.enqueue(*args, job_id=..., at=..., **kwargs)` with the
    explicit settings every job must have. A deterministic `job_id` prevents duplicates."""

    def decorator(func: Callable[P, R]) -> Job[P, R]:
        @functools.wraps(func)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            return func(*args, **kwargs)

        def enqueue(
            *args: Any, job_id: str | None = None, at: datetime | None = None, **kwargs: Any
        ) -> RqJob:
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

        run.__dict__["enqueue"] = enqueue
        return cast(Job[P, R], run)

    return decorator
