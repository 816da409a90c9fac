"""Faults in the deployment's shape (deploy/cluster.py): nginx in front of two real eventlet web
processes and two supervised forking RQ workers, on the test database and a private redis-server.

- kill -9 of a web process while war-room sockets are open on both: its sockets reconnect through
  nginx to the other process, re-join with their last sequence and, with what arrived live, hold every
  event exactly once; messages whose send failed are sent again with their client id and stored once.
- kill -9 of a worker (and its work horse) in the middle of a run of reminder scans: every due reminder
  fires exactly once, one inbox notification each.
- Redis stopped: a read that needs only the database still answers, one that needs Redis answers 503
  problem+json at once (no hang, no traceback); Redis started again empty: both work, and sockets on
  different processes hear each other again, with no process restarted."""

from __future__ import annotations

import re
import threading
import time
import uuid
from datetime import timedelta

import pytest
import redis
import requests
import socketio
from rq import Queue, Worker
from sqlmodel import func, select

from deploy.cluster import Cluster
from server.inbox.models import Notification
from server.notebook.models import Reminder, ReminderKind
from server.org.models import Role
from server.timeutil import utcnow
from tests import factories
from tests.conftest import free_port, http_login
from tests.live.redis_servers import RedisServer

pytestmark = pytest.mark.live

NS = "/warroom"
RECOVERY_S = 10.0  # the bound for every fault


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory):
    server = RedisServer(free_port(), tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def cluster(app, test_config, private_redis, tmp_path_factory):
    env = {
        k: str(v)
        for k, v in test_config.items()
        if k in ("DATABASE_URL", "VAR_DIR", "DEMO_MODE", "PWA_DIST", "ENABLE_TEST_ENDPOINTS", "TESTING")
    }
    env.update(
        REDIS_URL=f"redis://127.0.0.1:{private_redis.port}/0",
        LOGIN_RATE_PER_MINUTE="100000",
        WARROOM_RATE_LIMIT="100000",
        CHAIN_HEAL_SECONDS="5",
    )
    running = Cluster(
        env=env, web=2, workers=2, run_dir=tmp_path_factory.mktemp("cluster"), login_rate="6000r/m"
    )
    running.start()
    yield running
    running.stop(grace=5)


def upstream_of(cluster: Cluster, http: requests.Session) -> int:
    """The web port nginx sends this session's sockets to: a Socket.IO handshake with a marker,
    looked up in nginx's access log (which names the upstream of every request)."""
    marker = uuid.uuid4().hex
    http.get(f"{cluster.url}/socket.io/?EIO=4&transport=polling&t={marker}", timeout=10)
    # nginx writes the line as it finishes the request, which may be just after the client has the
    # answer: look again for a moment.
    pattern = re.compile(rf"up=(?:[\d.:]+, )*127\.0\.0\.1:(\d+) .*t={marker}")
    deadline = time.time() + 3
    while True:
        log = (cluster.run_dir / "nginx-access.log").read_text()
        found = pattern.search(log)
        if found or time.time() > deadline:
            break
        time.sleep(0.05)
    assert found, log[-2000:]
    return int(found.group(1))


class Member:
    """One RM's socket on /warroom through nginx, reconnecting as the PWA's does, recording every
    room event it hears live or by replay."""

    def __init__(self, cluster: Cluster, user, want_port: int):
        for _ in range(30):  # each sign-in is a new session cookie, hashed anew
            self.http = http_login(cluster.url, user.username)
            self.port = upstream_of(cluster, self.http)
            if self.port == want_port:
                break
            self.http.close()  # a pooled socket left for the collector fails the run (warnings are errors)
        assert self.port == want_port
        self.user = user
        self.seqs: list[int] = []
        self.lock = threading.Lock()
        self.connects = 0
        # The signed-in session carries the cookie on every (re)connect. A Cookie header passed to
        # connect() would not: python-engineio removes it from the caller's headers dict, which
        # python-socketio passes again on reconnect (a browser always sends its cookies).
        self.client = socketio.Client(
            reconnection=True,
            reconnection_delay=0.2,
            reconnection_delay_max=1,
            randomization_factor=0.3,
            http_session=self.http,
        )
        self.client.on("connect", self._connected, namespace=NS)
        self.client.on("event", self._event, namespace=NS)
        self.client.on("resync", self._resync, namespace=NS)
        self.room_id: int | None = None
        self.resyncs = 0
        self.client.connect(cluster.url, namespaces=[NS], wait_timeout=10)
        self.joined_connects = 0

    def close(self) -> None:
        self.client.disconnect()
        self.http.close()

    def _connected(self) -> None:
        self.connects += 1

    def _event(self, event: dict) -> None:
        with self.lock:
            self.seqs.append(event["seq"])

    def _resync(self, *_: object) -> None:
        self.resyncs += 1
        # The PWA's answer to the server's nudge: fetch what came after the last seq. Off the
        # client's reader thread, which must stay free to read the acknowledgement.
        if self.room_id is not None:
            threading.Thread(target=self._sync, args=(self.room_id,), daemon=True).start()

    def _sync(self, room_id: int) -> None:
        with self.lock:
            after = max(self.seqs, default=0)
        ack = self.client.call("sync", {"room_id": room_id, "after_seq": after}, namespace=NS, timeout=10)
        if ack.get("ok"):
            with self.lock:
                self.seqs += [e["seq"] for e in ack["events"] if e["seq"] not in self.seqs]

    def join(self, room_id: int) -> None:
        self.room_id = room_id
        with self.lock:
            last = max(self.seqs, default=0)
        ack = self.client.call("join", {"room_id": room_id, "last_seq": last}, namespace=NS, timeout=10)
        assert ack["ok"], ack
        with self.lock:
            self.seqs += [e["seq"] for e in ack["events"]]
        self.joined_connects = self.connects

    def send(self, room_id: int, text: str, deadline: float) -> dict:
        """Sends until acknowledged, always with the same client id (the PWA's outbox does this)."""
        client_id = str(uuid.uuid4())
        while True:
            try:
                ack = self.client.call(
                    "message",
                    {"room_id": room_id, "text": text, "client_id": client_id},
                    namespace=NS,
                    timeout=3,
                )
                if ack and ack.get("ok"):
                    return ack
            except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
                pass
            if time.time() > deadline:
                raise AssertionError(f"{self.user.username}: {text!r} not acknowledged in time")
            time.sleep(0.2)


def test_kill_9_of_a_web_process_loses_and_duplicates_nothing(cluster, db_session):
    survivor, victim = cluster.web_ports[1], cluster.web_ports[0]
    branch = factories.make_branch(db_session)
    users = [factories.make_user(db_session, branch=branch) for _ in range(4)]
    members = [Member(cluster, u, victim if i % 2 == 0 else survivor) for i, u in enumerate(users)]
    owner, *rest = members
    made = owner.http.post(
        cluster.url + "/api/v1/war-rooms",
        json={"title": "故障演练作战室", "invite_user_ids": [m.user.id for m in rest]},
        timeout=10,
    )
    assert made.status_code == 201, made.text
    room_id = made.json()["id"]
    for m in rest:
        assert m.http.post(f"{cluster.url}/api/v1/war-rooms/{room_id}/invitations/accept", timeout=10).ok
    for m in members:
        m.join(room_id)

    per_sender = 20
    deadline = time.time() + 30
    acks: list[dict] = []
    sent = threading.Event()

    def sender(m: Member, n: int) -> None:
        for i in range(per_sender):
            acks.append(m.send(room_id, f"{m.user.username} 第{i}条", deadline))
            if n == 0 and i == 5:
                sent.set()
            time.sleep(0.05)

    senders = [threading.Thread(target=sender, args=(m, n)) for n, m in enumerate(members[:2])]
    for t in senders:
        t.start()
    assert sent.wait(15)
    killed_at = time.time()
    cluster.kill_web(0)
    # Every socket that was on the dead process reconnects (to the survivor: nothing else is up) and
    # re-joins with its last sequence, as the PWA's socket composable does on `connect`.
    moved = [m for m in members if m.port == victim]
    while time.time() < killed_at + RECOVERY_S and not all(
        m.client.connected and m.connects > m.joined_connects for m in moved
    ):
        time.sleep(0.1)
    for m in moved:
        assert m.client.connected and m.connects > m.joined_connects, f"{m.user.username} did not reconnect"
        m.join(room_id)
    recovered_s = time.time() - killed_at
    for t in senders:
        t.join(40)
    assert len(acks) == 2 * per_sender

    last_seq = owner.client.call("sync", {"room_id": room_id, "after_seq": 0}, namespace=NS, timeout=10)
    stored = [e for e in last_seq["events"] if e["kind"] == "message"]
    texts = [e["payload"]["text"] for e in stored]
    assert len(texts) == len(set(texts)) == 2 * per_sender  # each message stored once
    top = max(e["seq"] for e in last_seq["events"])
    settle = time.time() + 5
    while time.time() < settle and not all(set(m.seqs) >= set(range(1, top + 1)) for m in members):
        time.sleep(0.1)
    for m in members:
        missing = sorted(set(range(1, top + 1)) - set(m.seqs))
        assert not missing, f"{m.user.username} (port {m.port}) never got seq {missing}"
    print(f"\nweb kill: {len(moved)} sockets moved, recovered in {recovered_s:.1f} s, {top} events, 0 lost")
    assert recovered_s < RECOVERY_S
    for m in members:
        m.close()
    cluster.restart_web(0)


def test_kill_9_of_a_worker_mid_scan_fires_every_reminder_once(cluster, db_session, private_redis, request):
    rm = factories.make_user(db_session)
    total = 3000
    due = utcnow() - timedelta(minutes=5)
    db_session.add_all(
        Reminder(
            user_id=rm.id,
            kind=ReminderKind.follow_up,
            source_key=f"drill:{uuid.uuid4().hex[:8]}:{i}",
            due_at=due,
            urgent=True,  # quiet hours must not defer any of them
            title=f"演练提醒{i}",
        )
        for i in range(total)
    )
    db_session.commit()
    connection = redis.Redis(port=private_redis.port)
    request.addfinalizer(connection.close)  # an unclosed socket fails the run when it is collected
    queue = Queue("high", connection=connection)

    def fired() -> int:
        db_session.expire_all()
        return db_session.exec(
            select(func.count()).where(Reminder.user_id == rm.id, Reminder.fired_at.is_not(None))
        ).one()

    # The minute scan, as the chain books it; killed in the hands of whichever worker took it.
    job = queue.enqueue(
        "tasks.reminders.scan_reminders", None, False, job_id=f"drill-scan-{uuid.uuid4().hex[:8]}"
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        job.refresh()
        if job.worker_name and job.id in queue.started_job_registry.get_job_ids():
            break
        time.sleep(0.01)
    holder = Worker.find_by_key(Worker.redis_worker_namespace_prefix + job.worker_name, connection=connection)
    assert holder is not None, f"job {job.get_status()} on {job.worker_name!r}"
    supervisor = next(i for i in range(cluster.workers) if holder.pid in cluster.worker_pids(i))
    time.sleep(0.1)  # into the job's transaction
    killed = cluster.kill_worker(supervisor)
    killed_at = time.time()
    at_kill = fired()
    in_hand = job.id not in queue.finished_job_registry.get_job_ids()
    assert in_hand, "the kill must land while the job is in hand"
    assert at_kill in (0, total), f"a scan fires all it claimed or nothing ({at_kill} of {total})"
    # The next minute's scan, on a worker that is still up (or the one the supervisor started).
    queue.enqueue("tasks.reminders.scan_reminders", None, False, job_id=f"{job.id}-next")
    while fired() < total and time.time() < killed_at + 30:
        time.sleep(0.1)
    recovered_s = time.time() - killed_at
    logs = "\n".join(cluster.log(f"worker{i}").read_text()[-1500:] for i in range(cluster.workers))
    assert fired() == total, logs
    notes = db_session.exec(select(Notification.source_key).where(Notification.user_id == rm.id)).all()
    assert len(notes) == len(set(notes)) == total, "one notification per reminder, none twice"
    print(
        f"\nworker kill: {at_kill}/{total} fired when the worker died mid-scan, all {total} once "
        f"{recovered_s:.1f} s later"
    )
    assert recovered_s < RECOVERY_S
    # The supervisor started a new worker in place of the dead one.
    restarted = time.time() + 10
    while not cluster.worker_pids(supervisor) and time.time() < restarted:
        time.sleep(0.1)
    assert cluster.worker_pids(supervisor) and not set(killed) & set(cluster.worker_pids(supervisor))


def test_redis_restart_answers_503_then_recovers(cluster, db_session, data_key, private_redis):
    rm = factories.make_user(db_session)
    admin = factories.make_user(db_session, role=Role.admin, persona=None)
    customer = factories.make_customer(db_session, owner=rm, data_key=data_key)
    http, admin_http = http_login(cluster.url, rm.username), http_login(cluster.url, admin.username)
    reveal = {"field": "phone", "reason": "核实联系方式"}
    failed_jobs = f"{cluster.url}/api/v1/intel/jobs/failed"  # RQ's registry: Redis or nothing
    assert admin_http.get(failed_jobs, timeout=10).status_code == 200
    # A socket open through the outage: its process's listener loses the queue and subscribes again.
    watcher = Member(cluster, factories.make_user(db_session), cluster.web_ports[1])

    private_redis.stop()
    stopped_at = time.time()
    try:
        started = time.perf_counter()
        read = http.get(f"{cluster.url}/api/v1/customers/{customer.id}", timeout=10)
        assert read.status_code == 200, read.text  # the database alone answers it
        # Rate limits count in the process meanwhile (server/ratelimit.py): still audited, still bounded.
        assert http.post(f"{cluster.url}/api/v1/customers/{customer.id}/reveal", json=reveal, timeout=10).ok
        needs_redis = admin_http.get(failed_jobs, timeout=10)
        took = time.perf_counter() - started
        assert needs_redis.status_code == 503, needs_redis.text
        assert needs_redis.headers["Content-Type"].startswith("application/problem+json")
        assert needs_redis.json()["code"] == "unavailable" and needs_redis.headers["Retry-After"]
        assert took < 5, f"answers took {took:.1f} s while Redis was down"
    finally:
        private_redis.start()  # empty: no persistence, as after a crash

    recovered = None
    while time.time() < stopped_at + 30:
        answer = admin_http.get(failed_jobs, timeout=10)
        if answer.status_code == 200:
            recovered = time.time() - stopped_at
            break
        assert answer.status_code == 503, answer.text
        time.sleep(0.2)
    assert recovered is not None, "the endpoint never worked again after Redis came back"

    # Sockets on the two processes hear each other again through the restarted message queue.
    branch = factories.make_branch(db_session)
    a_user, b_user = (factories.make_user(db_session, branch=branch) for _ in range(2))
    a = Member(cluster, a_user, cluster.web_ports[0])
    b = Member(cluster, b_user, cluster.web_ports[1])
    made = a.http.post(
        cluster.url + "/api/v1/war-rooms",
        json={"title": "恢复演练", "invite_user_ids": [b_user.id]},
        timeout=10,
    )
    room_id = made.json()["id"]
    assert b.http.post(f"{cluster.url}/api/v1/war-rooms/{room_id}/invitations/accept", timeout=10).ok
    a.join(room_id)
    b.join(room_id)
    seq = a.send(room_id, "Redis 重启之后", time.time() + 10)["event"]["seq"]
    heard_by = time.time() + RECOVERY_S
    while seq not in b.seqs and time.time() < heard_by:
        time.sleep(0.05)
    assert seq in b.seqs, "a message on one process did not reach a socket on the other"
    # ... and was told to fetch what it may have missed meanwhile.
    told_by = time.time() + 5
    while not watcher.resyncs and time.time() < told_by:
        time.sleep(0.05)
    assert watcher.resyncs >= 1, "the socket open through the outage was never told to resync"
    sockets_s = time.time() - stopped_at
    print(
        f"\nredis restart: 503 in {took:.2f} s while down; HTTP back {recovered:.1f} s, sockets {sockets_s:.1f} s after the stop"
    )
    assert recovered < RECOVERY_S + 2  # the outage itself lasted about 1 s
    for m in (a, b, watcher):
        m.close()
    http.close()
    admin_http.close()
