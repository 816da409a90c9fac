from __future__ import annotations

import redis
from flask import Flask, current_app


def init_app(app: Flask) -> None:
    # A blocking pool: under eventlet hundreds of greenlets may call Redis at once, and a caller
    # past the pool's size should wait a moment for a connection rather than fail.
    pool = redis.BlockingConnectionPool.from_url(
        app.config["SETTINGS"].REDIS_URL,
        max_connections=500,
        timeout=10,
        socket_timeout=5,
        socket_connect_timeout=2,
    )
    app.extensions["zhanye_redis"] = redis.Redis(connection_pool=pool)
    # Rate limits on the sign-in path wait at most a second for Redis, then count in process
    # (server/ratelimit.py): a Redis that is down or stalled must not keep anyone from signing in.
    limiter_pool = redis.BlockingConnectionPool.from_url(
        app.config["SETTINGS"].REDIS_URL,
        max_connections=200,
        timeout=1.0,
        socket_timeout=1.0,
        socket_connect_timeout=1.0,
    )
    app.extensions["zhanye_redis_limiter"] = redis.Redis(connection_pool=limiter_pool)


def get_redis() -> redis.Redis:
    return current_app.extensions["zhanye_redis"]


def get_limiter_redis() -> redis.Redis:
    return current_app.extensions["zhanye_redis_limiter"]
