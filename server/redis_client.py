from __future__ import annotations

import redis
from flask import Flask, current_app


def init_app(app: Flask) -> None:
    app.extensions["zhanye_redis"] = redis.Redis.from_url(
        app.config["SETTINGS"].REDIS_URL, socket_timeout=5, socket_connect_timeout=2
    )


def get_redis() -> redis.Redis:
    return current_app.extensions["zhanye_redis"]
