"""Sign-in when Redis is down or stalled: never a 500. The rate limit falls back to a count in this
process, so a bank can still sign in and a password guesser is still stopped."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from server import create_app, ratelimit
from tests import factories
from tests.conftest import free_port


@pytest.fixture
def stalled_redis_url():
    """A TCP server that accepts connections and never answers: a Redis that hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


@pytest.mark.parametrize("kind", ["down", "stalled"])
def test_sign_in_works_and_is_still_limited_without_redis(
    test_config, db_session, stalled_redis_url, monkeypatch, kind
):
    monkeypatch.setattr(ratelimit, "LOCAL", ratelimit.LocalWindows())
    monkeypatch.setattr(ratelimit, "_redis_down_until", 0.0)
    url = f"redis://127.0.0.1:{free_port()}/0" if kind == "down" else stalled_redis_url
    app = create_app({**test_config, "REDIS_URL": url, "LOGIN_RATE_PER_MINUTE": 3})
    user = factories.make_user(db_session)
    client = app.test_client()
    started = time.perf_counter()
    response = client.post(
        "/api/v1/auth/login", json={"username": user.username, "password": factories.PASSWORD}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert time.perf_counter() - started < 3.0  # waits at most ~0.5 s per limiter call
    assert client.get("/api/v1/me").status_code == 200
    statuses = [
        client.post("/api/v1/auth/login", json={"username": user.username, "password": "wrong"}).status_code
        for _ in range(4)
    ]
    assert statuses[:2] == [401, 401] and statuses[-1] == 429
