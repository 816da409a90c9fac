"""Housekeeping jobs on a real RQ worker and Redis."""

from datetime import timedelta

from sqlmodel import select

from server.auth.models import IdempotencyRecord
from server.timeutil import utcnow
from tasks.maintenance import purge_expired_idempotency_keys
from tests import factories


def test_purge_removes_only_expired_keys(worker, db_session, app):
    user = factories.make_user(db_session)
    ttl = app.config["SETTINGS"].IDEMPOTENCY_TTL_HOURS
    old = IdempotencyRecord(
        user_id=user.id,
        key="old",
        method="POST",
        path="/x",
        request_hash="h",
        created_at=utcnow() - timedelta(hours=ttl + 1),
    )
    fresh = IdempotencyRecord(user_id=user.id, key="fresh", method="POST", path="/x", request_hash="h")
    db_session.add_all([old, fresh])
    db_session.commit()

    job = purge_expired_idempotency_keys.enqueue(job_id="purge-idempotency-test")
    assert job.timeout == 300 and job.failure_ttl is not None
    worker.work(burst=True)
    job.refresh()
    assert job.is_finished and job.return_value() >= 1
    keys = db_session.exec(select(IdempotencyRecord.key).where(IdempotencyRecord.user_id == user.id)).all()
    assert keys == ["fresh"]
