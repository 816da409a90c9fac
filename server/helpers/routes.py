from __future__ import annotations

from flask import Blueprint

from server import db
from server.api import body, expected_version, idempotent, ok, spec
from server.helpers import service
from server.helpers.schemas import TaskCreate, TaskUpdate
from server.security import client_ip, current_user

bp = Blueprint("helpers", __name__, url_prefix="/api/v1/helpers")


@bp.get("/candidates")
@spec.validate(tags=["helpers"])
def candidates():
    return ok({"items": service.candidates(db.session(), user=current_user())}, personal=True)


@bp.get("/tasks")
@spec.validate(tags=["helpers"])
def list_tasks():
    return ok(service.list_tasks(db.session(), user=current_user()), personal=True)


@bp.get("/tasks/<int:task_id>")
@spec.validate(tags=["helpers"])
def get_task(task_id: int):
    session, user = db.session(), current_user()
    task = service.get_task_for(session, user=user, task_id=task_id)
    return ok(service.task_public(session, task=task, viewer=user) or {}, personal=True)


@bp.post("/tasks")
@idempotent
@spec.validate(json=TaskCreate, tags=["helpers"])
def create_task():
    session, user = db.session(), current_user()
    task = service.create_task(session, user=user, data=body(), ip=client_ip())
    return ok(service.task_public(session, task=task, viewer=user) or {}, 201, personal=True)


@bp.patch("/tasks/<int:task_id>")
@idempotent
@spec.validate(json=TaskUpdate, tags=["helpers"])
def update_task(task_id: int):
    session, user = db.session(), current_user()
    data: TaskUpdate = body()
    task = service.update_task(
        session,
        user=user,
        task_id=task_id,
        data=data,
        expected_version=expected_version(data.version),
        ip=client_ip(),
    )
    return ok(service.task_public(session, task=task, viewer=user) or {}, personal=True)
