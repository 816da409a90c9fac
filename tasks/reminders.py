"""Reminder and notification jobs: the minute scan that fires due reminders (why a scan and not
one job per reminder: see server/notebook/reminders.py), the hourly generation of reminders from
bank data, and batch delivery (live socket, then channels) with retries scheduled on RQ.

Every job takes an optional ISO `now`, so tests drive a controlled clock."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timedelta

from redis.exceptions import RedisError
from rq import Retry
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, func, select

from realtime.emit import emit
from realtime.names import INBOX, user_room
from server.db import row_id
from server.inbox import service as inbox
from server.inbox.models import Notification
from server.notebook import reminders
from server.push import delivery
from server.timeutil import as_utc, utcnow
from tasks.context import app, job_session
from tasks.queues import DEFAULT, HIGH, job, job_logger, queue, redis_conn

log = job_logger(__name__)

DELIVERY_BATCH = 1000  # notifications per delivery job: one job, many pushes
NEXT_SCAN_KEY = "reminders:next-scan"
# Pauses before trying a failed hand-off to the queue again (2 s in all): long enough for a Sentinel
# failover's last moments ("no master found" while it finishes the switch), short enough for the
# request that stored the notifications to wait.
HANDOFF_RETRY_DELAYS_S = (0.1, 0.3, 0.6, 1.0)


def _at(now: str | None) -> datetime:
    return as_utc(datetime.fromisoformat(now.replace("Z", "+00:00"))) if now else utcnow()


def _chunks(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _ids_key(ids: list[int]) -> str:
    return hashlib.sha1(",".join(map(str, ids)).encode()).hexdigest()[:16]


@job(queue_name=HIGH, timeout=600, retry=Retry(max=2, interval=[5, 30]))
def scan_reminders(now: str | None = None, chain: bool = True) -> dict:
    """Fires what is due and hands the new notifications to delivery jobs; hands out again the
    deliveries whose hand-off failed (see inbox.redispatch_stalled). With `chain`, books the next
    scan for the next minute (a deterministic job id: two chains collapse into one)."""
    at = _at(now)
    started = time.perf_counter()
    with job_session() as session:
        result = reminders.fire_due(session, now=at)
        stalled = inbox.redispatch_stalled(session, now=at)
    queued = dispatch_deliveries(result.notification_ids, now=at)
    if stalled:
        token, ids = stalled
        log.warning("handing out %d stalled deliveries again (%s)", len(ids), token)
        queued += dispatch_deliveries(ids, dispatch_token=token, now=at)
    if result.fired or result.deferred:
        log.info(
            "fired %d (late %d), deferred %d in %.2f s",
            result.fired,
            result.late,
            result.deferred,
            time.perf_counter() - started,
        )
    if chain and now is None:
        schedule_next_scan(at)
    return {
        "fired": result.fired,
        "late": result.late,
        "deferred": result.deferred,
        "redispatched": len(stalled[1]) if stalled else 0,
        "queued": queued,
    }


def dispatch_deliveries(
    notification_ids: list[int], *, dispatch_token: str | None = None, now: datetime | None = None
) -> int:
    """Queues delivery jobs of DELIVERY_BATCH. A Redis failure here loses nothing: each hand-off is
    tried again for a moment (a Sentinel names the new primary a moment after promoting it), and a
    batch that still cannot be queued is handed back (inbox.hand_back), so the next minute scan
    hands it out once Redis answers. Returns how many were queued."""
    queued = 0
    handed_at = now or utcnow()
    for chunk in _chunks(notification_ids, DELIVERY_BATCH):
        if _queue_delivery(chunk, dispatch_token):
            queued += len(chunk)
            continue
        try:
            with job_session() as session:
                inbox.hand_back(
                    session, notification_ids=chunk, dispatch_token=dispatch_token, handed_at=handed_at
                )
        except SQLAlchemyError as exc:  # still stored with its hand-off time: the lease covers it
            log.warning("could not hand back %d deliveries (%s)", len(chunk), exc)
    return queued


def _queue_delivery(chunk: list[int], dispatch_token: str | None) -> bool:
    failure: RedisError | None = None
    for pause in (0.0, *HANDOFF_RETRY_DELAYS_S):
        time.sleep(pause)
        try:
            deliver_notifications.enqueue(
                chunk,
                dispatch_token=dispatch_token,
                job_id=f"deliver-{dispatch_token or 'first'}-{_ids_key(chunk)}",
            )
            return True
        except RedisError as exc:
            failure = exc
    log.warning("could not queue %d deliveries (%s); the next scan hands them out", len(chunk), failure)
    return False


def schedule_next_scan(after: datetime | None = None) -> None:
    """Keeps the minute chain going; on the hour it also books the generation of reminders from
    bank data. Jobs booked with `enqueue_at` wait in Redis, so after worker downtime the scheduler
    runs the overdue scan at once and everything missed fires (late)."""
    after = after or utcnow()
    nxt = (after + timedelta(minutes=1)).replace(second=0, microsecond=0)
    scan_reminders.enqueue(job_id=f"reminder-scan-{nxt:%Y%m%d%H%M}", at=nxt)
    redis_conn().set(NEXT_SCAN_KEY, nxt.isoformat(), ex=600)
    if nxt.minute == 0:
        generate_reminders.enqueue(job_id=f"reminder-generate-{nxt:%Y%m%d%H}", at=nxt)


def ensure_scan_scheduled(*, force: bool = False) -> None:
    """Starts the chain if it is not running (first note ever, Redis flushed, chain broken); with
    `force` (tasks/schedule.heal found no scan booked) whatever the marker says."""
    if force or redis_conn().get(NEXT_SCAN_KEY) is None:
        scan_reminders.enqueue(job_id=f"reminder-scan-{utcnow():%Y%m%d%H%M}-start")
        redis_conn().set(NEXT_SCAN_KEY, "starting", ex=120)


@job(queue_name=DEFAULT, timeout=1800)
def generate_reminders(now: str | None = None, user_ids: list[int] | None = None) -> int:
    with job_session() as session:
        created = reminders.generate(session, now=_at(now), user_ids=user_ids)
    log.info("generated %d reminders", created)
    return created


def emit_live(notification_ids: list[int]) -> int:
    """The live hint to open apps: one `notifications` event per user per batch, {items, unread}
    (one message-queue publish per user, not per item). At most once; a reconnecting client
    catches up from the inbox (after_id)."""
    by_user: dict[int, list[Notification]] = {}
    with job_session() as session:  # inside the app context: emit uses its settings
        for chunk in _chunks(notification_ids, 500):
            for n in session.exec(select(Notification).where(col(Notification.id).in_(chunk))).all():
                by_user.setdefault(n.user_id, []).append(n)
        unread: dict[int, int] = {}
        for chunk in _chunks(sorted(by_user), 500):
            unread.update(
                session.exec(
                    select(Notification.user_id, func.count())
                    .where(col(Notification.user_id).in_(chunk), col(Notification.read_at).is_(None))
                    .group_by(col(Notification.user_id))
                ).all()
            )
        for user_id, items in by_user.items():
            emit(
                "notifications",
                {
                    "items": [inbox.public(n) for n in sorted(items, key=row_id)],
                    "unread": unread.get(user_id, 0),
                },
                room=user_room(user_id),
                namespace=INBOX,
            )
    return len(by_user)


@job(queue_name=HIGH, timeout=600, retry=Retry(max=3, interval=[5, 30, 120]))
def deliver_notifications(
    notification_ids: list[int],
    attempt: int = 1,
    channel: str | None = None,
    subscriptions: list[int] | None = None,
    dispatch_token: str | None = None,
) -> dict:
    """Live socket (first attempt only), then every channel; failed sends come back as retries
    booked on RQ with backoff (5xx, timeouts) or after Retry-After (429).

    The first attempt takes its notifications (only those still handed to this dispatch and not
    delivered) and marks them delivered once the retries are booked: a job that dies before that is
    handed out again by the minute scan, and a re-run skips every (notification, device) already
    sent."""
    started = time.perf_counter()
    if attempt == 1:
        with job_session() as session:
            notification_ids = inbox.take_for_delivery(
                session, notification_ids=notification_ids, dispatch_token=dispatch_token
            )
        if not notification_ids:
            return {"attempts": 0, "sent": 0, "outcomes": {}, "skipped": "delivered or handed out again"}
        emit_live(notification_ids)
    live_s = time.perf_counter() - started
    settings = app().config["SETTINGS"]
    with job_session() as session:
        report = delivery.deliver(
            session,
            notification_ids=notification_ids,
            settings=settings,
            attempt=attempt,
            channel=channel,
            only_subscriptions=set(subscriptions) if subscriptions is not None else None,
        )
    log.info(
        "%d notifications: live %.2f s, channels %.2f s, %s",
        len(notification_ids),
        live_s,
        time.perf_counter() - started - live_s,
        report.outcomes,
    )
    base = utcnow()  # retries wait in real time, whatever clock fired the reminder
    for name, retries in report.retries.items():
        by_delay: dict[int, list[tuple[int, int | None]]] = {}
        for notification_id, subscription_id, delay in retries:
            by_delay.setdefault(delay, []).append((notification_id, subscription_id))
        for delay, pairs in by_delay.items():
            ids = sorted({p[0] for p in pairs})
            subs = sorted({p[1] for p in pairs if p[1] is not None}) if name == "webpush" else None
            deliver_notifications.enqueue(
                ids,
                attempt=attempt + 1,
                channel=name,
                subscriptions=subs,
                job_id=f"push-retry-{name}-{attempt + 1}-{_ids_key(ids + (subs or []))}",
                at=base + timedelta(seconds=delay),
            )
    if attempt == 1:
        with job_session() as session:
            inbox.mark_delivered(session, notification_ids=notification_ids)
    return {"attempts": report.attempts, "sent": report.sent, "outcomes": report.outcomes}


def on_domain_event(event) -> None:
    """Sink (tasks/sinks.py): notifications other features store go out; a note with a reminder
    makes sure the scan chain runs."""
    if event.kind == "inbox.created":
        dispatch_deliveries(event.payload.get("notification_ids") or [])
    elif event.kind == "note.changed":
        ensure_scan_scheduled()


def scheduled_jobs(name: str = HIGH) -> list[str]:
    """Ids of jobs booked for later on a queue (for tests and the ops page)."""
    return queue(name).scheduled_job_registry.get_job_ids()


if __name__ == "__main__":
    # `python -m tasks.reminders`: start the minute chain (and run one generation) on a fresh
    # deployment. Any note with a reminder also starts it; a running chain is left alone.
    from tasks.queues import init_app as init_queues

    init_queues(app())
    ensure_scan_scheduled()
    generate_reminders.enqueue(job_id=f"reminder-generate-{utcnow():%Y%m%d%H}")
    print("reminder scan chain scheduled")
