"""Who is calling: the session cookie, CSRF, and role checks. Every API route is deny-by-default:
`before_request` refuses unauthenticated calls unless the view is marked `@public`."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, Response, current_app, g, request

from server import db
from server.auth import service as auth_service
from server.auth.models import UserSession
from server.errors import Problem, forbidden
from server.org.models import Role, User

COOKIE_NAME = "zhanye_session"
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def public(view: Callable) -> Callable:
    view._zhanye_public = True  # type: ignore[attr-defined]
    return view


def csrf_exempt(view: Callable) -> Callable:
    view._zhanye_csrf_exempt = True  # type: ignore[attr-defined]
    return view


def current_user() -> User:
    user = g.get("user")
    if user is None:
        raise Problem(401, "Unauthorized", "Please sign in.", code="unauthenticated")
    return user


def current_session() -> UserSession:
    return g.user_session


def client_ip() -> str | None:
    return request.remote_addr


def require_role(*roles: Role) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            if current_user().role not in roles:
                raise forbidden()
            return view(*args, **kwargs)

        return wrapper

    return decorator


def set_session_cookie(response: Response, session_id: str) -> None:
    settings = current_app.config["SETTINGS"]
    response.set_cookie(
        COOKIE_NAME,
        session_id,
        max_age=settings.SESSION_ABSOLUTE_HOURS * 3600,
        httponly=True,
        secure=settings.cookie_secure(),
        samesite="Lax",
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE_NAME, path="/")


def load_user_from_cookie(cookie_value: str | None) -> tuple[UserSession, User] | None:
    if not cookie_value:
        return None
    settings = current_app.config["SETTINGS"]
    return auth_service.resolve_session(
        db.session(),
        session_id=cookie_value,
        idle_minutes=settings.SESSION_IDLE_MINUTES,
        absolute_hours=settings.SESSION_ABSOLUTE_HOURS,
    )


def init_app(app: Flask) -> None:
    @app.before_request
    def _authenticate():
        if not request.path.startswith("/api/"):
            return None
        view = app.view_functions.get(request.endpoint or "")
        resolved = load_user_from_cookie(request.cookies.get(COOKIE_NAME))
        if resolved:
            g.user_session, g.user = resolved
        if view is None or getattr(view, "_zhanye_public", False):
            return None
        if not resolved:
            raise Problem(401, "Unauthorized", "Please sign in.", code="unauthenticated")
        if request.method in MUTATING and not getattr(view, "_zhanye_csrf_exempt", False):
            sent = request.headers.get("X-CSRF-Token", "")
            if not hmac.compare_digest(sent, g.user_session.csrf_token):
                raise Problem(403, "Forbidden", "Missing or wrong X-CSRF-Token header.", code="csrf")
        return None
