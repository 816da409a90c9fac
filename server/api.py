"""The API's shared plumbing: request validation and OpenAPI (spectree over the pydantic schemas),
JSON body guards, and the idempotency of retried writes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from flask import Flask, Response, current_app, make_response, request
from pydantic import BaseModel
from spectree import SecurityScheme, SpecTree
from spectree.models import InType, SecureType, SecuritySchemeData
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from server import db
from server.auth.models import IdempotencyRecord
from server.edge import check_json, parse_version
from server.errors import Problem, field_errors_from_pydantic, problem_response
from server.security import current_user
from server.timeutil import utcnow


def _raise_problem(_req, _resp, req_validation_error, _instance, *_args) -> None:
    if req_validation_error is not None:
        raise Problem(
            422,
            "Unprocessable Content",
            "Some fields are invalid.",
            code="validation",
            errors=field_errors_from_pydantic(req_validation_error.errors()),
        )


spec = SpecTree(
    "flask",
    title="Zhanye API",
    version="1",
    path="apidocs",
    before=_raise_problem,
    annotations=False,
    security_schemes=[
        SecurityScheme(
            name="session",
            data=SecuritySchemeData(type=SecureType.API_KEY, field_in=InType.COOKIE, name="zhanye_session"),
        ),
        SecurityScheme(
            name="csrf",
            data=SecuritySchemeData(type=SecureType.API_KEY, field_in=InType.HEADER, name="X-CSRF-Token"),
        ),
    ],
    security={"session": []},
)


def body() -> Any:
    """The validated JSON body of the current request."""
    return request.context.json  # type: ignore[attr-defined]


def query() -> Any:
    return request.context.query  # type: ignore[attr-defined]


def ok(payload: BaseModel | dict | list, status: int = 200, *, personal: bool = False) -> Response:
    data = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
    response = make_response(current_app.json.response(data), status)
    if personal:
        response.headers["Cache-Control"] = "no-store"
    return response


def expected_version(body_version: int | None = None) -> int | None:
    """The version the client edited: `If-Match: "<n>"` when sent, else `version` from the body."""
    header = request.headers.get("If-Match")
    if not header:
        return body_version
    try:
        return parse_version(header)
    except ValueError:
        raise Problem(400, "Bad Request", "If-Match must be a version number.", code="bad-if-match") from None


def init_app(app: Flask) -> None:
    @app.before_request
    def _guard_json_body():
        if not request.path.startswith("/api/") or request.method not in ("POST", "PUT", "PATCH"):
            return None
        raw = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
        if not raw:
            return None
        if request.mimetype != "application/json":
            raise Problem(
                415,
                "Unsupported Media Type",
                "Send JSON (Content-Type: application/json).",
                code="media-type",
            )
        try:
            parsed = json.loads(raw)
        except RecursionError:
            raise Problem(400, "Bad Request", "JSON nests too deep.", code="json-too-deep") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise Problem(400, "Bad Request", f"Malformed JSON: {exc}", code="malformed-json") from None
        check_json(parsed)
        return None

    spec.register(app)


def idempotent(view: Callable) -> Callable:
    """Honours `Idempotency-Key`: the same key replays the first response, the same key with another
    body is 422, a duplicate arriving while the first is still running is 409."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        key = request.headers.get("Idempotency-Key")
        if not key:
            return view(*args, **kwargs)
        if len(key) > 64 or not key.strip():
            raise Problem(
                400, "Bad Request", "Idempotency-Key must be 1-64 characters.", code="idempotency-key"
            )
        user = current_user()
        digest = hashlib.sha256(
            request.method.encode() + b" " + request.path.encode() + b"\n" + request.get_data(cache=True)
        ).hexdigest()
        engine = db.engine_for(current_app)
        ttl = timedelta(hours=current_app.config["SETTINGS"].IDEMPOTENCY_TTL_HOURS)
        with Session(engine) as own:
            record = IdempotencyRecord(
                user_id=user.id,  # type: ignore[arg-type]
                key=key,
                method=request.method,
                path=request.path[:255],
                request_hash=digest,
            )
            own.add(record)
            try:
                own.commit()
                record_id = record.id
            except IntegrityError:
                own.rollback()
                existing = own.exec(
                    select(IdempotencyRecord).where(
                        IdempotencyRecord.user_id == user.id, IdempotencyRecord.key == key
                    )
                ).one()
                if utcnow() - existing.created_at > ttl:
                    own.delete(existing)
                    own.commit()
                    return wrapper(*args, **kwargs)
                if existing.request_hash != digest:
                    raise Problem(
                        422,
                        "Unprocessable Content",
                        "This Idempotency-Key was used with another request.",
                        code="idempotency-mismatch",
                    ) from None
                if existing.state != "done":
                    raise Problem(
                        409,
                        "Conflict",
                        "The first request with this key is still running.",
                        code="idempotency-in-progress",
                    ) from None
                replay = Response(
                    existing.response_body or "",
                    status=existing.response_status or 200,
                    mimetype="application/json",
                )
                replay.headers["Idempotent-Replayed"] = "true"
                replay.headers["Cache-Control"] = "no-store"
                return replay
        try:
            response = make_response(view(*args, **kwargs))
        except Problem as problem:
            response = problem_response(problem)
        except Exception:
            _forget(engine, record_id)
            raise
        with Session(engine) as own:
            stored = own.get(IdempotencyRecord, record_id)
            if response.status_code >= 500 or stored is None:
                if stored is not None:
                    own.delete(stored)
            else:
                stored.state = "done"
                stored.response_status = response.status_code
                stored.response_body = response.get_data(as_text=True)
                own.add(stored)
            own.commit()
        return response

    return wrapper


def _forget(engine, record_id: int | None) -> None:
    with Session(engine) as own:
        own.exec(delete(IdempotencyRecord).where(col(IdempotencyRecord.id) == record_id))
        own.commit()


def purge_idempotency_records(session: Session, *, older_than: timedelta) -> int:
    result = session.exec(
        delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < utcnow() - older_than)
    )
    session.commit()
    return result.rowcount or 0
