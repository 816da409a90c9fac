from __future__ import annotations

from flask import Blueprint
from spectree import Response

from server import db
from server.api import body, expected_version, idempotent, ok, spec
from server.helpers import service
from server.helpers.schemas import HelperCandidates, HelperTaskPublic, HelperTasks, TaskCreate, TaskUpdate
from server.schemas import problems
from server.security import client_ip, current_user

bp = Blueprint("helpers", __name__, url_prefix="/api/v1/helpers")


@bp.get("/candidates")
@spec.validate(resp=Response(HTTP_200=HelperCandidates, **problems(403)), tags=["helpers"])
def candidates():
    return ok({"items": service.candidates(db.session(), user=current_user())}, personal=True)


@bp.get("/tasks")
@spec.validate(resp=Response(HTTP_200=HelperTasks), tags=["helpers"])
def list_tasks():
    return ok(service.list_tasks(db.session(), user=current_user()), personal=True)


@bp.get("/tasks/<int:task_id>")
@spec.validate(resp=Response(HTTP_200=HelperTaskPublic, **problems(404)), tags=["helpers"])
def get_task(task_id: int):
    session, user = db.session(), current_user()
    task = service.get_task_for(session, user=user, task_id=task_id)
    return ok(service.task_public(session, task=task, viewer=user) or {}, personal=True)


@bp.post("/tasks")
@idempotent
@spec.validate(
    json=TaskCreate, resp=Response(HTTP_201=HelperTaskPublic, **problems(403, 404, 409)), tags=["helpers"]
)
def create_task():
    session, user = db.session(), current_user()
    task = service.create_task(session, user=user, data=body(), ip=client_ip())
    return ok(service.task_public(session, task=task, viewer=user) or {}, 201, personal=True)


@bp.patch("/tasks/<int:task_id>")
@idempotent
@spec.validate(
    json=TaskUpdate,
    resp=Response(HTTP_200=HelperTaskPublic, **problems(403, 404, 409, 412, 428)),
    tags=["helpers"],
)
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
