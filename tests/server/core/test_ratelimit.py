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


def test_counting_goes_on_after_redis_forgets_its_scripts(redis_url, monkeypatch):
    """A hit is one server-side script; a restarted Redis has none loaded. The next hit loads it again
    and counts on, rather than failing over to this process's own counters."""
    monkeypatch.setattr(ratelimit, "_redis_down_until", 0.0)
    client = redis.Redis.from_url(redis_url)
    key = f"t:{uuid.uuid4()}"
    at = 1_800_000_000.0
    assert _hits(client, key, 20, at=at, monkeypatch=monkeypatch, limit=25) == [True] * 20
    client.script_flush()
    assert _hits(client, key, 6, at=at, monkeypatch=monkeypatch, limit=25) == [True] * 5 + [False]
    assert int(client.get(f"rl:{key}:{int(at // 10)}")) == 26
    assert ratelimit._redis_down_until == 0.0  # Redis was never given up on


def test_a_window_counter_expires_once_it_can_no_longer_count(redis_url, monkeypatch):
    client = redis.Redis.from_url(redis_url)
    key = f"t:{uuid.uuid4()}"
    at = 1_800_000_000.0
    _hits(client, key, 3, at=at, monkeypatch=monkeypatch, window=10)
    # Still needed as the previous window throughout the next one; gone after that.
    assert 20 <= client.ttl(f"rl:{key}:{int(at // 10)}") <= 21
