"""Failed intel jobs for the admin: RQ's FailedJobRegistry read directly (server/ does not import
tasks/; the queue names are the ones tasks/queues.py declares)."""

from __future__ import annotations

from typing import Any

from redis import Redis
from rq import Queue
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry

from server.timeutil import iso

QUEUE_NAMES = ("high", "default", "low")
PREFIX = "tasks.intel."


def _registries(redis: Redis):
    for name in QUEUE_NAMES:
        yield FailedJobRegistry(queue=Queue(name, connection=redis))


def _error(job: Job) -> str | None:
    result = job.latest_result()
    text = result.exc_string if result is not None else None
    if not text:
        return None
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return (lines[-1] if lines else text)[:500]


def failed_jobs(redis: Redis, *, limit: int = 100) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for registry in _registries(redis):
        ids = registry.get_job_ids(0, 500)
        for job in Job.fetch_many(ids, connection=redis):
            if job is None:
                continue
            try:
                func = job.func_name or "?"
            except Exception:  # an undecodable job is still listed, so it can be seen
                func = "?"
            if not func.startswith(PREFIX):
                continue
            out.append(
                {
                    "id": job.id,
                    "queue": registry.name,
                    "func": func.removeprefix(PREFIX),
                    "args": [a if isinstance(a, int | str | float) else str(a) for a in job.args],
                    "error": _error(job),
                    "failed_at": iso(job.ended_at) if job.ended_at else None,
                }
            )
            if len(out) >= limit:
                return out
    return out


def retry(redis: Redis, job_id: str) -> bool:
    for registry in _registries(redis):
        if job_id in registry:
            try:
                job = Job.fetch(job_id, connection=redis)
                if not (job.func_name or "").startswith(PREFIX):
                    return False
                registry.requeue(job_id)
                return True
            except (NoSuchJobError, InvalidJobOperation):
                return False
    return False
