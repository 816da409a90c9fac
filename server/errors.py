"""RFC 9457 problem details: the one error format of the HTTP API."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Flask, Response, json
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://zhanye.example/problems/"


class Problem(Exception):
    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        code: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.code = code or title.lower().replace(" ", "-")
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra


def not_found(what: str = "resource") -> Problem:
    return Problem(404, "Not Found", f"No such {what}.", code="not-found")


def forbidden(detail: str = "You may not do this.") -> Problem:
    return Problem(403, "Forbidden", detail, code="forbidden")


def conflict(detail: str, *, code: str = "conflict", **extra: Any) -> Problem:
    """409: the request is sound but the thing's present state refuses it (ended, taken, not yours yet)."""
    return Problem(409, "Conflict", detail, code=code, **extra)


def stale(detail: str, *, code: str = "stale-version", **extra: Any) -> Problem:
    """412: the If-Match version is not the current one; `current` (in extra) lets the client merge."""
    return Problem(412, "Precondition Failed", detail, code=code, **extra)


def unprocessable(
    detail: str, *, code: str = "validation", errors: list[dict[str, Any]] | None = None, **extra: Any
) -> Problem:
    """422: the body parsed but its content is refused; `errors` names the fields at fault."""
    return Problem(422, "Unprocessable Content", detail, code=code, errors=errors, **extra)


def too_many_requests(detail: str, *, retry_after: int, code: str = "rate-limited") -> Problem:
    """429 with Retry-After in seconds: a limit on how often, not a refusal of what."""
    return Problem(
        429,
        "Too Many Requests",
        detail,
        code=code,
        headers={"Retry-After": str(retry_after)},
        retry_after=retry_after,
    )


def is_database_outage(exc: BaseException) -> bool:
    """The database went away (restart, failover, network) rather than refusing this statement: the
    connection was invalidated, or connecting failed. Retrying later is the answer."""
    return isinstance(exc, DBAPIError) and (exc.connection_invalidated or isinstance(exc, OperationalError))


def unavailable(detail: str, *, retry_after: int) -> Problem:
    """503 with Retry-After: a backing service (database, Redis) is away or the process is saturated;
    nothing was written and the same request may be sent again."""
    return Problem(
        503, "Service Unavailable", detail, code="unavailable", headers={"Retry-After": str(retry_after)}
    )


def database_unavailable() -> Problem:
    return unavailable("The database is restarting; try again in a moment.", retry_after=5)


def problem_response(problem: Problem) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + problem.code,
        "title": problem.title,
        "status": problem.status,
        "code": problem.code,
    }
    if problem.detail:
        body["detail"] = problem.detail
    if problem.errors:
        body["errors"] = problem.errors
    body.update(problem.extra)
    response = Response(json.dumps(body), status=problem.status, mimetype="application/problem+json")
    for name, value in problem.headers.items():
        response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def field_errors_from_pydantic(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query")]
        out.append(
            {"field": ".".join(loc) or None, "message": err.get("msg", "invalid"), "type": err.get("type")}
        )
    return out


def init_app(app: Flask) -> None:
    @app.errorhandler(Problem)
    def _problem(problem: Problem):
        return problem_response(problem)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.response is not None and exc.code == 422:
            return exc.response
        code = (exc.name or "error").lower().replace(" ", "-")
        return problem_response(Problem(exc.code or 500, exc.name, exc.description, code=code))

    @app.errorhandler(RedisError)
    def _redis_unavailable(exc: RedisError):
        # Redis down or restarting: what needs it (rate limits, the claim race, queues) answers at
        # once with a retryable 503; reads that need only the database keep working meanwhile.
        log.warning("redis unavailable: %s", type(exc).__name__)
        return problem_response(
            unavailable("A backing service is restarting; try again in a moment.", retry_after=5)
        )

    @app.errorhandler(PoolTimeout)
    def _pool_exhausted(exc: PoolTimeout):
        # Every pooled database connection stayed busy past the pool's wait: the process is
        # overloaded. A retryable 503 (nothing was written), not a 500 with a traceback.
        log.warning("database pool exhausted: %s", exc)
        return problem_response(unavailable("The service is busy; try again in a moment.", retry_after=2))

    @app.errorhandler(DBAPIError)
    def _database_error(exc: DBAPIError):
        # A restart or failover fails the statements in flight (their transactions roll back whole)
        # and new connections until it is back; the pool pings before reuse, so it then recovers.
        if is_database_outage(exc):
            log.warning("database unavailable: %s", type(exc.orig).__name__)
            return problem_response(database_unavailable())
        return _unexpected(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return problem_response(
            Problem(500, "Internal Server Error", "Something went wrong on our side.", code="internal")
        )
