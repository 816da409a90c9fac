"""Users, teams and branches; admin user management."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, func, select

from server import events
from server.audit import service as audit
from server.auth import service as auth_service
from server.auth.schemas import NamedRef, UserPublic
from server.db import row_id
from server.errors import conflict, not_found, unprocessable
from server.masking import mask
from server.org.models import Branch, RmProfile, Role, Team, User
from server.org.schemas import TeamPublic, UserAdminView, UserCreate, UserUpdate


def user_public(session: Session, *, user: User) -> UserPublic:
    profile = session.get(RmProfile, user.id) if user.role == Role.rm else None
    branch = session.get(Branch, user.branch_id) if user.branch_id else None
    team = session.get(Team, user.team_id) if user.team_id else None
    return UserPublic(
        id=user.id,  # type: ignore[arg-type]
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        persona=profile.persona if profile else None,
        branch=NamedRef(id=branch.id, name=branch.name) if branch else None,  # type: ignore[arg-type]
        team=NamedRef(id=team.id, name=team.name) if team else None,  # type: ignore[arg-type]
        phone=mask("phone", user.phone),
        email=mask("email", user.email),
    )


def user_admin_view(session: Session, *, user: User) -> UserAdminView:
    """What the admin's user screen shows: the public card plus active flag and qualifications."""
    profile = session.get(RmProfile, user.id) if user.role == Role.rm else None
    return UserAdminView(
        **user_public(session, user=user).model_dump(),
        is_active=user.is_active,
        qualifications=list(profile.qualifications or []) if profile else [],
    )


def list_users(
    session: Session, *, role: Role | None, page: int, page_size: int, q: str | None = None
) -> tuple[list[UserAdminView], int]:
    query = select(User)
    if role:
        query = query.where(User.role == role)
    if q:
        pattern = f"%{q.strip()}%"
        query = query.where(col(User.username).like(pattern) | col(User.display_name).like(pattern))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(User.id)).offset((page - 1) * page_size).limit(page_size)).all()
    return [user_admin_view(session, user=u) for u in rows], total


def list_teams(session: Session) -> list[TeamPublic]:
    rows = session.exec(
        select(Team, Branch).join(Branch, col(Branch.id) == Team.branch_id).order_by(col(Team.id))
    ).all()
    return [
        TeamPublic(id=row_id(t), name=t.name, branch=NamedRef(id=row_id(b), name=b.name)) for t, b in rows
    ]


def create_user(session: Session, *, actor: User, data: UserCreate, ip: str | None) -> User:
    if session.exec(select(User.id).where(User.username == data.username)).first():
        raise conflict("That username is taken.", code="duplicate-username")
    user = User(
        username=data.username,
        display_name=data.display_name,
        password_hash=auth_service.hash_password(data.password),
        role=data.role,
        branch_id=data.branch_id,
        team_id=data.team_id,
        phone=data.phone,
        email=data.email,
    )
    session.add(user)
    session.flush()
    if data.role == Role.rm:
        if data.persona is None:
            raise unprocessable(
                "An RM needs a persona.", errors=[{"field": "persona", "message": "required for role rm"}]
            )
        session.add(
            RmProfile(
                user_id=user.id,  # type: ignore[arg-type]
                persona=data.persona,
                hire_date=data.hire_date or date.today(),
                grade=data.grade or "初级",
                qualifications=data.qualifications,
                languages=["zh"],
                home_region="",
            )
        )
    audit.record(
        session,
        actor_id=actor.id,
        action="user.create",
        object_type="user",
        object_id=user.id,
        ip=ip,
        detail={"role": data.role},
    )
    session.commit()
    return user


def update_user(session: Session, *, actor: User, user_id: int, data: UserUpdate, ip: str | None) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise not_found("user")
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    for name in ("display_name", "is_active", "team_id", "phone", "email"):
        if name in changes:
            setattr(user, name, changes[name])
    profile = session.get(RmProfile, user_id)
    if changes.get("role") is not None and changes["role"] != user.role:
        if changes["role"] == Role.rm and profile is None:
            if not changes.get("persona"):
                raise unprocessable(
                    "An RM needs a persona.", errors=[{"field": "persona", "message": "required for role rm"}]
                )
            profile = RmProfile(
                user_id=user_id,
                persona=changes["persona"],
                hire_date=date.today(),
                grade="初级",
                qualifications=changes.get("qualifications") or [],
                languages=["zh"],
                home_region="",
            )
        user.role = changes["role"]
        # A new role is a new set of rights: the old sessions end, the user signs in again.
        auth_service.revoke_all_sessions(session, user_id=user_id)
    if profile is not None:
        if "persona" in changes and changes["persona"]:
            profile.persona = changes["persona"]
        if "qualifications" in changes and changes["qualifications"] is not None:
            profile.qualifications = changes["qualifications"]
        session.add(profile)
    session.add(user)
    if changes.get("is_active") is False:
        # Disabling ends every session at once, and the live sockets with them.
        auth_service.revoke_all_sessions(session, user_id=user_id)
    if {"team_id", "qualifications", "is_active", "role"} & set(changes):
        # What the user may see live changed: their feed sockets recompute their rooms.
        events.publish(session, "user.access_changed", {"user_ids": [user_id]})
    audit.record(
        session,
        actor_id=actor.id,
        action="user.update",
        object_type="user",
        object_id=user_id,
        ip=ip,
        detail={"fields": sorted(changes)},
    )
    session.commit()
    return user
