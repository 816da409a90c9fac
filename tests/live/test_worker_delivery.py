"""A notification created inside a job of a real forking `rq worker` (an intel match) is delivered at
once: pushed to the user's device and sent live on the open /inbox socket of the real web process,
within seconds, not at the minute scan's 15-minute redispatch. The worker installs every event sink
at start (tasks/rq_settings.py), as the web process does."""

from __future__ import annotations

import queue as queue_mod
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import socketio
from rq import Worker
from sqlmodel import select

import tasks.intel as intel_jobs
from server.customers.models import CorporateProfile
from server.inbox.models import Notification
from server.intel.models import IntelSource
from server.push import vapid
from server.timeutil import as_utc
from tasks.queues import init_app as init_queues
from tasks.queues import redis_conn
from tests import factories
from tests.conftest import ROOT, http_login, server_env
from tests.live.workers import stop_worker
from tests.push_service import PushServiceStandIn
from tests.server.intel.feedserver import FeedServer

pytestmark = pytest.mark.live

DELIVERED_WITHIN_S = 15.0  # the poll, the match and the delivery job take well under that


def start_worker(test_config: dict, log: Path) -> subprocess.Popen:
    """`rq worker -c tasks.rq_settings` as the Procfile runs it (forking a work horse per job)."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                str(Path(sys.executable).parent / "rq"),
                "worker",
                "-c",
                "tasks.rq_settings",
                "high",
                "default",
                "low",
            ],
            env=server_env(test_config, 0),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_a_notification_made_in_a_worker_job_is_pushed_and_sent_live(
    app, live_server, test_config, db_session, data_key, tmp_path
):
    tag = "".join("甲乙丙丁戊己庚辛壬癸"[int(c, 16) % 10] for c in uuid.uuid4().hex[:6])
    rm = factories.make_user(db_session)
    customer = factories.make_customer(
        db_session, owner=rm, name=f"上海{tag}汽车配件有限公司", data_key=data_key, industry_code="C36"
    )
    profile = db_session.get(CorporateProfile, customer.id)
    profile.short_name = f"{tag}汽配"
    db_session.add(profile)
    db_session.commit()

    feeds = FeedServer().start()
    path = uuid.uuid4().hex
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
        f"<item><title>{tag}汽配签订供货合同</title><description>合同金额300万元</description>"
        f"<guid>{tag}-1</guid></item></channel></rss>"
    )
    feeds.dynamic[path] = (body.encode(), "application/rss+xml")
    source = IntelSource(
        name=f"源{tag}", kind="feed", url=f"{feeds.url}/d/{path}", category="policy", min_fetch_seconds=0
    )
    db_session.add(source)
    db_session.commit()

    settings = app.config["SETTINGS"]
    push = PushServiceStandIn(expected_public_key=vapid.public_key(settings.VAPID_PRIVATE_KEY))
    worker = None
    client = socketio.Client(reconnection=False)
    live: queue_mod.Queue = queue_mod.Queue()
    client.on("notifications", live.put, namespace="/inbox")
    with push:
        try:
            device = push.new_subscription()
            http = http_login(live_server.url, rm.username)
            answer = http.post(
                live_server.url + "/api/v1/push/subscriptions", json=device.to_json(), timeout=10
            )
            assert answer.status_code == 201, answer.text
            cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
            client.connect(
                live_server.url, namespaces=["/inbox"], headers={"Cookie": cookie}, transports=["websocket"]
            )

            init_queues(app)
            worker = start_worker(test_config, tmp_path / "worker.log")
            ready = time.time() + 60
            while not any(w.pid == worker.pid for w in Worker.all(connection=redis_conn())):
                assert worker.poll() is None and time.time() < ready, "the worker did not start"
                time.sleep(0.1)
            intel_jobs.poll_source.enqueue(source.id, True, job_id=f"intel-poll-{source.id}-live")

            # Sent live: the /inbox socket hears the intel notification (the poll itself takes a
            # few seconds on a busy machine; the 15-minute redispatch would never make it).
            batch = live.get(timeout=90)
            heard = time.time()
            [item] = batch["items"]
            assert item["kind"] == "intel" and tag in item["title"]
            # Pushed: the device's push service got it (decrypted and checked by the stand-in).
            deadline = time.time() + DELIVERED_WITHIN_S
            while not push.for_token(device.token) and time.time() < deadline:
                time.sleep(0.05)
            assert push.errors == []
            [pushed] = push.for_token(device.token)
            assert pushed.payload["id"] == item["id"]

            # The job marks it delivered once its pushes are done (and any retries booked).
            while True:
                db_session.expire_all()
                stored = db_session.exec(select(Notification).where(Notification.id == item["id"])).one()
                if stored.delivered_at is not None or time.time() > deadline:
                    break
                time.sleep(0.05)
            assert stored.delivered_at is not None
            took = max(heard, pushed.at) - as_utc(stored.created_at).timestamp()
            print(f"\nworker-made notification: live and pushed {took:.2f} s after it was stored")
            assert took < DELIVERED_WITHIN_S
        finally:
            client.disconnect()
            if worker is not None:
                stop_worker(worker)
            feeds.stop()
