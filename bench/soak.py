"""A soak of the deployment's shape: simulated RMs doing a day's work through nginx in front of N web
processes and M workers (deploy/cluster.py), on a fresh PostgreSQL database with a small demo bank and a
private redis-server, all on loopback. Load comes from locust (as a library), bounded in users and time.

Each simulated RM signs in, holds a war-room socket open for the whole run (joined to a room of five),
and with think time between steps: opens home, searches, opens a customer 360, replays an offline burst
of notes (each sent twice with the same Idempotency-Key, as the outbox does after a flaky network),
records a visit, chats in the war room, reads the opportunity feed and the inbox.

Prints, per stage: per-endpoint p50/p95/p99 and errors, socket messages sent/delivered/lost and
fan-out latency, CPU per process. With --capacity it runs one stage per user count and reports the
largest that holds HTTP p95 <= 300 ms, zero 5xx and zero lost socket messages. With --faults it runs
one stage with kill -9 of a web process, kill -9 of a worker, a Redis restart and a PostgreSQL restart
(-m fast; the bank then lives on a private server started for the run) in it, and prints a table: fault,
requests during it, errors, duplicates, losses, recovery time.

    .venv/bin/python bench/soak.py --rms 100 --seconds 60                # one stage
    .venv/bin/python bench/soak.py --capacity 100,200,400 --seconds 45   # capacity search
    .venv/bin/python bench/soak.py --rms 100 --seconds 60 --faults       # fault table
    .venv/bin/python bench/soak.py --web 1 --capacity 50,100,200         # one process
    .venv/bin/python bench/soak.py --capacity 2000 --think 30,90 --signed-in 0.8   # a field day

--signed-in S lets a share S of the RMs open the app with the session their phone kept (as the PWA
does within the idle timeout) instead of signing in with the password (argon2, deliberately slow):
with the default 0 every RM signs in during the ramp, a morning storm at --spawn-rate per second.

Figures depend on the machine and on what else runs on it: see docs/deployment.md.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # locust runs on gevent: patch before anything opens a socket

import argparse  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import requests  # noqa: E402
import socketio  # noqa: E402
from _common import ROOT, bulk_sessions, fresh_postgres, random_data_key  # noqa: E402
from locust import HttpUser, between, task  # noqa: E402
from locust.env import Environment  # noqa: E402

sys.path.insert(0, str(ROOT))

from deploy.cluster import Cluster  # noqa: E402
from server.security import COOKIE_NAME  # noqa: E402

NS = "/warroom"
P95_BOUND_MS = 300.0
ROOM_SIZE = 5


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] if ordered else 0.0


# --- the bank ---------------------------------------------------------------------------------------


@dataclass
class Bank:
    database_url: str
    admin_url: str
    data_key: str
    rms: list[tuple[str, list[int], int]]  # username, some own customer ids, room id
    sessions: dict[str, tuple[str, str]]  # username -> a session already signed in (cookie, CSRF token)


def prepare(base_url: str, customers: int, logins: int) -> Bank:
    """A fresh demo bank with at least `logins` RM sign-ins, in war rooms of five. The demo bank has
    one RM per ~50 customers; the rest are made as colleagues of those RMs (same team, same
    password), each taking a share of its colleague's book, so every simulated RM is one person with
    own customers and a room of realistic size, however many are simulated."""
    from sqlalchemy import update
    from sqlmodel import Session, col, select

    from server.customers.models import Customer
    from server.db import get_engine, row_id
    from server.demo.generator import load_demo_bank
    from server.org.models import RmProfile, Role, User
    from server.warrooms.membership import add_member
    from server.warrooms.models import MemberRole, MemberStatus
    from server.warrooms.rooms import create_room
    from server.warrooms.schemas import RoomCreate

    url, admin_url = fresh_postgres(base_url)
    data_key = random_data_key()
    engine = get_engine(url)
    load_demo_bank(engine, customers=customers, seed=7, data_key=data_key)
    rms: list[tuple[str, list[int], int]] = []
    with Session(engine, expire_on_commit=False) as session:
        demo_rms = session.exec(
            select(User).where(User.role == Role.rm, col(User.is_active)).order_by(col(User.id))
        ).all()
        colleagues: dict[int, list[User]] = {row_id(u): [u] for u in demo_rms}
        for i in range(max(0, logins - len(demo_rms))):
            src = demo_rms[i % len(demo_rms)]
            user = User(
                username=f"soak{i:05d}",
                display_name=f"压测客户经理{i}",
                password_hash=src.password_hash,
                role=Role.rm,
                branch_id=src.branch_id,
                team_id=src.team_id,
            )
            session.add(user)
            colleagues[row_id(src)].append(user)
        session.flush()
        for src in demo_rms:
            group = colleagues[row_id(src)]
            profile = session.get(RmProfile, row_id(src))
            for user in group[1:]:
                if profile is not None:
                    session.add(
                        RmProfile(
                            user_id=row_id(user),
                            persona=profile.persona,
                            hire_date=profile.hire_date,
                            grade=profile.grade,
                            qualifications=profile.qualifications,
                            languages=profile.languages,
                            home_region=profile.home_region,
                        )
                    )
            book = session.exec(
                select(Customer.id).where(Customer.owner_id == src.id).order_by(Customer.id)
            ).all()
            for k, user in enumerate(group[1:], start=1):
                share = list(book[k :: len(group)])
                if share:
                    session.execute(
                        update(Customer).where(col(Customer.id).in_(share)).values(owner_id=row_id(user))
                    )
        session.commit()
        users = session.exec(
            select(User).where(User.role == Role.rm, col(User.is_active)).order_by(col(User.id))
        ).all()
        for start in range(0, len(users) - ROOM_SIZE + 1, ROOM_SIZE):
            group = users[start : start + ROOM_SIZE]
            room = create_room(session, user=group[0], data=RoomCreate(title=f"压测作战室{start}"), ip=None)
            for member in group[1:]:
                add_member(
                    session,
                    room=room,
                    user=member,
                    role=MemberRole.member,
                    status=MemberStatus.active,
                    invited_by=row_id(group[0]),
                )
            session.commit()
            for member in group:
                ids = session.exec(select(Customer.id).where(Customer.owner_id == member.id).limit(20)).all()
                rms.append((member.username, list(ids) or [1], row_id(room)))
        # A session per RM as a phone keeps it between uses (--signed-in opens the app with it).
        creds = bulk_sessions(session, [row_id(u) for u in users])
        sessions = {u.username: c for u, c in zip(users, creds, strict=True)}
        session.commit()
    engine.dispose()
    return Bank(url, admin_url, data_key, rms, sessions)


# --- what the simulated RMs record -------------------------------------------------------------------


@dataclass
class Ledger:
    """Socket messages and note writes, across every simulated RM of the process."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    room_top: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # highest acked seq
    sent_at: dict[str, float] = field(default_factory=dict)  # client_id -> time sent
    latencies: list[float] = field(default_factory=list)
    delivered: int = 0
    sent: int = 0
    send_failures: int = 0
    reconnects: int = 0
    logins_taken: int = 0
    started: int = 0  # simulated RMs past sign-in and socket set-up (or failed at it)
    replayed: int = 0  # events missed live and filled by a `sync` on a seen gap
    members: list[RM] = field(default_factory=list)
    note_keys: dict[str, int] = field(default_factory=dict)  # Idempotency-Key -> note id
    note_duplicates: int = 0
    errors_at: list[tuple[float, str]] = field(default_factory=list)
    requests_at: list[float] = field(default_factory=list)

    def reset(self) -> None:
        with self.lock:
            self.latencies.clear()
            self.delivered = self.sent = self.send_failures = self.reconnects = self.note_duplicates = 0
            self.replayed = self.started = self.logins_taken = 0
            self.members.clear()
            self.errors_at.clear()
            self.requests_at.clear()


LEDGER = Ledger()
BANK: Bank | None = None
THINK = (2.0, 6.0)
SIGNED_IN = 0.0  # share of RMs that open the app with the session their phone kept (no sign-in)


class SocketRefused(Exception):
    """A socket event the server answered with an error acknowledgement (its code)."""


def on_request(request_type, name, response_time, response_length, exception=None, response=None, **_kw):
    now = time.time()
    with LEDGER.lock:
        LEDGER.requests_at.append(now)
        if exception is not None or (response is not None and response.status_code >= 500):
            # An HTTP answer counts by its status (locust also passes an HTTPError for it).
            if response is not None:
                what = str(response.status_code)
            elif isinstance(exception, SocketRefused):
                what = f"socket {exception}"  # the error code the server answered with
            else:
                what = type(exception).__name__
            LEDGER.errors_at.append((now, what))


class RM(HttpUser):
    wait_time = between(*THINK)

    def on_start(self) -> None:
        try:
            self._start()
        finally:
            with LEDGER.lock:
                LEDGER.started += 1

    def _start(self) -> None:
        assert BANK is not None
        with LEDGER.lock:  # one simulated RM per login while there are enough, as in a branch
            self.username, self.customer_ids, self.room_id = BANK.rms[LEDGER.logins_taken % len(BANK.rms)]
            LEDGER.logins_taken += 1
        self.rng = random.Random()
        self.received: set[int] = set()
        self.baseline = 0
        self.connects = 0
        self.joined_connects = 0
        kept = BANK.sessions.get(self.username) if self.rng.random() < SIGNED_IN else None
        if kept is not None:
            # The PWA opened with the session the phone kept (idle timeout 30 min, absolute 12 h):
            # no password, no argon2; it asks who is signed in, as the PWA does at start.
            cookie, csrf = kept
            self.client.cookies.set(COOKIE_NAME, cookie)
            self.client.headers["X-CSRF-Token"] = csrf
            with self.client.get("/api/v1/me", name="open with kept session", catch_response=True) as r:
                if r.status_code != 200:
                    r.failure(f"kept session {r.status_code}")
                    self.stop()
                    return
        else:
            self._sign_in()
            if not self.client.headers.get("X-CSRF-Token"):
                return
        self._open_socket()

    def _sign_in(self) -> None:
        with self.client.post(
            "/api/v1/auth/login",
            json={"username": self.username, "password": "demo1234"},
            name="sign-in",
            catch_response=True,
        ) as r:
            if r.status_code != 200:
                r.failure(f"sign-in {r.status_code}")
                self.stop()
                return
            self.client.headers["X-CSRF-Token"] = r.json()["csrf_token"]

    def _open_socket(self) -> None:
        # The socket's own session carries the cookie on every (re)connect (see tests/live/test_cluster_faults.py).
        self.socket_http = requests.Session()
        self.socket_http.cookies.update(self.client.cookies)
        self.sio = socketio.Client(
            reconnection=True, reconnection_delay=0.5, reconnection_delay_max=2, http_session=self.socket_http
        )
        self.sio.on("connect", self._connected, namespace=NS)
        self.sio.on("event", self._event, namespace=NS)
        try:
            self.sio.connect(self.host, namespaces=[NS], wait_timeout=20)
            ack = self.sio.call("join", {"room_id": self.room_id, "last_seq": 0}, namespace=NS, timeout=20)
            self.baseline = ack["last_seq"]
            self.joined_connects = self.connects
            with LEDGER.lock:
                LEDGER.members.append(self)
            self.watcher = gevent.spawn(self._watch)
        except Exception as exc:  # counted: a socket that never came up is an error of the run
            self.environment.events.request.fire(
                request_type="WS", name="socket connect", response_time=0, response_length=0, exception=exc
            )

    def _connected(self) -> None:
        self.connects += 1

    def _event(self, event: dict) -> None:
        now = time.time()
        seq = event.get("seq")
        if event.get("room_id") != self.room_id or seq is None:
            return
        self.received.add(seq)
        with LEDGER.lock:
            LEDGER.delivered += 1
            sent = LEDGER.sent_at.get(event.get("client_id") or "")
            if sent is not None:
                LEDGER.latencies.append(now - sent)

    def _contiguous_top(self) -> int:
        top = self.baseline
        while top + 1 in self.received:
            top += 1
        return top

    def _catch_up(self) -> None:
        """What the PWA's war-room composable does: re-join with the last sequence after a reconnect,
        and ask for the gap when an event arrives past a missing one (useWarRoom.ts)."""
        try:
            if self.connects > self.joined_connects and self.sio.connected:
                last = self._contiguous_top()
                ack = self.sio.call(
                    "join", {"room_id": self.room_id, "last_seq": last}, namespace=NS, timeout=10
                )
                if ack and ack.get("ok"):
                    self.received.update(e["seq"] for e in ack["events"])
                    self.joined_connects = self.connects
                    with LEDGER.lock:
                        LEDGER.reconnects += 1
            top = self._contiguous_top()
            if self.sio.connected and self.received and max(self.received) > top:
                ack = self.sio.call(
                    "sync", {"room_id": self.room_id, "after_seq": top}, namespace=NS, timeout=10
                )
                if ack and ack.get("ok"):
                    fresh = {e["seq"] for e in ack["events"]} - self.received
                    self.received.update(fresh)
                    with LEDGER.lock:
                        LEDGER.replayed += len(fresh)
        except Exception:
            pass  # tried again on the next beat

    def _watch(self) -> None:
        while True:
            gevent.sleep(0.5)
            self._catch_up()

    def on_stop(self) -> None:
        if getattr(self, "watcher", None) is not None:
            self.watcher.kill()
        if getattr(self, "sio", None) is not None:
            self.sio.disconnect()

    # --- a day's steps --------------------------------------------------------------------------------

    @task(4)
    def home(self) -> None:
        self.client.get("/api/v1/home", name="home")
        self.client.get("/api/v1/inbox/unread-count", name="inbox unread")

    @task(3)
    def search(self) -> None:
        q = self.rng.choice(["科技", "制造", "贸易", "上海", "zh", "建设"])
        self.client.get(f"/api/v1/customers?q={q}", name="search")

    @task(3)
    def customer_360(self) -> None:
        self.client.get(f"/api/v1/customers/{self.rng.choice(self.customer_ids)}/360", name="360")

    @task(1)
    def offline_notes(self) -> None:
        """The outbox replays what was written offline: three notes, each sent twice (the first reply
        lost on a flaky network), the same Idempotency-Key both times."""
        for _ in range(3):
            key = str(uuid.uuid4())
            body = {"body": f"离线记事 {key[:8]}", "customer_id": self.rng.choice(self.customer_ids)}
            ids = []
            for _attempt in range(2):
                r = self.client.post(
                    "/api/v1/notes",
                    json=body,
                    headers={"Idempotency-Key": key},
                    name="notes (offline replay)",
                )
                if r.status_code in (200, 201):
                    ids.append(r.json().get("id"))
            if len(set(ids)) > 1:
                with LEDGER.lock:
                    LEDGER.note_duplicates += 1

    @task(1)
    def visit(self) -> None:
        self.client.post(
            f"/api/v1/customers/{self.rng.choice(self.customer_ids)}/visits",
            json={
                "channel": "visit",
                "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "outcome": "面谈了解融资需求",
            },
            headers={"Idempotency-Key": str(uuid.uuid4())},
            name="visit",
        )

    @task(3)
    def war_room_chat(self) -> None:
        if not self.sio.connected:
            return
        started = time.time()
        client_id = str(uuid.uuid4())
        with LEDGER.lock:  # before the call: a delivery may arrive before the acknowledgement
            LEDGER.sent_at[client_id] = started
        try:
            ack = self.sio.call(
                "message",
                {"room_id": self.room_id, "text": f"进展 {client_id[:6]}", "client_id": client_id},
                namespace=NS,
                timeout=10,
            )
            ok = bool(ack and ack.get("ok"))
            exc = None if ok else SocketRefused((ack or {}).get("code") or str(ack))
        except Exception as error:
            ok, exc = False, error
        elapsed_ms = (time.time() - started) * 1000
        self.environment.events.request.fire(
            request_type="WS",
            name="war-room message (ack)",
            response_time=elapsed_ms,
            response_length=0,
            exception=exc,
        )
        with LEDGER.lock:
            if ok:
                seq = ack["event"]["seq"]
                LEDGER.sent += 1
                LEDGER.room_top[self.room_id] = max(LEDGER.room_top[self.room_id], seq)
            else:
                LEDGER.send_failures += 1

    @task(2)
    def feed_and_inbox(self) -> None:
        self.client.get("/api/v1/opportunities/feed", name="opportunity feed")
        self.client.get("/api/v1/inbox", name="inbox")


# --- running a stage ------------------------------------------------------------------------------------


@dataclass
class Stage:
    users: int
    seconds: float
    rows: list[tuple[str, int, int, float, float, float]]
    total_p95: float
    fivexx: int
    errors: int
    sent: int
    delivered: int
    lost: int
    latency: tuple[float, float, float]
    cpu: dict[str, float]
    requests: int
    reconnects: int
    replayed: int
    note_duplicates: int


def losses() -> int:
    """Messages acked into a room that a member still connected never got, live or by replay."""
    lost = 0
    with LEDGER.lock:
        members = list(LEDGER.members)
        tops = dict(LEDGER.room_top)
    for m in members:
        if not m.sio.connected:
            continue
        top = tops.get(m.room_id, 0)
        lost += len(set(range(m.baseline + 1, top + 1)) - m.received)
    return lost


def run_stage(cluster: Cluster, users: int, seconds: float, spawn_rate: float, faults=None) -> Stage:
    LEDGER.reset()
    env = Environment(user_classes=[RM], host=cluster.url)
    env.events.request.add_listener(on_request)
    fivexx = {"n": 0}

    def count_5xx(response=None, **_kw):
        if response is not None and getattr(response, "status_code", 0) >= 500:
            fivexx["n"] += 1

    env.events.request.add_listener(count_5xx)
    runner = env.create_local_runner()
    cpu_before = cluster.cpu_seconds()
    runner.start(users, spawn_rate=spawn_rate)
    # Measure the steady day, after every RM has signed in and opened its socket (sign-ins are
    # deliberately slow, argon2): the sign-in storm of the ramp is its own story.
    ramp_until = time.time() + users / spawn_rate + 120
    while LEDGER.started < users and time.time() < ramp_until:
        gevent.sleep(0.5)
    gevent.sleep(2)
    measured_from = time.time()
    ramp_stats = {
        name: (
            e.num_requests,
            e.num_failures,
            e.get_response_time_percentile(0.5),
            e.get_response_time_percentile(0.95),
        )
        for (name, _m), e in env.stats.entries.items()
        if name in ("sign-in", "open with kept session", "socket connect")
    }
    env.stats.reset_all()
    with LEDGER.lock:
        LEDGER.errors_at.clear()
        LEDGER.requests_at.clear()
    fivexx["n"] = 0
    cpu_start = cluster.cpu_seconds()
    fault_rows = faults(cluster) if faults else None
    remaining = seconds - (time.time() - measured_from)
    if remaining > 0:
        gevent.sleep(remaining)
    cpu_end = cluster.cpu_seconds()
    elapsed = time.time() - measured_from
    gevent.sleep(2)  # let the last broadcasts land
    lost = losses()
    runner.quit()
    del cpu_before
    rows = []
    for (name, _method), entry in sorted(env.stats.entries.items()):
        if entry.num_requests:
            rows.append(
                (
                    name,
                    entry.num_requests,
                    entry.num_failures,
                    entry.get_response_time_percentile(0.5),
                    entry.get_response_time_percentile(0.95),
                    entry.get_response_time_percentile(0.99),
                )
            )
    http_total = [e for (n, m), e in env.stats.entries.items() if m != "WS"]
    total_requests = sum(e.num_requests for e in http_total)
    # p95 over every HTTP request: merge the per-endpoint histograms.
    merged: dict[int, int] = defaultdict(int)
    for e in http_total:
        for rt, count in e.response_times.items():
            merged[rt] += count
    cumulative, total_p95 = 0, 0.0
    for rt in sorted(merged):
        cumulative += merged[rt]
        if cumulative >= 0.95 * total_requests:
            total_p95 = float(rt)
            break
    lat = LEDGER.latencies
    stage = Stage(
        users=users,
        seconds=elapsed,
        rows=rows,
        total_p95=total_p95,
        fivexx=fivexx["n"],
        errors=sum(r[2] for r in rows),
        sent=LEDGER.sent,
        delivered=LEDGER.delivered,
        lost=lost,
        latency=(percentile(lat, 50) * 1000, percentile(lat, 95) * 1000, percentile(lat, 99) * 1000),
        cpu={k: (cpu_end[k] - cpu_start.get(k, 0.0)) / elapsed * 100 for k in cpu_end},
        requests=total_requests,
        reconnects=LEDGER.reconnects,
        replayed=LEDGER.replayed,
        note_duplicates=LEDGER.note_duplicates,
    )
    if fault_rows is not None:
        stage.fault_rows = fault_rows  # type: ignore[attr-defined]
    stage.ramp = ramp_stats  # type: ignore[attr-defined]
    return stage


def print_stage(stage: Stage, web: int) -> None:
    print(f"\n== {stage.users} simulated RMs, {stage.seconds:.0f} s measured, {web} web process(es) ==")
    for name, (n, failures, p50, p95) in getattr(stage, "ramp", {}).items():
        print(f"ramp-up {name}: {n} ({failures} failed), p50 {p50:.0f} ms, p95 {p95:.0f} ms")
    print(f"{'endpoint':32} {'requests':>8} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    for name, n, failures, p50, p95, p99 in stage.rows:
        print(f"{name:32} {n:8d} {failures:6d} {p50:7.0f} {p95:7.0f} {p99:7.0f}")
    print(
        f"HTTP: {stage.requests} requests ({stage.requests / stage.seconds:.0f}/s), p95 {stage.total_p95:.0f} ms, "
        f"5xx {stage.fivexx}, errors {stage.errors}; offline-replay notes stored twice: {stage.note_duplicates}"
    )
    expected_note = "" if stage.sent else " (none sent)"
    p50, p95, p99 = stage.latency
    print(
        f"sockets: {stage.sent} messages sent{expected_note}, {stage.delivered} deliveries, {stage.lost} lost; "
        f"fan-out p50/p95/p99 {p50:.0f}/{p95:.0f}/{p99:.0f} ms; {stage.reconnects} re-joins after reconnect, "
        f"{stage.replayed} missed live and replayed on a seen gap"
    )
    print(
        "CPU (% of one core): "
        + ", ".join(f"{k} {v:.0f}" if v >= 0 else f"{k} (restarted)" for k, v in sorted(stage.cpu.items()))
    )


def holds(stage: Stage) -> bool:
    return stage.total_p95 <= P95_BOUND_MS and stage.fivexx == 0 and stage.lost == 0


# --- faults ---------------------------------------------------------------------------------------------


class PrivateRedis:
    def __init__(self, workdir: Path):
        from deploy.cluster import free_port
        from tests.live.test_chains_survive_redis import RedisServer

        self.server = RedisServer(free_port(), workdir)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.server.port}/0"


def private_postgres(web: int, workers: int):
    """The fault stage's own PostgreSQL server (tests/live/postgres_server.py), so restarting it touches
    nothing else on the machine. Room for every process's full pool (DB_POOL_SIZE + DB_MAX_OVERFLOW)."""
    from deploy.cluster import free_port
    from server.config import Settings
    from tests.live.postgres_server import PostgresServer

    settings = Settings()
    per_process = settings.DB_POOL_SIZE + settings.DB_MAX_OVERFLOW
    # Its own temporary directory: the server runs as the postgres account, which must reach it.
    workdir = Path(tempfile.mkdtemp(prefix="zhanye-soak-pg-"))
    server = PostgresServer(
        free_port(), workdir, settings={"max_connections": str((web + workers + 2) * per_process + 20)}
    )
    server.init()
    server.start()
    return server


def fault_drills(redis: PrivateRedis, bank: Bank, window: float, postgres=None):
    def drills(cluster: Cluster) -> list[tuple[str, int, int, int, int, str]]:
        from sqlalchemy import create_engine, text

        rows = []

        def observe(name: str, act) -> None:
            with LEDGER.lock:
                before_req, before_err = len(LEDGER.requests_at), len(LEDGER.errors_at)
            with LEDGER.lock:
                replayed_before, rejoins_before = LEDGER.replayed, LEDGER.reconnects
            started = time.time()
            act()
            gevent.sleep(window)
            with LEDGER.lock:
                requests_in = len(LEDGER.requests_at) - before_req
                errors = LEDGER.errors_at[before_err:]
            last_error = max((t for t, _ in errors), default=None)
            recovery = f"{last_error - started:.1f} s" if last_error else "no errors"
            kinds = Counter(what for _, what in errors)
            if kinds:  # what the errors were: 503 problems while a store is away, never a 500
                recovery += " (" + ", ".join(f"{what} ×{n}" for what, n in kinds.most_common()) + ")"
            with LEDGER.lock:
                caught_up = (LEDGER.replayed - replayed_before, LEDGER.reconnects - rejoins_before)
            rows.append((name, requests_in, len(errors), LEDGER.note_duplicates, caught_up, recovery))

        def kill_web() -> None:
            cluster.kill_web(0)
            # systemd's Restart=always brings it back after RestartSec; its sockets moved meanwhile.
            gevent.spawn_later(1.0, cluster.restart_web, 0)

        observe("kill -9 web process", kill_web)
        observe("kill -9 worker (+ horse)", lambda: cluster.kill_worker(0))

        def restart_redis() -> None:
            redis.server.stop()
            gevent.sleep(1.0)
            redis.server.start()

        observe("Redis restart (empty)", restart_redis)
        if postgres is not None:

            def restart_postgres() -> None:
                # -m fast ends every session: open transactions roll back, pooled connections die.
                postgres.stop("fast")
                gevent.sleep(1.0)
                postgres.start()

            observe("PostgreSQL restart (-m fast)", restart_postgres)
        engine = create_engine(bank.database_url.replace("postgresql://", "postgresql+psycopg2://"))
        with engine.connect() as conn:
            dupes = conn.execute(
                text(
                    "SELECT count(*) FROM (SELECT user_id, source_key FROM notification GROUP BY 1, 2 HAVING count(*) > 1) d"
                )
            ).scalar()
        engine.dispose()
        rows.append(("(inbox notifications stored twice)", 0, 0, int(dupes or 0), (0, 0), "-"))
        return rows

    return drills


def main() -> None:
    global BANK, THINK, SIGNED_IN
    parser = argparse.ArgumentParser()
    parser.add_argument("--rms", type=int, default=100, help="simulated RMs for a single stage")
    parser.add_argument("--capacity", default="", help="comma-separated RM counts: one stage each")
    parser.add_argument(
        "--seconds", type=float, default=60, help="measured seconds per stage (after ramp-up)"
    )
    parser.add_argument("--spawn-rate", type=float, default=10, help="sign-ins per second while ramping")
    parser.add_argument("--think", default="2,6", help="seconds between an RM's steps: min,max")
    parser.add_argument("--web", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--faults", action="store_true")
    parser.add_argument(
        "--signed-in",
        type=float,
        default=0.0,
        help="share of RMs whose phone kept its session (they open the app without signing in)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres",
    )
    args = parser.parse_args()
    low, high = (float(x) for x in args.think.split(","))
    THINK = (low, high)
    SIGNED_IN = args.signed_in
    RM.wait_time = between(low, high)

    started = time.time()
    counts = [int(x) for x in args.capacity.split(",") if x] or [args.rms]
    run_dir = Path(tempfile.mkdtemp(prefix="zhanye-soak-"))
    # With --faults the bank lives on a private PostgreSQL server the drills may restart.
    postgres = private_postgres(args.web, args.workers) if args.faults else None
    BANK = prepare(postgres.url() if postgres else args.database_url, args.customers, max(counts))
    print(
        f"bank: {args.customers} customers, {len(BANK.rms)} RM logins in {len(BANK.rms) // ROOM_SIZE} rooms "
        f"(prepared in {time.time() - started:.0f} s)"
    )
    redis = PrivateRedis(run_dir)
    redis.server.start()
    cluster = Cluster(
        env={
            "DATABASE_URL": BANK.database_url,
            "REDIS_URL": redis.url,
            "DATA_KEY": BANK.data_key,
            "DEMO_MODE": "true",
            "LOGIN_RATE_PER_MINUTE": "1000000",  # every simulated RM signs in from 127.0.0.1
            "WARROOM_RATE_LIMIT": "1000000",
            "PWA_DIST": os.environ.get("PWA_DIST", str(ROOT / "pwa" / "dist")),
        },
        web=args.web,
        workers=args.workers,
        run_dir=run_dir,
        login_rate="100000r/s",
    )
    cluster.start()
    print(f"cluster: nginx {cluster.url} -> {args.web} web, {args.workers} workers; logs in {run_dir}")
    try:
        stages = []
        for users in counts:
            faults = (
                fault_drills(redis, BANK, window=max(5.0, args.seconds / 4), postgres=postgres)
                if args.faults
                else None
            )
            stage = run_stage(cluster, users, args.seconds, args.spawn_rate, faults)
            print_stage(stage, args.web)
            stages.append(stage)
            if getattr(stage, "fault_rows", None):
                print(
                    f"\n{'fault':36} {'requests':>8} {'errors':>6} {'dupes':>5} {'replayed':>8} {'re-joins':>8}"
                    "  recovery (last error after the fault)"
                )
                for name, n, errors, dupes, (replayed, rejoins), recovery in stage.fault_rows:  # type: ignore[attr-defined]
                    print(f"{name:36} {n:8d} {errors:6d} {dupes:5d} {replayed:8d} {rejoins:8d}  {recovery}")
                print(f"lost at the end of the stage (never delivered, live or by replay): {stage.lost}")
        if len(stages) > 1 or args.capacity:
            print(
                f"\ncapacity ({args.web} web process(es); holds = HTTP p95 <= {P95_BOUND_MS:.0f} ms, 0 5xx, 0 lost):"
            )
            best = 0
            for s in stages:
                ok = holds(s)
                best = s.users if ok and s.users > best else best
                print(
                    f"  {s.users:6d} RMs: p95 {s.total_p95:5.0f} ms, 5xx {s.fivexx}, lost {s.lost}, "
                    f"{s.requests / s.seconds:5.0f} req/s -> {'holds' if ok else 'does not hold'}"
                )
            print(
                f"  capacity: {best} simulated RMs = {best / args.web:.0f} per web process "
                f"(think time {low:g}-{high:g} s)"
            )
    finally:
        cluster.stop()
        redis.server.stop()
        if postgres is not None:
            postgres.stop("fast")
            shutil.rmtree(postgres.workdir, ignore_errors=True)
        else:
            from sqlalchemy import create_engine, text

            admin = create_engine(BANK.admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(
                    text(f'DROP DATABASE IF EXISTS "{BANK.database_url.rsplit("/", 1)[1]}" WITH (FORCE)')
                )
            admin.dispose()


if __name__ == "__main__":
    main()
