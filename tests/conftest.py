"""Shared fixtures. Tests run against real services: the database named by DATABASE_URL (a fresh
PostgreSQL database is created per run) or a fresh SQLite file, and a real Redis (TEST_REDIS_URL,
default db 15, flushed at start). The schema is built by the real Alembic migrations."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from alembic import command
from alembic.config import Config
from rq import SimpleWorker
from sqlalchemy import create_engine, text
from sqlmodel import Session

from server import create_app, db, events
from server.config import sqlalchemy_url
from server.opportunities.models import ClaimPolicy
from tests import factories

ROOT = Path(__file__).resolve().parent.parent


def _admin_url(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith("postgres"):
        name = f"zhanye_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        pg = sqlalchemy_url(base)
        admin = create_engine(_admin_url(pg), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield pg.rsplit("/", 1)[0] + "/" + name
        db.dispose_all()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = (
        os.environ.get("TEST_REDIS_URL") or f"redis://127.0.0.1:6379/{os.environ.get('TEST_REDIS_DB', '15')}"
    )
    redis.Redis.from_url(url).flushdb()
    return url


def migrate(database_url: str, revision: str = "heads", *, down: bool = False) -> None:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = database_url
    cfg.attributes["skip_logging"] = True
    if down:
        command.downgrade(cfg, revision)
    else:
        command.upgrade(cfg, revision)


@pytest.fixture(scope="session")
def test_config(database_url, redis_url, tmp_path_factory) -> dict:
    var_dir = tmp_path_factory.mktemp("var")
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "VAR_DIR": var_dir,
        "TESTING": True,
        "ENABLE_TEST_ENDPOINTS": True,
        "ASYNC_MODE": "threading",
        "LOGIN_RATE_PER_MINUTE": 100000,
        # The local stand-ins (push service, feeds) listen on loopback, which outbound HTTP refuses
        # unless allow-listed (server/outbound.py).
        "OUTBOUND_ALLOW_HOSTS": ["127.0.0.1"],
        "DEMO_MODE": True,
        "PWA_DIST": Path(os.environ.get("PWA_DIST") or ROOT / "pwa" / "dist"),
    }


@pytest.fixture(scope="session")
def app(test_config):
    """The in-process app. Of the process's sinks it installs only the domain's own (the claim race's
    record): tests that exercise a job or real-time sink add it themselves, or use `worker`."""
    from tasks.sinks import SERVER_SINKS

    migrate(test_config["DATABASE_URL"])
    events.install(SERVER_SINKS)
    return create_app(test_config)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db_session(app) -> Iterator[Session]:
    with Session(db.engine_for(app), expire_on_commit=False) as session:
        yield session


@pytest.fixture
def data_key(app) -> str:
    return app.config["SETTINGS"].DATA_KEY


class ApiClient:
    """A signed-in test client that sends the CSRF header on every mutating call."""

    def __init__(self, flask_client, csrf_token: str, user):
        self.raw = flask_client
        self.csrf_token = csrf_token
        self.user = user

    def _headers(self, headers):
        merged = {"X-CSRF-Token": self.csrf_token}
        merged.update(headers or {})
        return merged

    def get(self, url, **kw):
        return self.raw.get(url, **kw)

    def post(self, url, headers=None, **kw):
        return self.raw.post(url, headers=self._headers(headers), **kw)

    def patch(self, url, headers=None, **kw):
        return self.raw.patch(url, headers=self._headers(headers), **kw)

    def put(self, url, headers=None, **kw):
        return self.raw.put(url, headers=self._headers(headers), **kw)

    def delete(self, url, headers=None, **kw):
        return self.raw.delete(url, headers=self._headers(headers), **kw)


@pytest.fixture
def login(app):
    def _login(user) -> ApiClient:
        flask_client = app.test_client()
        response = flask_client.post(
            "/api/v1/auth/login", json={"username": user.username, "password": factories.PASSWORD}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        return ApiClient(flask_client, response.get_json()["csrf_token"], user)

    return _login


@pytest.fixture
def rm(db_session):
    return factories.make_user(db_session)


# --- real processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, env: dict[str, str], port: int):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.log_path = Path(self.env["VAR_DIR"]) / f"server-{self.port}.log"
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "wsgi.py")], env=self.env, cwd=ROOT, stdout=log, stderr=log
            )
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError("server did not start in 30 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def server_env(test_config: dict, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update(
        {
            k: json.dumps(v) if isinstance(v, (list, dict)) else str(v)
            for k, v in test_config.items()
            if k != "ASYNC_MODE"
        }
    )
    env.update(
        {
            "ASYNC_MODE": "eventlet",
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "PUBLIC_URL": f"http://127.0.0.1:{port}",
        }
    )
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def start_server(app, test_config):
    """Starts extra real server processes on demand (e.g. two behind one message queue)."""
    servers: list[LiveServer] = []

    def _start(**extra: str) -> LiveServer:
        port = free_port()
        server = LiveServer(server_env(test_config, port, **extra), port)
        server.start()
        servers.append(server)
        return server

    yield _start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def live_server(start_server) -> LiveServer:
    """The real web process (eventlet, Socket.IO, the built PWA) on the test database."""
    return start_server()


def http_login(base_url: str, username: str, password: str = factories.PASSWORD) -> requests.Session:
    """A requests session signed in to a live server, with the CSRF header set."""
    http = requests.Session()
    response = http.post(
        base_url + "/api/v1/auth/login", json={"username": username, "password": password}, timeout=10
    )
    response.raise_for_status()
    http.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return http


def in_order_socket_client(**options):
    """A python-socketio client whose event handlers run one at a time in arrival order, as the
    browser's client runs them. The stock client starts a thread per message, so two events that
    arrive in order can reach their handlers swapped; tests that check the order a room saw need the
    order the wire carried. Handlers must not wait on the same client (its reader runs them)."""
    import engineio
    import socketio

    class InOrderEngineIO(engineio.Client):
        def _trigger_event(self, event, *args, **kwargs):
            if event == "message":
                kwargs["run_async"] = False
            return super()._trigger_event(event, *args, **kwargs)

    class InOrderClient(socketio.Client):
        def _engineio_client_class(self):
            return InOrderEngineIO

    return InOrderClient(**options)


@pytest.fixture
def socket_client(live_server):
    """socket_client(user, namespace) -> a connected python-socketio client (disconnected after)."""
    clients = []

    def _connect(user, namespace: str, *, base_url: str | None = None, wait: bool = True):
        base = base_url or live_server.url
        http = http_login(base, user.username)
        cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
        client = in_order_socket_client(reconnection=False)
        client.connect(
            base,
            namespaces=[namespace],
            headers={"Cookie": cookie},
            transports=["websocket"],
            wait=wait,
            wait_timeout=10,
        )
        client.http = http  # type: ignore[attr-defined]
        clients.append(client)
        return client

    yield _connect
    for client in clients:
        try:
            client.disconnect()
        except Exception:
            pass


class BurstWorker(SimpleWorker):
    """A SimpleWorker that does not listen for worker commands (stop, kill-horse) on its pub/sub
    channel: tests send none, and with redis-py 8.2 stopping that listener waits out its 60 s poll,
    so every `work(burst=True)` could stall a minute on teardown."""

    def subscribe(self) -> None:
        self.pubsub_thread = None

    def unsubscribe(self) -> None:
        pass


@pytest.fixture
def worker(app, redis_url):
    """A real RQ SimpleWorker on the test Redis: call worker.work(burst=True) to run queued jobs."""
    import tasks.context
    from realtime.sinks import SINKS as REALTIME_SINKS
    from tasks.queues import QUEUES, queue
    from tasks.queues import init_app as init_queues
    from tasks.sinks import SERVER_SINKS

    init_queues(app)
    tasks.context._app = app  # jobs run in the test app (same database and Redis)
    # What jobs commit reaches sockets, as in a real worker. The job sinks stay off: a test's own
    # commits would otherwise queue jobs it does not run (the live worker test installs them all).
    before = events.installed()
    events.install([*SERVER_SINKS, *REALTIME_SINKS, *before])
    yield BurstWorker([queue(name) for name in QUEUES], connection=redis.Redis.from_url(redis_url))
    events.install(before)


@pytest.fixture
def policy(db_session):
    """Sets the opportunity pool's rules (`claim_policy`) for one test and puts them back after."""
    row = db_session.get(ClaimPolicy, 1)
    saved = (row.require_qualification, row.max_open_claims, row.priority_window_minutes)

    def _set(**fields):
        for name, value in fields.items():
            setattr(row, name, value)
        db_session.add(row)
        db_session.commit()
        return row

    yield _set
    db_session.refresh(row)
    row.require_qualification, row.max_open_claims, row.priority_window_minutes = saved
    db_session.add(row)
    db_session.commit()
