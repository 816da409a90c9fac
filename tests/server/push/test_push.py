"""Web push end to end against a local push-service stand-in: VAPID checked, payload decrypted,
410 deletes the subscription, 500 retries with backoff on RQ, 429 honours Retry-After, every attempt
recorded. Subscriptions API."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from rq.registry import ScheduledJobRegistry
from sqlmodel import select

from server.inbox import service as inbox
from server.push import vapid
from server.push.models import PushAttempt, PushSubscription
from server.redis_client import client_from_url
from server.timeutil import utcnow
from tasks.queues import HIGH, queue
from tasks.reminders import _ids_key, deliver_notifications
from tests import factories
from tests.push_service import PushServiceStandIn, b64d, b64e


@pytest.fixture
def push_service(app):
    settings = app.config["SETTINGS"]
    with PushServiceStandIn(expected_public_key=vapid.public_key(settings.VAPID_PRIVATE_KEY)) as stand_in:
        yield stand_in


ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)


def _subscribe(api, sub, user_agent=ANDROID_CHROME):
    response = api.post("/api/v1/push/subscriptions", json=sub.to_json(), headers={"User-Agent": user_agent})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _notify(db_session, user, *, name="王小明", kind="birthday"):
    n = inbox.notify(
        db_session,
        user_id=user.id,
        kind=kind,
        title=f"客户生日 · {name}",
        body=f"{name}今天生日",
        url="/customers/42",
        source_key=f"test:{uuid.uuid4()}",
        urgency="high",
    )
    db_session.commit()
    return n


def _attempts(db_session, notification_id):
    db_session.expire_all()
    return db_session.exec(
        select(PushAttempt).where(PushAttempt.notification_id == notification_id).order_by(PushAttempt.id)
    ).all()


def _retry_id(attempt: int, notification_id: int, subscription_id: int) -> str:
    """The exact id of a booked retry: other tests may leave their own in the shared registry."""
    return f"push-retry-webpush-{attempt}-{_ids_key([notification_id, subscription_id])}"


def _run_scheduled(worker, job_id_prefix: str):
    """Moves booked retries to the queue now (the scheduler would, at their time) and runs them."""
    registry = ScheduledJobRegistry(queue=queue(HIGH))
    ran = 0
    for job_id in registry.get_job_ids():
        if job_id.startswith(job_id_prefix):
            job = queue(HIGH).fetch_job(job_id)
            registry.remove(job)
            queue(HIGH).enqueue_job(job)
            ran += 1
    worker.work(burst=True)
    return ran


def test_vapid_key_and_subscriptions(db_session, login, push_service, app):
    rm = factories.make_user(db_session)
    api = login(rm)
    key = api.get("/api/v1/push/vapid-public-key").get_json()["public_key"]
    assert len(b64d(key)) == 65 and b64d(key)[0] == 4
    assert key == vapid.public_key(app.config["SETTINGS"].VAPID_PRIVATE_KEY)
    phone, tablet = push_service.new_subscription(), push_service.new_subscription()
    _subscribe(api, phone)
    _subscribe(api, tablet)
    _subscribe(api, phone)  # the same device again: updated, not duplicated
    devices = api.get("/api/v1/push/subscriptions").get_json()["items"]
    assert len(devices) == 2 and devices[0]["device"] == {"platform": "android", "browser": "chrome"}
    assert "endpoint" not in devices[0] and "user_agent" not in devices[0]  # no raw header in the list

    bad = phone.to_json()
    bad["keys"]["auth"] = "AAAA"
    assert api.post("/api/v1/push/subscriptions", json=bad).status_code == 422
    bad = push_service.new_subscription().to_json()
    bad["keys"]["p256dh"] = b64e(b"\x04" + bytes(64))  # not a point on the curve
    assert api.post("/api/v1/push/subscriptions", json=bad).status_code == 422
    assert (
        api.post("/api/v1/push/subscriptions", json={"endpoint": "not a url", "keys": {}}).status_code == 422
    )

    other = login(factories.make_user(db_session))
    assert other.delete("/api/v1/push/subscriptions", json={"endpoint": phone.endpoint}).status_code == 404
    assert api.delete("/api/v1/push/subscriptions", json={"endpoint": phone.endpoint}).status_code == 204
    # A lost tablet is removed from the settings screen by its id; another user's id is not found.
    [tablet_device] = api.get("/api/v1/push/subscriptions").get_json()["items"]
    assert other.delete(f"/api/v1/push/subscriptions/{tablet_device['id']}").status_code == 404
    assert api.delete(f"/api/v1/push/subscriptions/{tablet_device['id']}").status_code == 204
    assert api.delete(f"/api/v1/push/subscriptions/{tablet_device['id']}").status_code == 404
    assert api.get("/api/v1/push/subscriptions").get_json()["items"] == []


def test_push_is_signed_encrypted_and_carries_no_personal_data(db_session, login, push_service, worker):
    rm = factories.make_user(db_session)
    api = login(rm)
    phone, tablet = push_service.new_subscription(), push_service.new_subscription()
    _subscribe(api, phone)
    _subscribe(api, tablet)
    n = _notify(db_session, rm, name="王小明")
    deliver_notifications.enqueue([n.id])
    worker.work(burst=True)

    assert push_service.errors == []
    for sub in (phone, tablet):
        [got] = push_service.for_token(sub.token)
        assert got.payload == {
            "title": "客户生日提醒",
            "body": "点开展业查看详情",
            "url": "/customers/42",
            "tag": f"n{n.id}",
            "id": n.id,
        }
        assert "王小明" not in str(got.payload)
        assert got.headers["ttl"] == "86400"
        assert got.headers["urgency"] == "high"
        assert 0 < len(got.headers["topic"]) <= 32
        assert got.claims["sub"].startswith("mailto:")
        assert got.size < 4096
    attempts = _attempts(db_session, n.id)
    assert [(a.outcome, a.status_code, a.channel) for a in attempts] == [("sent", 201, "webpush")] * 2

    # A re-run of the same delivery does not push twice.
    deliver_notifications.enqueue([n.id])
    worker.work(burst=True)
    assert len(push_service.for_token(phone.token)) == 1
    assert len(_attempts(db_session, n.id)) == 2


def test_gone_subscription_is_deleted(db_session, login, push_service, worker):
    rm = factories.make_user(db_session)
    api = login(rm)
    dead, unknown, alive = (push_service.new_subscription() for _ in range(3))
    dead_id, unknown_id = _subscribe(api, dead), _subscribe(api, unknown)
    _subscribe(api, alive)
    push_service.answer(dead, 410)
    push_service.answer(unknown, 404)
    n = _notify(db_session, rm)
    deliver_notifications.enqueue([n.id])
    worker.work(burst=True)
    db_session.expire_all()
    assert db_session.get(PushSubscription, dead_id) is None
    assert db_session.get(PushSubscription, unknown_id) is None
    outcomes = {(a.subscription_id, a.outcome, a.status_code) for a in _attempts(db_session, n.id)}
    assert {(dead_id, "gone", 410), (unknown_id, "gone", 404)} <= outcomes
    assert len(api.get("/api/v1/push/subscriptions").get_json()["items"]) == 1


def test_server_error_is_retried_with_backoff(db_session, login, push_service, worker):
    rm = factories.make_user(db_session)
    sub = push_service.new_subscription()
    sub_id = _subscribe(login(rm), sub)
    push_service.answer(sub, 500, times=2)
    n = _notify(db_session, rm)
    before = utcnow().timestamp()
    deliver_notifications.enqueue([n.id])
    worker.work(burst=True)
    registry = ScheduledJobRegistry(queue=queue(HIGH))
    retry_id = _retry_id(2, n.id, sub_id)
    booked = registry.get_scheduled_time(retry_id).timestamp()
    assert before + 9 <= booked <= time.time() + 11  # first backoff: 10 s

    assert _run_scheduled(worker, retry_id) == 1  # 500 again: booked for attempt 3
    retry_id = _retry_id(3, n.id, sub_id)
    assert registry.get_scheduled_time(retry_id).timestamp() >= time.time() + 55  # second backoff: 60 s
    assert _run_scheduled(worker, retry_id) == 1

    attempts = _attempts(db_session, n.id)
    assert [(a.attempt, a.outcome, a.status_code, a.subscription_id) for a in attempts] == [
        (1, "retry", 500, sub_id),
        (2, "retry", 500, sub_id),
        (3, "sent", 201, sub_id),
    ]
    assert [r.status for r in push_service.for_token(sub.token)] == [500, 500, 201]
    assert push_service.errors == []


def test_rate_limit_honours_retry_after(db_session, login, push_service, worker):
    rm = factories.make_user(db_session)
    sub = push_service.new_subscription()
    _subscribe(login(rm), sub)
    push_service.answer(sub, 429, Retry_After="120")
    n = _notify(db_session, rm)
    deliver_notifications.enqueue([n.id])
    worker.work(burst=True)
    [attempt] = _attempts(db_session, n.id)
    assert (attempt.outcome, attempt.status_code, attempt.retry_after_s) == ("rate_limited", 429, 120)
    registry = ScheduledJobRegistry(queue=queue(HIGH))
    retry_id = _retry_id(2, n.id, attempt.subscription_id)
    assert retry_id in registry.get_job_ids()
    assert registry.get_scheduled_time(retry_id).timestamp() >= time.time() + 115
    _run_scheduled(worker, retry_id)
    assert [a.outcome for a in _attempts(db_session, n.id)] == ["rate_limited", "sent"]


def test_switched_off_channel_sends_nothing(db_session, login, push_service, worker):
    rm = factories.make_user(db_session)
    api = login(rm)
    sub = push_service.new_subscription()
    _subscribe(api, sub)
    assert api.patch("/api/v1/reminder-settings", json={"channels": {"webpush": False}}).status_code == 200
    n = _notify(db_session, rm)
    deliver_notifications.enqueue([n.id])
    worker.work(burst=True)
    assert push_service.for_token(sub.token) == []
    assert _attempts(db_session, n.id) == []


def test_slow_push_service_times_out_and_is_retried(app, db_session, login, push_service):
    from server.config import load_settings
    from server.push.delivery import deliver

    settings = load_settings(**{**app.config["SETTINGS"].model_dump(), "PUSH_TIMEOUT_SECONDS": 0.5})
    rm = factories.make_user(db_session)
    sub = push_service.new_subscription()
    sub_id = _subscribe(login(rm), sub)
    push_service.answer(sub, 201, delay=2)
    n = _notify(db_session, rm)
    started = time.monotonic()
    report = deliver(db_session, notification_ids=[n.id], settings=settings)
    assert time.monotonic() - started < 1.8  # the client gave up at its timeout
    assert report.retries == {"webpush": [(n.id, sub_id, 10)]}
    [attempt] = _attempts(db_session, n.id)
    assert (attempt.outcome, attempt.status_code) == ("retry", None)
    assert "Timeout" in (attempt.detail or "")


def test_other_features_notifications_go_out_through_the_sink(db_session, login, push_service, worker):
    """A feature stores a notification with inbox.notify; the `inbox.created` event (after commit)
    becomes a delivery job, as it does in the web process."""
    from server import events
    from tasks.reminders import on_domain_event

    rm = factories.make_user(db_session)
    sub = push_service.new_subscription()
    _subscribe(login(rm), sub)
    events.add_sink(on_domain_event)
    try:
        n = _notify(db_session, rm, kind="war_room_task")
    finally:
        events.remove_sink(on_domain_event)
    worker.work(burst=True)
    [got] = push_service.for_token(sub.token)
    assert got.payload["title"] == "作战室任务到期" and got.payload["tag"] == f"n{n.id}"


class _DeadRedis:
    """The first `failures` queue connections asked for inside the scan are real clients to a port
    where no Redis listens: the hand-off to the delivery queue fails with a real ConnectionError."""

    def __init__(self, real, failures: int):
        self.real, self.failures, self.failed = real, failures, 0

    def __call__(self):
        if self.failed < self.failures:
            self.failed += 1
            # built as the app builds its clients (redis-py's constructor alone would retry each
            # command ten times with backoff, about 4 s against a closed port, which the app's never do)
            return client_from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
        return self.real()


def _scan(monkeypatch, worker, at: datetime, *, failing: _DeadRedis | None = None) -> dict:
    import tasks.queues
    from tasks.reminders import scan_reminders

    job = scan_reminders.enqueue(now=at.isoformat(), chain=False)
    if failing:
        monkeypatch.setattr(tasks.queues, "redis_conn", failing)
    worker.work(burst=True)
    monkeypatch.undo()
    return job.latest_result().return_value


def test_a_failed_hand_off_to_the_queue_is_delivered_once_at_the_next_scan(
    db_session, login, push_service, worker, monkeypatch
):
    """Redis stays away between claiming a due reminder and queueing its delivery (every retry of
    the hand-off fails): the inbox entry is stored and handed back, and the next minute's scan
    hands the delivery out (not only after the lease); the push goes out exactly once and the inbox
    holds one entry."""
    import tasks.queues
    from server.inbox.models import Notification
    from server.inbox.service import DELIVERY_LEASE
    from tasks.reminders import HANDOFF_RETRY_DELAYS_S

    rm = factories.make_user(db_session)
    api = login(rm)
    sub = push_service.new_subscription()
    _subscribe(api, sub)
    due = datetime(2032, 5, 6, 1, 0, tzinfo=UTC)
    note = api.post("/api/v1/notes", json={"body": "回访张总", "remind_at": due.isoformat()}).get_json()

    tries = len(HANDOFF_RETRY_DELAYS_S) + 1
    dead = _DeadRedis(tasks.queues.redis_conn, failures=tries)
    first = _scan(monkeypatch, worker, due + timedelta(seconds=5), failing=dead)
    assert dead.failed == tries and first["fired"] >= 1  # (other tests' leftovers may fire too)
    assert first["queued"] == first["redispatched"]  # only other tests' stalled leftovers, queued later
    db_session.expire_all()
    [n] = db_session.exec(select(Notification).where(Notification.user_id == rm.id)).all()
    assert n.url == f"/notes/{note['id']}" and n.delivered_at is None
    assert push_service.for_token(sub.token) == []

    assert _scan(monkeypatch, worker, due + timedelta(minutes=1))["redispatched"] >= 1
    [got] = push_service.for_token(sub.token)
    assert got.payload["tag"] == f"n{n.id}" and got.payload["url"] == f"/notes/{note['id']}"
    _scan(monkeypatch, worker, due + 3 * DELIVERY_LEASE)  # delivered: never handed out again
    db_session.expire_all()
    assert len(push_service.for_token(sub.token)) == 1
    assert [a.outcome for a in _attempts(db_session, n.id)] == ["sent"]
    assert len(db_session.exec(select(Notification).where(Notification.user_id == rm.id)).all()) == 1
    assert db_session.get(Notification, n.id).delivered_at is not None


def test_a_hand_off_that_fails_for_a_moment_is_queued_in_the_same_scan(
    db_session, login, push_service, worker, monkeypatch
):
    """A Redis that fails once and then answers (a failover's last moment): the hand-off is tried
    again and the push goes out in the same scan, once."""
    import tasks.queues
    from server.inbox.models import Notification

    rm = factories.make_user(db_session)
    api = login(rm)
    sub = push_service.new_subscription()
    _subscribe(api, sub)
    due = datetime(2032, 5, 8, 1, 0, tzinfo=UTC)
    api.post("/api/v1/notes", json={"body": "回访李总", "remind_at": due.isoformat()})

    dead = _DeadRedis(tasks.queues.redis_conn, failures=1)
    first = _scan(monkeypatch, worker, due + timedelta(seconds=5), failing=dead)
    assert dead.failed == 1 and first["fired"] >= 1
    assert first["queued"] == first["fired"] + first["redispatched"]  # nothing left for a later scan
    [n] = db_session.exec(select(Notification).where(Notification.user_id == rm.id)).all()
    [got] = push_service.for_token(sub.token)
    assert got.payload["tag"] == f"n{n.id}"
    db_session.expire_all()
    assert db_session.get(Notification, n.id).delivered_at is not None


def test_a_stale_delivery_job_does_not_push_after_its_hand_off_was_renewed(
    app, db_session, login, push_service, worker
):
    """The queueing looked failed but its job exists after all (or sat in a backlog past the lease):
    once the scan has handed the delivery out again, the old job finds nothing left to do. Two
    scanners racing to hand it out again claim it once."""
    import threading

    from sqlmodel import Session

    from server import db
    from server.inbox import service as inbox_service
    from server.inbox.models import Notification
    from server.notebook import reminders

    rm = factories.make_user(db_session)
    sub = push_service.new_subscription()
    _subscribe(login(rm), sub)
    due = datetime(2032, 6, 7, 1, 0, tzinfo=UTC)
    login(rm).post("/api/v1/notes", json={"body": "续作提醒", "remind_at": due.isoformat()})
    fired = reminders.fire_due(db_session, now=due + timedelta(seconds=5))  # stored, not yet queued
    [nid] = [i for i in fired.notification_ids if db_session.get(Notification, i).user_id == rm.id]
    deliver_notifications.enqueue([nid], job_id=f"stale-{nid}")  # the first hand-off's job, held back

    later = due + inbox_service.DELIVERY_LEASE + timedelta(minutes=1)
    barrier, claims = threading.Barrier(3), []

    def redispatch():
        with Session(db.engine_for(app), expire_on_commit=False) as session:
            barrier.wait()
            claims.append(inbox_service.redispatch_stalled(session, now=later))

    threads = [threading.Thread(target=redispatch) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [c for c in claims if c and nid in c[1]]
    assert len(won) == 1, claims
    token = won[0][0]
    deliver_notifications.enqueue([nid], dispatch_token=token)
    worker.work(burst=True)  # the stale job runs first and skips; the renewed one delivers
    assert len(push_service.for_token(sub.token)) == 1
    assert [a.outcome for a in _attempts(db_session, nid)] == ["sent"]
