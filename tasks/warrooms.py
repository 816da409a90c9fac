"""War room jobs: the bank's systems post into a room (an intel alert, a reminder). The message is
stored and sequenced like any other; the realtime sink emits it after commit through the Redis
message queue, so it reaches sockets on every web process."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from rq import Retry

from server.timeutil import utcnow
from server.warrooms import chat, funnel
from tasks.context import job_session
from tasks.queues import DEFAULT, HIGH, job, job_logger

log = job_logger(__name__)


@job(queue_name=HIGH, timeout=30, result_ttl=3600)
def post_system_message(room_id: int, text: str, client_id: str | None = None) -> int:
    """Posts `text` into the room; returns its seq. Idempotent: a client_id (e.g. the alert's key)
    makes a retried job return the first message instead of posting twice."""
    with job_session() as session:
        event, created = chat.post_system_message(session, room_id=room_id, text=text, client_id=client_id)
    log.info("room %s: system message seq %s (%s)", room_id, event["seq"], "new" if created else "replayed")
    return event["seq"]


SUMMARY_HOUR_LOCAL = 18  # the campaign board of the day, posted at 18:00 bank time (10:00 UTC)


@job(queue_name=DEFAULT, timeout=300, result_ttl=86400, retry=Retry(max=3, interval=[30, 120, 600]))
def post_daily_summaries(day_iso: str | None = None, chain: bool = False) -> int:
    """Posts each active campaign room's board of the day in its timeline. Idempotent per room per
    day (the day is the event's client id), so a retried or doubled run posts nothing twice."""
    with job_session() as session:
        day = date.fromisoformat(day_iso) if day_iso else funnel.room_day()
        room_ids = funnel.rooms_for_summary(session)
    posted = 0
    for room_id in room_ids:
        with job_session() as session:
            if funnel.post_daily_summary(session, room_id=room_id, day=day) is not None:
                posted += 1
    log.info("daily campaign summaries for %s: %s rooms", day, posted)
    if chain:
        schedule_daily_summaries()
    return posted


def schedule_daily_summaries(after: datetime | None = None) -> str:
    """Books the next run (a chain: each run books the next) under a job id per day."""
    after = after or utcnow()
    local = after.astimezone(funnel.BANK_ZONE)
    nxt = local.replace(hour=SUMMARY_HOUR_LOCAL, minute=0, second=0, microsecond=0)
    if nxt <= local:
        nxt += timedelta(days=1)
    job_id = f"warroom-daily-summary-{nxt:%Y%m%d}"
    post_daily_summaries.enqueue(nxt.date().isoformat(), True, job_id=job_id, at=nxt.astimezone(UTC))  # type: ignore[attr-defined]
    return job_id
