"""Scheduled work survives Redis: a real redis-server started by this test (no persistence) is
stopped for 15 s and started again empty, under a real forking `rq worker --with-scheduler` of the
Procfile's worker class. The job chains are booked again, RQ's scheduler runs again, a reminder due
during the outage fires as soon as Redis is back and one due after it fires on its minute."""

from __future__ import annotations

import subprocess
import time
from datetime import timedelta

import pytest
import redis
from sqlmodel import select

import tasks.queues
from server.notebook.models import Reminder
from server.timeutil import as_utc, utcnow
from tasks.schedule import chain_status
from tests import factories
from tests.conftest import free_port, server_env
from tests.live.redis_servers import RedisServer
from tests.live.workers import start_procfile_worker

pytestmark = pytest.mark.live

OUTAGE_S = 15


def _wait(predicate, timeout: float, step: float = 0.5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def _fired_at(db_session, note_id: int):
    db_session.expire_all()
    reminder = db_session.exec(select(Reminder).where(Reminder.note_id == note_id)).first()
    return as_utc(reminder.fired_at) if reminder and reminder.fired_at else None


def test_chains_and_reminders_survive_a_redis_restart(
    test_config, db_session, login, tmp_path, monkeypatch, request
):
    port = free_port()
    server = RedisServer(port, tmp_path)
    server.start()
    client = redis.Redis(port=port)
    request.addfinalizer(client.close)
    monkeypatch.setattr(tasks.queues, "_redis", client)  # chain_status() reads this Redis
    log = tmp_path / "worker.log"
    env = server_env(test_config, 0, REDIS_URL=f"redis://127.0.0.1:{port}/0")
    worker = start_procfile_worker(env, log)
    try:
        # At start the worker books every chain into the empty Redis.
        assert _wait(lambda: all(chain_status().values()), 60), (chain_status(), log.read_text()[-3000:])

        api = login(factories.make_user(db_session))
        during = api.post(
            "/api/v1/notes",
            json={
                "body": "停机期间到期",
                "remind_at": (utcnow() + timedelta(seconds=6)).isoformat(),
                "urgent": True,
            },
        )
        assert during.status_code == 201, during.get_data(as_text=True)
        time.sleep(2)
        server.stop()
        stopped_at = utcnow()
        time.sleep(OUTAGE_S)
        server.start()  # empty: no persistence
        back_at = utcnow()
        assert client.dbsize() == 0
        after_due = back_at + timedelta(seconds=40)
        after = api.post(
            "/api/v1/notes", json={"body": "恢复之后到期", "remind_at": after_due.isoformat(), "urgent": True}
        )
        assert after.status_code == 201

        # The chains are booked again and the reminder due in the outage fires within seconds: the
        # worker heals as soon as Redis answers, not after its next blocking dequeue (up to 30 s).
        assert _wait(lambda: all(chain_status().values()), 20), (chain_status(), log.read_text()[-3000:])
        fired = _wait(lambda: _fired_at(db_session, during.get_json()["id"]), 20)
        assert fired is not None, log.read_text()[-3000:]
        assert stopped_at < fired - timedelta(seconds=OUTAGE_S - 1) and fired - back_at < timedelta(
            seconds=20
        )

        # The one due after Redis returned fires on its minute: the chain runs through RQ's
        # scheduler, so the scheduler is alive again.
        fired_after = _wait(lambda: _fired_at(db_session, after.get_json()["id"]), 130)
        assert fired_after is not None, log.read_text()[-3000:]
        assert timedelta(0) <= fired_after - after_due < timedelta(seconds=75)
        assert client.exists("rq:scheduler-lock:high")
        print(
            f"outage {OUTAGE_S} s; chains back and late reminder fired {(fired - back_at).total_seconds():.0f} s "
            f"after Redis returned; next reminder fired {(fired_after - after_due).total_seconds():.0f} s after due"
        )
    finally:
        worker.terminate()
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(10)
        server.stop()
