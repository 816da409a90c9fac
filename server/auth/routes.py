from __future__ import annotations

from flask import Blueprint, Response, current_app
from spectree import Response as Responses

from server import db
from server.api import body, ok, spec
from server.auth import service
from server.auth.schemas import LoginRequest, MeResponse
from server.db import row_id
from server.errors import Problem, too_many_requests
from server.notebook import service as notebook
from server.org import service as org_service
from server.ratelimit import hit
from server.redis_client import get_limiter_redis
from server.schemas import problems
from server.security import (
    clear_session_cookie,
    client_ip,
    csrf_exempt,
    current_session,
    current_user,
    public,
    set_session_cookie,
)

bp = Blueprint("auth", __name__, url_prefix="/api/v1")


@bp.post("/auth/login")
@public
@csrf_exempt
@spec.validate(json=LoginRequest, resp=Responses(HTTP_200=MeResponse, **problems(401, 429)), tags=["auth"])
def login():
    settings = current_app.config["SETTINGS"]
    data: LoginRequest = body()
    ip = client_ip() or "unknown"
    for key in (f"login:ip:{ip}", f"login:user:{data.username.lower()}"):
        allowed, retry_after = hit(
            get_limiter_redis(), key, limit=settings.LOGIN_RATE_PER_MINUTE, window_seconds=60
        )
        if not allowed:
            raise too_many_requests("Too many sign-in attempts; wait a moment.", retry_after=retry_after)
    outcome = service.login(
        db.session(),
        username=data.username,
        password=data.password,
        ip=ip,
        user_agent=None,
        max_failures=settings.LOGIN_MAX_FAILURES,
        lockout_minutes=settings.LOGIN_LOCKOUT_MINUTES,
    )
    if outcome.locked_until is not None:
        raise too_many_requests(
            "This account is locked after repeated failures; try again later.",
            code="account-locked",
            retry_after=settings.LOGIN_LOCKOUT_MINUTES * 60,
        )
    if outcome.user is None or outcome.session is None:
        raise Problem(401, "Unauthorized", "Wrong username or password.", code="bad-credentials")
    payload = MeResponse(
        user=org_service.user_public(db.session(), user=outcome.user),
        csrf_token=outcome.session.csrf_token,
        timezone=notebook.get_settings(db.session(), user_id=row_id(outcome.user)).timezone,
    )
    response = ok(payload, personal=True)
    set_session_cookie(response, outcome.session.id)
    return response


@bp.post("/auth/logout")
@spec.validate(resp=Responses("HTTP_204"), tags=["auth"])
def logout():
    service.logout(db.session(), user_session=current_session(), ip=client_ip())
    response = Response(status=204)
    clear_session_cookie(response)
    return response


@bp.get("/me")
@spec.validate(resp=Responses(HTTP_200=MeResponse), tags=["auth"])
def me():
    payload = MeResponse(
        user=org_service.user_public(db.session(), user=current_user()),
        csrf_token=current_session().csrf_token,
        timezone=notebook.get_settings(db.session(), user_id=row_id(current_user())).timezone,
    )
    return ok(payload, personal=True)
