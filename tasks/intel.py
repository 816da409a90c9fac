"""Intel jobs: poll a source (fetch → parse → store → match → notify), match pending items, and the
once-a-minute tick that enqueues due polls.

No duplicate polls when two schedulers tick: every poll has the job id `intel-poll-<source>-<slot>`
(slot = the poll interval the tick falls in) and is enqueued only by whoever wins `SET NX` on that id
in Redis. A second guard is the per-source conditional UPDATE in `sources.claim_fetch`.

Start ticking once per deployment with `python -m tasks.intel start` (idempotent: a tick already
scheduled for the next minute is not doubled); the worker must run `--with-scheduler`."""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta

from rq import Retry, get_current_job
from sqlmodel import col, select

from server.db import row_id
from server.events import DomainEvent
from server.intel import pipeline, sources
from server.intel.fetch import FetchError, fetch
from server.intel.matching import current_index
from server.intel.models import IntelSource, SourceKind
from server.intel.parsing import ParseError, parse
from server.outbound import policy_for
from server.timeutil import as_utc, utcnow
from tasks.context import app, job_session
from tasks.queues import LOW, job, job_logger, redis_conn

log = job_logger(__name__)

POLL_RETRY = Retry(max=3, interval=[60, 300, 900])
TICK_SECONDS = 60


def _is_retry() -> bool:
    current = get_current_job()
    return bool(current and current.retries_left is not None and current.retries_left < POLL_RETRY.max)


@job(queue_name=LOW, timeout=300, result_ttl=3600, failure_ttl=7 * 86400, retry=POLL_RETRY)
def poll_source(source_id: int, force: bool = False) -> dict:
    """Fetch one source and turn what is new into alerts. Transient fetch errors raise (RQ retries
    with backoff, then the job waits in the failed registry for an admin); everything else wrong with
    a source is recorded on it and the job ends normally."""
    with job_session() as session:
        # A retry is already spaced by its backoff, so the rate limit does not hold it back.
        if not sources.claim_fetch(session, source_id=source_id, force=force or _is_retry()):
            log.info("source %s skipped (disabled or fetched recently)", source_id)
            return {"skipped": True}
        source = session.get(IntelSource, source_id)
        if source is None or source.kind not in (SourceKind.feed, SourceKind.json) or not source.url:
            return {"skipped": True}  # uploads and manual sources are never fetched
        try:
            fetched = fetch(
                source.url,
                etag=source.etag,
                last_modified=source.last_modified,
                policy=policy_for(app().config["SETTINGS"]),
            )
        except FetchError as exc:
            sources.record_error(
                session, source_id=source_id, stage="fetch", code=exc.code, message=exc.message
            )
            if exc.transient:
                raise
            return {"error": exc.code}
        if fetched.status == 304:
            sources.fetched_ok(
                session, source_id=source_id, etag=fetched.etag, last_modified=fetched.last_modified
            )
            return {"not_modified": True}
        try:
            entries = parse(
                source.kind, fetched.body, content_type=fetched.content_type, mapping=source.mapping
            )
        except ParseError as exc:
            sources.record_error(
                session, source_id=source_id, stage="parse", code=exc.code, message=exc.message
            )
            return {"error": exc.code}
        except Exception as exc:  # a parser bug must not take the worker down: record and move on
            log.exception("parser crashed on source %s", source_id)
            sources.record_error(
                session,
                source_id=source_id,
                stage="parse",
                code="crash",
                message=f"{type(exc).__name__}: {exc}",
            )
            return {"error": "crash"}
        created = pipeline.ingest(session, source=source, entries=entries)
        matched = pipeline.match_pending(session, index=current_index(session), limit=10_000)
        # Validators are saved last: a worker killed before here fetches the whole body again.
        sources.fetched_ok(
            session, source_id=source_id, etag=fetched.etag, last_modified=fetched.last_modified
        )
        log.info("source %s: %d entries, %d new, matched %s", source_id, len(entries), created, matched)
        return {"entries": len(entries), "new": created, **matched}


@job(
    queue_name=LOW,
    timeout=600,
    result_ttl=3600,
    failure_ttl=7 * 86400,
    retry=Retry(max=3, interval=[10, 60, 300]),
)
def match_pending() -> dict:
    with job_session() as session:
        result = pipeline.match_pending(session, index=current_index(session), limit=10_000)
    log.info("matched %s", result)
    return result


def _claim(job_id: str, ttl_seconds: int) -> bool:
    return bool(redis_conn().set(f"zhanye:claim:{job_id}", 1, nx=True, ex=max(60, ttl_seconds)))


def enqueue_poll(source_id: int, poll_minutes: int, now: datetime, *, force: bool = False):
    """Enqueues this slot's poll unless someone already did; returns the job or None."""
    slot = int(now.timestamp() // (poll_minutes * 60)) if not force else f"now{int(now.timestamp())}"
    job_id = f"intel-poll-{source_id}-{slot}"
    if not _claim(job_id, poll_minutes * 60 * 2):
        return None
    return poll_source.enqueue(source_id, force, job_id=job_id)


def schedule_due_polls(now: datetime | None = None) -> list[str]:
    now = now or utcnow()
    with job_session() as session:
        sources = session.exec(
            select(IntelSource).where(
                col(IntelSource.enabled).is_(True),
                col(IntelSource.kind).in_((SourceKind.feed, SourceKind.json)),
            )
        ).all()
        due = [
            (row_id(s), s.poll_minutes)
            for s in sources
            if s.last_fetch_at is None or as_utc(s.last_fetch_at) + timedelta(minutes=s.poll_minutes) <= now
        ]
    queued = []
    for source_id, minutes in due:
        enqueued = enqueue_poll(source_id, minutes, now)
        if enqueued is not None:
            queued.append(enqueued.id)
    return queued


@job(queue_name=LOW, timeout=60, result_ttl=600, failure_ttl=86400, retry=Retry(max=1, interval=[10]))
def tick() -> list[str]:
    """Enqueues due polls, then schedules the next tick (one per minute, however many ticked)."""
    try:
        return schedule_due_polls()
    finally:
        schedule_next_tick()


def schedule_next_tick(now: datetime | None = None, *, force: bool = False):
    """Books the next minute's tick once (a claim in Redis); `force` books it although claimed
    (tasks/schedule.heal found no tick booked: the claimed one was lost)."""
    now = now or utcnow()
    minute = int(now.timestamp() // TICK_SECONDS) + 1
    job_id = f"intel-tick-{minute}"
    if not _claim(job_id, TICK_SECONDS * 5) and not force:
        return None
    at = datetime.fromtimestamp(minute * TICK_SECONDS, tz=now.tzinfo)
    return tick.enqueue(job_id=job_id, at=at)


def sink(event: DomainEvent) -> None:
    """Domain events from server/intel/sources.py and pipeline.py that start work."""
    if event.kind == sources.EVENT_POLL:
        payload = event.payload
        enqueue_poll(int(payload["source_id"]), int(payload.get("poll_minutes") or 30), utcnow(), force=True)
    elif event.kind == pipeline.EVENT_INGESTED:
        match_pending.enqueue(job_id=f"intel-match-{time.time_ns()}")


if __name__ == "__main__" and sys.argv[1:] == ["start"]:
    # Import the module by its name: jobs enqueued from `__main__` would name `__main__.tick`.
    from tasks import intel
    from tasks.context import app
    from tasks.queues import init_app

    init_app(app())
    print("next tick:", intel.schedule_next_tick())
