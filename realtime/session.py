"""Who is on a socket: authenticated once at connect from the session cookie, then re-checked
against the database while it sends events (`realtime.base.SessionNamespace.checked_user`: logout,
disable and expiry take effect on live sockets)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app, request
from sqlmodel import Session

from server import db
from server.auth import service as auth_service
from server.db import row_id
from server.org.models import User
from server.security import COOKIE_NAME
from server.timeutil import as_utc


@dataclass(frozen=True)
class SocketUser:
    user_id: int
    session_id: str
    role: str
    display_name: str
    expires_at: datetime  # the session's absolute end (created + SESSION_ABSOLUTE_HOURS), in UTC


def authenticate_connect() -> SocketUser | None:
    cookie = request.cookies.get(COOKIE_NAME)
    if not cookie:
        return None
    settings = current_app.config["SETTINGS"]
    with db.session_scope(db.engine_for(current_app)) as session:
        resolved = auth_service.resolve_session(
            session,
            session_id=cookie,
            idle_minutes=settings.SESSION_IDLE_MINUTES,
            absolute_hours=settings.SESSION_ABSOLUTE_HOURS,
        )
        if resolved is None:
            return None
        user_session, user = resolved
        expires_at = as_utc(user_session.created_at) + timedelta(hours=settings.SESSION_ABSOLUTE_HOURS)
        return SocketUser(row_id(user), user_session.id, user.role, user.display_name, expires_at)


def still_valid(session: Session, who: SocketUser) -> User | None:
    settings = current_app.config["SETTINGS"]
    resolved = auth_service.resolve_session(
        session,
        session_id=who.session_id,
        idle_minutes=settings.SESSION_IDLE_MINUTES,
        absolute_hours=settings.SESSION_ABSOLUTE_HOURS,
    )
    return resolved[1] if resolved else None


def socket_sid() -> str:
    """The id of the socket whose event is being handled (Flask-SocketIO sets `request.sid`)."""
    return cast(Any, request).sid
