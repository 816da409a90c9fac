"""Liveness of the parts the app needs, and test-only endpoints behind a flag production never sets."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint, current_app, jsonify
from pydantic import Field
from spectree import Response
from sqlalchemy import text

from server import db
from server.api import spec
from server.redis_client import get_redis
from server.schemas import Strict
from server.security import public

bp = Blueprint("health", __name__)


class HealthChecks(Strict):
    database: str = Field(description='"ok" or "error: <exception type>"')
    redis: str


class Health(Strict):
    status: Literal["ok", "degraded"]
    checks: HealthChecks


@bp.get("/healthz")
@spec.validate(
    resp=Response(
        HTTP_200=Health, HTTP_503=(None, "Degraded: the same body as 200, naming the failed check")
    ),
    tags=["health"],
)
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
