"""Fixed-window counters in Redis, shared by every web process (login, export, messaging)."""

from __future__ import annotations

import time

import redis


def hit(client: redis.Redis, key: str, *, limit: int, window_seconds: int) -> tuple[bool, int]:
    """Count one hit; returns (allowed, seconds until the window resets)."""
    window = int(time.time() // window_seconds)
    full_key = f"rl:{key}:{window}"
    pipe = client.pipeline()
    pipe.incr(full_key)
    pipe.expire(full_key, window_seconds + 1)
    count, _ = pipe.execute()
    retry_after = window_seconds - int(time.time() % window_seconds)
    return int(count) <= limit, retry_after
