"""The fourth fault of the deployment drill: PostgreSQL restarts under load (deploy/cluster.py: nginx,
two eventlet web processes and a worker, on a private PostgreSQL server and a private Redis).

RMs keep writing notes through the offline outbox's protocol (one Idempotency-Key per note, retried
until answered) and reading their list while the server is stopped and started again. What must hold:
every answer is a success, a 409 for a key still settling, or a 503 problem+json, never a 500 or a
hang; every note lands exactly once and whole (a note with a reminder has its one reminder); and
writes succeed again within the issue's 10 seconds of the server being back."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlmodel import Session

from deploy.cluster import Cluster, ensure_database
from server.timeutil import iso, utcnow
from tests import factories
from tests.conftest import free_port, http_login
from tests.live.postgres_server import PostgresServer, postgres_bin
from tests.live.redis_servers import RedisServer

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(postgres_bin() is None, reason="needs PostgreSQL server binaries"),
]

RECOVERY_S = 10.0
WRITERS = 3


@pytest.fixture(scope="module")
def private_postgres():
    workdir = Path(tempfile.mkdtemp(prefix="zhanye-pg-"))
    server = PostgresServer(free_port(), workdir)
    server.init()
    server.start()
    yield server
    server.stop("immediate")
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def drill(private_postgres, tmp_path_factory):
    redis_server = RedisServer(free_port(), tmp_path_factory.mktemp("redis"))
    redis_server.start()
    url = private_postgres.create_database("zhanye_drill")
    ensure_database(url)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg2://"), pool_pre_ping=True)
    env = {
        "DATABASE_URL": url,
        "REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/0",
        "VAR_DIR": str(tmp_path_factory.mktemp("var")),
        "LOGIN_RATE_PER_MINUTE": "100000",
    }
    cluster = Cluster(
        env=env, web=2, workers=1, run_dir=tmp_path_factory.mktemp("cluster"), login_rate="6000r/m"
    )
    cluster.start()
    yield cluster, engine
    cluster.stop(grace=5)
    engine.dispose()
    redis_server.stop()


class Writer(threading.Thread):
    """One RM's outbox: notes sent in order, each retried with its key until the server settles it."""

    def __init__(self, cluster: Cluster, username: str, tag: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.http = http_login(cluster.url, username)
        self.url = cluster.url + "/api/v1/notes"
        self.tag = tag
        self.stop_event = stop
        self.sent: dict[str, bool] = {}  # note body -> carries a reminder
        self.statuses: Counter[int] = Counter()
        self.bad: list[str] = []
        self.first_ok_after: dict[float, float] = {}
        self.ok_times: list[float] = []

    def run(self) -> None:
        n = 0
        while not self.stop_event.is_set():
            n += 1
            body = f"{self.tag} 拜访纪要 {n}"
            payload: dict = {"body": body}
            if n % 2 == 0:
                payload["remind_at"] = iso(utcnow() + timedelta(days=3))
            self.sent[body] = "remind_at" in payload
            self._deliver(payload, key=str(uuid.uuid4()))
            time.sleep(0.05)

    def _deliver(self, payload: dict, key: str) -> None:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                answer = self.http.post(self.url, json=payload, headers={"Idempotency-Key": key}, timeout=20)
            except requests.RequestException as exc:  # a hang would show here as a timeout
                self.bad.append(f"transport: {type(exc).__name__}")
                time.sleep(0.5)
                continue
            self.statuses[answer.status_code] += 1
            if answer.status_code in (200, 201):
                self.ok_times.append(time.time())
                return
            problem = (
                answer.json()
                if answer.headers.get("Content-Type", "").startswith("application/problem+json")
                else {}
            )
            if answer.status_code == 409 and problem.get("code") == "idempotency-applied":
                return
            if answer.status_code == 503 and problem.get("code") == "unavailable":
                time.sleep(0.5)
                continue
            if answer.status_code == 409 and problem.get("code") == "idempotency-in-progress":
                time.sleep(0.5)
                continue
            self.bad.append(f"{answer.status_code}: {answer.text[:200]}")
            return
        self.bad.append(f"never settled: {payload['body']}")


def test_postgres_restart_loses_and_duplicates_nothing(drill, private_postgres):
    cluster, engine = drill
    with Session(engine, expire_on_commit=False) as session:
        rms = [factories.make_user(session) for _ in range(WRITERS)]
    stop = threading.Event()
    writers = [
        Writer(cluster, rm.username, f"RM{i}-{uuid.uuid4().hex[:4]}", stop) for i, rm in enumerate(rms)
    ]
    reads: Counter[int] = Counter()
    reader_http = http_login(cluster.url, rms[0].username)

    def reader() -> None:
        while not stop.is_set():
            try:
                reads[reader_http.get(cluster.url + "/api/v1/notes", timeout=20).status_code] += 1
            except requests.RequestException:
                reads[0] += 1
            time.sleep(0.1)

    threads = [*writers, threading.Thread(target=reader, daemon=True)]
    for t in threads:
        t.start()
    time.sleep(3)  # writing normally before the fault

    down_at = time.time()
    private_postgres.stop("fast")  # every session ends; open transactions roll back
    time.sleep(2)
    private_postgres.start()
    back_at = time.time()
    recovered_by = back_at + 30
    while time.time() < recovered_by and not any(t > back_at for w in writers for t in w.ok_times):
        time.sleep(0.1)
    recovered_s = min((t for w in writers for t in w.ok_times if t > back_at), default=float("inf")) - back_at
    time.sleep(3)  # writing normally after it
    stop.set()
    for t in threads:
        t.join(150)

    statuses = sum((w.statuses for w in writers), Counter())
    bad = [b for w in writers for b in w.bad]
    sent = {body: reminded for w in writers for body, reminded in w.sent.items()}
    with engine.connect() as conn:
        stored = Counter(
            body
            for (body,) in conn.execute(text("SELECT body FROM note WHERE body = ANY(:b)"), {"b": list(sent)})
        )
        reminders = dict(
            conn.execute(
                text(
                    "SELECT n.body, count(r.id) FROM note n LEFT JOIN reminder r ON r.note_id = n.id "
                    "WHERE n.body = ANY(:b) GROUP BY n.body"
                ),
                {"b": list(sent)},
            ).all()
        )
    lost = [b for b in sent if stored[b] == 0]
    doubled = [b for b, n in stored.items() if n > 1]
    half = [b for b, reminded in sent.items() if stored[b] and reminders.get(b, 0) != (1 if reminded else 0)]
    print(
        f"\npostgres restart: {len(sent)} notes written around a {back_at - down_at:.1f} s outage; "
        f"answers {dict(sorted(statuses.items()))}, reads {dict(sorted(reads.items()))}; "
        f"lost {len(lost)}, duplicated {len(doubled)}, half-written {len(half)}; "
        f"writes back {recovered_s:.1f} s after the server"
    )
    assert not bad, bad[:5]
    assert statuses[500] == 0 and reads[500] == 0
    assert statuses[503] > 0 or reads[503] > 0, "the outage was never seen: the drill did not bite"
    assert not lost and not doubled and not half, (lost[:3], doubled[:3], half[:3])
    assert recovered_s < RECOVERY_S
