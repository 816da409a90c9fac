from __future__ import annotations

from flask import Blueprint
from spectree import Response

from server import db
from server.api import body, idempotent, ok, query, spec
from server.org import service
from server.org.models import Role
from server.org.schemas import TeamList, UserAdminView, UserCreate, UserListQuery, UserPage, UserUpdate
from server.schemas import problems
from server.security import client_ip, current_user, require_role

bp = Blueprint("org", __name__, url_prefix="/api/v1/admin")


@bp.get("/users")
@require_role(Role.admin)
@spec.validate(query=UserListQuery, resp=Response(HTTP_200=UserPage, **problems(403)), tags=["admin"])
def list_users():
    q: UserListQuery = query()
    items, total = service.list_users(db.session(), role=q.role, q=q.q, page=q.page, page_size=q.page_size)
    return ok(UserPage(items=items, total=total, page=q.page, page_size=q.page_size))


@bp.get("/teams")
@require_role(Role.admin)
@spec.validate(resp=Response(HTTP_200=TeamList, **problems(403)), tags=["admin"])
def list_teams():
    return ok(TeamList(items=service.list_teams(db.session())))


@bp.post("/users")
@require_role(Role.admin)
@idempotent
@spec.validate(json=UserCreate, resp=Response(HTTP_201=UserAdminView, **problems(403, 409)), tags=["admin"])
def create_user():
    user = service.create_user(db.session(), actor=current_user(), data=body(), ip=client_ip())
    return ok(service.user_admin_view(db.session(), user=user), 201)


@bp.patch("/users/<int:user_id>")
@require_role(Role.admin)
@spec.validate(json=UserUpdate, resp=Response(HTTP_200=UserAdminView, **problems(403, 404)), tags=["admin"])
def update_user(user_id: int):
    user = service.update_user(
        db.session(), actor=current_user(), user_id=user_id, data=body(), ip=client_ip()
    )
    return ok(service.user_admin_view(db.session(), user=user))
