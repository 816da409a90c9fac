"""Passwords, sign-in with lockout, and server-side sessions with idle and absolute timeouts."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, select, update

from server import events
from server.audit import service as audit
from server.auth.models import UserSession
from server.offload import off_loop, os_semaphore
from server.org.models import User
from server.timeutil import utcnow

_hasher = PasswordHasher()
# Verifying against this keeps the timing of "no such user" like that of "wrong password".
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


_verify_slots: Any = None


def _verify(password_hash: str, password: str) -> bool:
    global _verify_slots
    if _verify_slots is None:
        # argon2 uses 64 MiB per hash: a burst of sign-ins must not run hundreds at once.
        _verify_slots = os_semaphore(max(2, os.cpu_count() or 2))
    with _verify_slots:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def verify_password(password_hash: str, password: str) -> bool:
    # argon2 takes tens of milliseconds of CPU on purpose: off the event loop, where it runs in
    # parallel (the C code releases the GIL) instead of stalling every other request meanwhile.
    return off_loop(_verify, password_hash, password)


@dataclass
class LoginOutcome:
    user: User | None
    session: UserSession | None
    locked_until: datetime | None = None


def login(
    session: Session,
    *,
    username: str,
    password: str,
    ip: str | None,
    user_agent: str | None,
    max_failures: int,
    lockout_minutes: int,
) -> LoginOutcome:
    now = utcnow()
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        session.commit()  # as below: no pooled connection held during the check
        verify_password(_DUMMY_HASH, password)
        audit.record(
            session, actor_id=None, action="login.failure", ip=ip, detail={"username": username[:64]}
        )
        session.commit()
        return LoginOutcome(None, None)
    if user.locked_until and user.locked_until > now:
        audit.record(session, actor_id=user.id, action="login.locked", ip=ip)
        session.commit()
        return LoginOutcome(None, None, locked_until=user.locked_until)
    session.commit()  # ends the read: no pooled connection is held while the password is checked
    if not user.is_active or not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + timedelta(minutes=lockout_minutes)
            user.failed_logins = 0
        session.add(user)
        audit.record(session, actor_id=user.id, action="login.failure", ip=ip)
        session.commit()
        return LoginOutcome(
            None,
            None,
            locked_until=user.locked_until if user.locked_until and user.locked_until > now else None,
        )
    user.failed_logins = 0
    user.locked_until = None
    user_session = UserSession(
        id=secrets.token_urlsafe(32),
        user_id=user.id,  # type: ignore[arg-type]
        csrf_token=secrets.token_urlsafe(32),
        ip=ip,
        user_agent=(user_agent or "")[:255],
    )
    session.add(user)
    session.add(user_session)
    audit.record(session, actor_id=user.id, action="login.success", ip=ip)
    session.commit()
    return LoginOutcome(user, user_session)


def resolve_session(
    session: Session, *, session_id: str, idle_minutes: int, absolute_hours: int
) -> tuple[UserSession, User] | None:
    """The live session and its user, or None when missing, revoked, expired or the user disabled.
    Touches last_seen at most once a minute so reads do not become writes."""
    # One statement for both rows: this runs before every API call and socket event.
    found = session.exec(
        select(UserSession, User)
        .join(User, col(User.id) == UserSession.user_id)
        .where(UserSession.id == session_id)
    ).first()
    if found is None:
        return None
    user_session, user = found
    if user_session.revoked_at is not None:
        return None
    now = utcnow()
    if now - user_session.last_seen_at > timedelta(
        minutes=idle_minutes
    ) or now - user_session.created_at > timedelta(hours=absolute_hours):
        user_session.revoked_at = now
        session.add(user_session)
        session.commit()
        return None
    if not user.is_active:
        return None
    if now - user_session.last_seen_at > timedelta(seconds=60):
        user_session.last_seen_at = now
        session.add(user_session)
        session.commit()
    return user_session, user


def logout(session: Session, *, user_session: UserSession, ip: str | None) -> None:
    user_session.revoked_at = utcnow()
    session.add(user_session)
    audit.record(session, actor_id=user_session.user_id, action="logout", ip=ip)
    events.publish(
        session, "session.revoked", {"user_id": user_session.user_id, "session_ids": [user_session.id]}
    )
    session.commit()


def revoke_all_sessions(session: Session, *, user_id: int) -> list[str]:
    """Ends every live session of a user (account disabled, password reset). Returns their ids."""
    live = session.exec(
        select(UserSession.id).where(
            col(UserSession.user_id) == user_id, col(UserSession.revoked_at).is_(None)
        )
    ).all()
    session.exec(
        update(UserSession)
        .where(col(UserSession.user_id) == user_id, col(UserSession.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    events.publish(session, "session.revoked", {"user_id": user_id, "session_ids": list(live)})
    return list(live)
