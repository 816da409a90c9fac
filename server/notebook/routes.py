from __future__ import annotations

from flask import Blueprint, Response
from spectree import Response as Responses

from server import db
from server.api import body, expected_version, idempotent, ok, query, spec
from server.db import row_id
from server.notebook import service
from server.notebook.schemas import (
    DoneRequest,
    NoteCreate,
    NoteListQuery,
    NotePage,
    NotePublic,
    NoteUpdate,
    ReminderSettingsPublic,
    ReminderSettingsUpdate,
    SnoozeRequest,
)
from server.schemas import problems
from server.security import current_user

bp = Blueprint("notebook", __name__, url_prefix="/api/v1")


def _note_response(note, status: int = 200) -> Response:
    response = ok(service.note_public(note), status, personal=True)
    response.headers["ETag"] = f'"{note.version}"'
    return response


@bp.get("/notes")
@spec.validate(query=NoteListQuery, resp=Responses(HTTP_200=NotePage), tags=["notebook"])
def list_notes():
    q: NoteListQuery = query()
    rows, total = service.list_notes(db.session(), user=current_user(), query=q)
    page = {
        "items": [service.note_public(n) for n in rows],
        "total": total,
        "page": q.page,
        "page_size": q.page_size,
    }
    return ok(page, personal=True)


@bp.get("/notes/<int:note_id>")
@spec.validate(resp=Responses(HTTP_200=NotePublic, **problems(404)), tags=["notebook"])
def get_note(note_id: int):
    return _note_response(service.get_note_for(db.session(), user=current_user(), note_id=note_id))


@bp.post("/notes")
@idempotent
@spec.validate(json=NoteCreate, resp=Responses(HTTP_201=NotePublic, **problems(404)), tags=["notebook"])
def create_note():
    return _note_response(service.create_note(db.session(), user=current_user(), data=body()), 201)


@bp.patch("/notes/<int:note_id>")
@idempotent
@spec.validate(json=NoteUpdate, resp=Responses(HTTP_200=NotePublic, **problems(404, 412)), tags=["notebook"])
def update_note(note_id: int):
    data: NoteUpdate = body()
    note = service.update_note(
        db.session(),
        user=current_user(),
        note_id=note_id,
        data=data,
        expected_version=expected_version(data.version),
    )
    return _note_response(note)


@bp.delete("/notes/<int:note_id>")
@idempotent
@spec.validate(resp=Responses("HTTP_204", **problems(404, 412)), tags=["notebook"])
def delete_note(note_id: int):
    service.delete_note(
        db.session(), user=current_user(), note_id=note_id, expected_version=expected_version()
    )
    return Response(status=204)


@bp.post("/notes/<int:note_id>/snooze")
@idempotent
@spec.validate(
    json=SnoozeRequest, resp=Responses(HTTP_200=NotePublic, **problems(404, 409)), tags=["notebook"]
)
def snooze_note(note_id: int):
    note = service.snooze_note(db.session(), user=current_user(), note_id=note_id, data=body())
    return _note_response(note)


@bp.post("/notes/<int:note_id>/done")
@idempotent
@spec.validate(json=DoneRequest, resp=Responses(HTTP_200=NotePublic, **problems(404)), tags=["notebook"])
def done_note(note_id: int):
    data: DoneRequest = body()
    note = service.set_done(db.session(), user=current_user(), note_id=note_id, done=data.done)
    return _note_response(note)


@bp.get("/reminder-settings")
@spec.validate(resp=Responses(HTTP_200=ReminderSettingsPublic), tags=["notebook"])
def get_reminder_settings():
    setting = service.get_settings(db.session(), user_id=row_id(current_user()))
    return ok(service.settings_public(setting), personal=True)


@bp.patch("/reminder-settings")
@idempotent
@spec.validate(
    json=ReminderSettingsUpdate, resp=Responses(HTTP_200=ReminderSettingsPublic), tags=["notebook"]
)
def update_reminder_settings():
    setting = service.update_settings(db.session(), user=current_user(), data=body())
    return ok(service.settings_public(setting), personal=True)
