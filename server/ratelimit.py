"""Sliding-window counters in Redis, shared by every web process (messaging, exports).

A plain fixed window lets a burst straddle the boundary (half in one window, half in the next) and
pass at twice the limit. The sliding estimate weights the previous window by how much of it still
overlaps the last `window_seconds`, which closes that gap at the cost of two keys per caller."""

from __future__ import annotations

import time

import redis


def hit(client: redis.Redis, key: str, *, limit: int, window_seconds: int) -> tuple[bool, int]:
    """Count one hit; returns (allowed, seconds until another hit would be allowed, at most one
    window). Refused hits are counted too, so a client that keeps hammering stays refused."""
    now = time.time()
    window = int(now // window_seconds)
    elapsed = (now % window_seconds) / window_seconds
    current_key = f"rl:{key}:{window}"
    pipe = client.pipeline()
    pipe.incr(current_key)
    pipe.expire(current_key, 2 * window_seconds + 1)
    pipe.get(f"rl:{key}:{window - 1}")
    current, _, previous = pipe.execute()
    estimate = int(previous or 0) * (1.0 - elapsed) + int(current)
    retry_after = max(1, int(window_seconds - (now % window_seconds)))
    return estimate <= limit, retry_after
