"""The shared rate limiter against a real Redis, with the clock pinned."""

from __future__ import annotations

import uuid

import redis

from server import ratelimit


def _hits(client, key, n, *, at, monkeypatch, limit=30, window=10):
    monkeypatch.setattr(ratelimit.time, "time", lambda: at)
    return [ratelimit.hit(client, key, limit=limit, window_seconds=window)[0] for _ in range(n)]


def test_a_burst_straddling_the_window_boundary_is_still_limited(redis_url, monkeypatch):
    client = redis.Redis.from_url(redis_url)
    key = f"t:{uuid.uuid4()}"
    boundary = 1_800_000_000.0  # a multiple of 10
    first = _hits(client, key, 20, at=boundary - 0.2, monkeypatch=monkeypatch)
    second = _hits(client, key, 20, at=boundary + 0.2, monkeypatch=monkeypatch)
    assert all(first)
    # A fixed window would let all 40 through; the previous window still counts ~98% here.
    assert second.count(True) == 10 and second[-1] is False


def test_the_allowance_returns_as_the_window_slides(redis_url, monkeypatch):
    client = redis.Redis.from_url(redis_url)
    key = f"t:{uuid.uuid4()}"
    start = 1_800_000_000.0
    assert _hits(client, key, 31, at=start + 1, monkeypatch=monkeypatch)[-1] is False
    assert _hits(client, key, 1, at=start + 9, monkeypatch=monkeypatch) == [False]
    # Half-way through the next window, half of the previous 32 hits still count.
    later = _hits(client, key, 15, at=start + 15, monkeypatch=monkeypatch)
    assert later == [True] * 14 + [False]
    allowed, retry_after = ratelimit.hit(client, key, limit=30, window_seconds=10)
    assert 1 <= retry_after <= 10
