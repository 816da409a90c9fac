"""The app's Redis clients, built from REDIS_URL in either of its two forms:

- `redis://host:port/db` — one Redis (or a virtual address that follows the primary);
- `redis+sentinel://[:password@]s1:26379,s2:26379,s3:26379/db/service` — Redis Sentinel: each new
  connection asks the Sentinels which server is the primary of `service`, so after a failover the
  clients reach the promoted replica without a restart. The same URL form python-socketio's
  RedisManager (the message queue) takes, parsed by its function; the RQ worker gets it as the
  SENTINEL dict it reads (tasks/rq_settings.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import redis
from flask import Flask, current_app
from redis.sentinel import Sentinel
from socketio.redis_manager import parse_redis_sentinel_url

SENTINEL_SCHEME = "redis+sentinel"


def is_sentinel_url(url: str) -> bool:
    return urlparse(url).scheme == SENTINEL_SCHEME


def database_number(url: str) -> int:
    """The database a URL names, in either form (pub/sub channels are kept apart by it)."""
    if is_sentinel_url(url):
        return int(parse_redis_sentinel_url(url)[2].get("db", 0))
    return int(urlparse(url).path.strip("/") or 0)


def sentinel_settings(url: str) -> dict[str, Any]:
    """The URL as the SENTINEL dict of RQ's settings module (`rq worker -c`)."""
    sentinels, service, kwargs = parse_redis_sentinel_url(url)
    return {
        "INSTANCES": sentinels,
        "MASTER_NAME": service,
        "DB": kwargs.get("db", 0),
        "USERNAME": kwargs.get("username"),
        "PASSWORD": kwargs.get("password"),
        "SENTINEL_KWARGS": {"socket_timeout": 2},
    }


def client_from_url(url: str, *, max_connections: int | None = None, **options: Any) -> redis.Redis:
    """A client for `url`. `max_connections` makes the pool blocking: under eventlet hundreds of
    greenlets may call Redis at once, and a caller past the pool's size waits a moment for a
    connection rather than fail. `options` are connection options (timeouts)."""
    if not is_sentinel_url(url):
        if max_connections is None:
            return redis.Redis.from_url(url, **options)
        pool = redis.BlockingConnectionPool.from_url(url, max_connections=max_connections, **options)
        return redis.Redis(connection_pool=pool)
    sentinels, service, kwargs = parse_redis_sentinel_url(url)
    if not service:
        raise ValueError("a redis+sentinel URL names its service: redis+sentinel://host:port/db/service")
    options.pop("timeout", None)  # the blocking pool's wait; Sentinel's pool does not block
    sentinel = Sentinel(
        sentinels,
        sentinel_kwargs={"socket_timeout": options.get("socket_connect_timeout", 2)},
        **options,
    )
    # The Sentinel pool grows as needed (it has no blocking variant); a failover closes its
    # connections to the old primary and the next command connects to the new one.
    return sentinel.master_for(service, redis_class=redis.Redis, **kwargs)


def init_app(app: Flask) -> None:
    url = app.config["SETTINGS"].REDIS_URL
    app.extensions["zhanye_redis"] = client_from_url(
        url, max_connections=500, timeout=10, socket_timeout=5, socket_connect_timeout=2
    )
    # Rate limits on the sign-in path wait at most a second for Redis, then count in process
    # (server/ratelimit.py): a Redis that is down or stalled must not keep anyone from signing in.
    app.extensions["zhanye_redis_limiter"] = client_from_url(
        url, max_connections=200, timeout=1.0, socket_timeout=1.0, socket_connect_timeout=1.0
    )


def get_redis() -> redis.Redis:
    return current_app.extensions["zhanye_redis"]


def get_limiter_redis() -> redis.Redis:
    return current_app.extensions["zhanye_redis_limiter"]
