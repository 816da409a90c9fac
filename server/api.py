"""The API's shared plumbing: request validation and OpenAPI (spectree over the pydantic schemas),
JSON body guards, and the idempotency of retried writes."""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

import click
from flask import Flask, Response, current_app, make_response, request
from pydantic import BaseModel
from spectree import Response as Answers
from spectree import SecurityScheme, SpecTree
from spectree.models import InType, SecureType, SecuritySchemeData
from spectree.plugins.flask_plugin import FlaskPlugin
from spectree.utils import get_model_key
from sqlalchemy import event, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session, col, delete, select

from server import db
from server.auth.models import IdempotencyRecord
from server.edge import check_json, parse_version
from server.errors import (
    Problem,
    conflict,
    field_errors_from_pydantic,
    is_database_outage,
    problem_response,
    unprocessable,
)
from server.schemas import ProblemDetails
from server.security import current_user
from server.timeutil import utcnow

log = logging.getLogger(__name__)

SETTLE_ATTEMPTS = 120  # seconds a record is retried while the database is away


def _raise_problem(_req, _resp, req_validation_error, _instance, *_args) -> None:
    if req_validation_error is not None:
        raise unprocessable(
            "Some fields are invalid.", errors=field_errors_from_pydantic(req_validation_error.errors())
        )


class _FlaskPlugin(FlaskPlugin):
    """spectree's Flask plugin, except for what a response that does not match its model becomes.
    spectree itself replaces it with a 500 listing the errors; here tests fail loudly (the 500 is a
    problem naming the mismatch), while in production the mismatch is logged and the user still
    gets the answer the route made. A typed route answering 2xx with a status it does not document
    counts as a mismatch too."""

    def validate_response(self, resp, resp_model, skip_validation, force_resp_serialize):
        if isinstance(resp_model, JsonOrFile) and isinstance(resp, Response):
            # The file form of a JSON answer has no JSON to check: its media type is what is documented.
            skip_validation = skip_validation or resp.mimetype == resp_model.media_type
        response, error = super().validate_response(resp, resp_model, skip_validation, force_resp_serialize)
        problem: str | None = None
        if error is not None:
            problem = str(error)
        elif (
            resp_model is not None
            and not skip_validation
            and 200 <= response.status_code < 300
            and resp_model.find_model(response.status_code) is None
            and f"HTTP_{response.status_code}" not in resp_model.codes
        ):
            problem = f"status {response.status_code} is not among the documented responses"
        if problem is None:
            # The route's own response object when it made one (every `ok()` does): spectree's copy
            # rebuilt from its bytes and headers is the same answer, made twice.
            return (resp if isinstance(resp, Response) else response), None
        where = f"{request.method} {request.url_rule.rule if request.url_rule else request.path}"
        if current_app.testing:
            log.error("response does not match its model: %s: %s", where, problem)
            mismatch = Problem(500, "Response Mismatch", f"{where}: {problem}", code="response-mismatch")
            return problem_response(mismatch), None
        log.warning("response does not match its model: %s: %s", where, problem)
        return make_response(resp), None


class Download(Answers):
    """A file answer (a CSV export, a PDF): documented with its media type as a string of bytes, and
    not checked against a model (there is no JSON to check). Problems are declared as usual."""

    def __init__(self, media_type: str, description: str, **problem_models: Any):
        super().__init__(HTTP_200=(None, description), **problem_models)
        self.media_type = media_type

    def generate_spec(self, naming_strategy: Callable[..., str] = get_model_key) -> dict[str, Any]:
        responses = super().generate_spec(naming_strategy)
        responses["200"]["content"] = {self.media_type: {"schema": {"type": "string", "format": "binary"}}}
        return responses


class JsonOrFile(Answers):
    """A JSON answer that a query or the object's own kind turns into a file (the brief's shareable
    text, a PDF on the war room's stage): 200 documents both media types; the JSON is checked against
    its model, the file only by its media type."""

    def __init__(self, model: type[BaseModel], media_type: str, **problem_models: Any):
        super().__init__(HTTP_200=model, **problem_models)
        self.media_type = media_type

    def generate_spec(self, naming_strategy: Callable[..., str] = get_model_key) -> dict[str, Any]:
        responses = super().generate_spec(naming_strategy)
        binary = {} if self.media_type.startswith("text/") else {"format": "binary"}
        responses["200"]["content"][self.media_type] = {"schema": {"type": "string", **binary}}
        return responses


_component_names: dict[str, type] = {}


def _component_name(model: Any) -> str:
    """Plain class names in the OpenAPI document (they become the PWA's type names). A second model
    under a name already taken gets its domain in front (`personas.schemas.NoteCreate` ->
    `PersonasNoteCreate`); two models under one final name would silently share a schema, so that
    fails at start-up instead."""
    name = model.__name__
    if _component_names.setdefault(name, model) is model:
        return name
    domain = model.__module__.split(".")[1] if model.__module__.startswith("server.") else model.__module__
    qualified = domain.title().replace("_", "") + name
    if _component_names.setdefault(qualified, model) is not model:
        raise RuntimeError(f"two API models are named {qualified}: rename one")
    return qualified


class _SpecTree(SpecTree):
    def _generate_spec(self) -> dict[str, Any]:
        """Problem details go out as `application/problem+json` (spectree writes every model as
        `application/json`). spectree moves nested models out of `self.models` as it goes, so a second
        document (another app's) would lack them: it works on a copy."""
        models = copy.deepcopy(self.models)
        try:
            document = super()._generate_spec()
        finally:
            self.models = models
        problem = f"#/components/schemas/{ProblemDetails.__name__}"
        for operations in document["paths"].values():
            for operation in operations.values():
                for answer in operation.get("responses", {}).values():
                    content = answer.get("content", {})
                    media = content.get("application/json")
                    if media is not None and media.get("schema", {}).get("$ref") == problem:
                        content["application/problem+json"] = content.pop("application/json")
        return document


spec = _SpecTree(
    "flask",
    backend=_FlaskPlugin,
    validation_error_model=ProblemDetails,
    naming_strategy=_component_name,
    nested_naming_strategy=lambda _parent, child: child,
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


def openapi_command(app_factory: Callable[[dict[str, Any]], Flask]) -> click.Command:
    """`flask openapi --output FILE`: the PWA's API types are generated from it (`make api-types`)."""

    @click.command("openapi")
    @click.option("--output", "-o", type=click.Path(dir_okay=False), required=True)
    def command(output: str) -> None:
        """Write the OpenAPI document."""
        with open(output, "w", encoding="utf-8") as out:
            json.dump(openapi_document(app_factory), out, ensure_ascii=False, indent=2, sort_keys=True)
            out.write("\n")

    return command


def openapi_document(app_factory: Callable[[dict[str, Any]], Flask]) -> dict[str, Any]:
    """The document of the API as every deployment serves it: built from an app of its own (made by
    the app factory, passed in so this module never imports the package that imports it), so that
    settings of the running process (demo feeds, test endpoints) leave it the same."""
    app = app_factory({"DATABASE_URL": "sqlite://", "DEMO_MODE": False, "ENABLE_TEST_ENDPOINTS": False})
    spec.__dict__.pop("_spec", None)  # spectree caches the first document it made, of whichever app
    with app.app_context():
        document = spec.spec
    spec.__dict__.pop("_spec", None)
    return document


def base64_field(value: str, field: str = "content_base64") -> bytes:
    """The bytes of a base64 field of the request body (an uploaded file); 422 when it is not base64."""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise unprocessable(
            f"{field} is not base64.", errors=[{"field": field, "message": "Not base64."}]
        ) from None


def idempotent(view: Callable) -> Callable:
    """Honours `Idempotency-Key`: the same key replays the first response, the same key with another
    body is 422, a duplicate arriving while the first is still running is 409.

    The key is claimed in its own transaction, then marked `applied` inside the view's own commit
    (a before-commit hook on the request's session), so the mark and the write land together or not
    at all. That is what makes a retry after a crash or a database restart safe: a record still
    `in_progress` means nothing was written (it is forgotten and the request may run again), one
    `applied` without a stored answer means the write happened (it is never run twice)."""

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
        settings = current_app.config["SETTINGS"]
        ttl = timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
        abandoned = timedelta(seconds=settings.IDEMPOTENCY_ABANDONED_SECONDS)
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
                own.flush()  # the INSERT: a duplicate key fails here
                record_id = record.id
                try:
                    own.commit()
                except DBAPIError as exc:
                    if is_database_outage(exc):
                        # The claim may have landed with its answer lost: forget it once the
                        # database answers, or every retry would get 409 until it is abandoned.
                        _settle(engine, record_id, None)
                    raise
            except IntegrityError:
                own.rollback()
                existing = own.exec(
                    select(IdempotencyRecord).where(
                        IdempotencyRecord.user_id == user.id, IdempotencyRecord.key == key
                    )
                ).one()
                age = utcnow() - existing.created_at
                if age > ttl or (existing.state == "in_progress" and age > abandoned):
                    # Expired, or claimed by a request that died before writing anything.
                    own.delete(existing)
                    own.commit()
                    return wrapper(*args, **kwargs)
                if existing.request_hash != digest:
                    raise unprocessable(
                        "This Idempotency-Key was used with another request.", code="idempotency-mismatch"
                    ) from None
                if existing.state == "applied":
                    raise conflict(
                        "The first request with this key was applied; its answer was lost.",
                        code="idempotency-applied",
                    ) from None
                if existing.state != "done":
                    raise conflict(
                        "The first request with this key is still running.", code="idempotency-in-progress"
                    ) from None
                replay = Response(
                    existing.response_body or "",
                    status=existing.response_status or 200,
                    mimetype="application/json",
                )
                replay.headers["Idempotent-Replayed"] = "true"
                replay.headers["Cache-Control"] = "no-store"
                return replay
        session = db.session()

        def mark_applied(committing: Session) -> None:
            committing.execute(
                update(IdempotencyRecord)
                .where(col(IdempotencyRecord.id) == record_id, col(IdempotencyRecord.state) == "in_progress")
                .values(state="applied")
            )

        event.listen(session, "before_commit", mark_applied)
        try:
            response = make_response(view(*args, **kwargs))
        except Problem as problem:
            # A refusal keeps nothing the view began, and ends its transaction before the record below
            # is written: on SQLite a view that took a row lock would otherwise hold the write lock.
            db.rollback(session)
            response = problem_response(problem)
        except Exception:
            # The key is forgotten even when the failure was the database going away (its rollback
            # fails too): left `in_progress`, every retry would get 409 until the key was abandoned.
            db.rollback(session)
            _settle(engine, record_id, None)
            raise
        finally:
            event.remove(session, "before_commit", mark_applied)
        _settle(engine, record_id, response)
        return response

    return wrapper


def _settle(engine, record_id: int | None, response: Response | None) -> None:
    """Stores the answer under the key (or forgets a key whose request wrote nothing). If the
    database is away at that moment (or no pooled connection frees up in time), a background thread
    keeps trying for a while: a retry that arrives after it returns then gets the first answer
    instead of a 409."""
    try:
        _store_answer(engine, record_id, response)
    except (DBAPIError, PoolTimeout) as exc:
        if not _worth_retrying(exc):
            raise
        # The view's own answer still goes out: its write (if any) stands either way.
        log.warning("database away while settling idempotency record %s; retrying", record_id)
        threading.Thread(target=_settle_later, args=(engine, record_id, response), daemon=True).start()


def _settle_later(engine, record_id: int | None, response: Response | None) -> None:
    for _ in range(SETTLE_ATTEMPTS):
        time.sleep(1)
        try:
            _store_answer(engine, record_id, response)
            return
        except (DBAPIError, PoolTimeout) as exc:
            if not _worth_retrying(exc):
                log.exception("could not settle idempotency record %s", record_id)
                return
    log.warning("idempotency record %s left unsettled; it expires as abandoned", record_id)


def _worth_retrying(exc: Exception) -> bool:
    return isinstance(exc, PoolTimeout) or is_database_outage(exc)


def _store_answer(engine, record_id: int | None, response: Response | None) -> None:
    with Session(engine) as own:
        stored = own.get(IdempotencyRecord, record_id)
        if stored is None:
            return
        if response is None or response.status_code >= 500:
            # Nothing to replay: a request that wrote nothing may run again; an applied one keeps
            # its mark so that a retry is never run twice.
            if stored.state == "in_progress":
                own.delete(stored)
        else:
            stored.state = "done"
            stored.response_status = response.status_code
            stored.response_body = response.get_data(as_text=True)
            own.add(stored)
        own.commit()


def purge_idempotency_records(session: Session, *, older_than: timedelta) -> int:
    result = session.exec(
        delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < utcnow() - older_than)
    )
    session.commit()
    return result.rowcount or 0
