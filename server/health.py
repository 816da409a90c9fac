"""Liveness of the parts the app needs, and test-only endpoints behind a flag production never sets."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from server import db
from server.api import spec
from server.redis_client import get_redis
from server.security import public

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    checks = {}
    try:
        db.session().exec(text("SELECT 1"))  # type: ignore[call-overload]
        checks["database"] = "ok"
    except Exception as exc:  # report, do not crash
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        get_redis().ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return jsonify({"status": "ok" if healthy else "degraded", "checks": checks}), 200 if healthy else 503


@bp.get("/api/v1/openapi.json")
@public
def openapi():
    return jsonify(spec.spec)


test_bp = Blueprint("test_support", __name__, url_prefix="/api/v1/_test")


@test_bp.get("/slow-query/<float:seconds>")
@public
def slow_query(seconds: float):
    """Holds a database connection busy, to prove other requests are not blocked meanwhile."""
    session = db.session()
    if session.get_bind().dialect.name == "postgresql":
        session.exec(text("SELECT pg_sleep(:s)").bindparams(s=min(seconds, 5)))  # type: ignore[call-overload]
    else:
        current_app.logger.info("slow-query needs PostgreSQL; nothing to do on SQLite")
    return jsonify({"slept": seconds})
