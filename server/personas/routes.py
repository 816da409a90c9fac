"""/api/v1/personas: an RM's classified persona with its explanation and history, a team lead's
team (with overrides) and cohort view, an admin's thresholds, and the mentoring pair's shared notes."""

from __future__ import annotations

from flask import Blueprint
from spectree import Response

from server import db
from server.api import body, expected_version, idempotent, ok, spec
from server.conduct.runs import bank_today
from server.org.models import Role
from server.personas import cohort, mentoring, service
from server.personas.schemas import (
    CohortView,
    MentoringNotes,
    MentoringNoteSaved,
    NoteCreate,
    OverrideCreate,
    PersonaThresholds,
    RmPersona,
    TeamPersonas,
    ThresholdsUpdate,
)
from server.schemas import problems
from server.security import client_ip, current_user, require_role

bp = Blueprint("personas", __name__, url_prefix="/api/v1/personas")
TAGS = ["personas"]


@bp.get("/me")
@require_role(Role.rm)
@spec.validate(resp=Response(HTTP_200=RmPersona, **problems(403)), tags=TAGS)
def mine():
    """The signed-in RM's persona: classification, reasons in Chinese, override, history, mentoring."""
    user = current_user()
    return ok(service.rm_persona(db.session(), viewer=user, rm_id=user.id or 0), personal=True)


@bp.get("/rms/<int:rm_id>")
@require_role(Role.rm, Role.team_lead)
@spec.validate(resp=Response(HTTP_200=RmPersona, **problems(403, 404)), tags=TAGS)
def rm_persona(rm_id: int):
    """One RM's persona and history: the RM themself or their team lead (anyone else: 404)."""
    return ok(service.rm_persona(db.session(), viewer=current_user(), rm_id=rm_id), personal=True)


@bp.get("/team")
@require_role(Role.team_lead)
@spec.validate(resp=Response(HTTP_200=TeamPersonas, **problems(403)), tags=TAGS)
def team():
    return ok({"items": service.team_personas(db.session(), lead=current_user())}, personal=True)


@bp.put("/rms/<int:rm_id>/override")
@require_role(Role.team_lead)
@idempotent
@spec.validate(json=OverrideCreate, resp=Response(HTTP_200=RmPersona, **problems(403, 404)), tags=TAGS)
def set_override(rm_id: int):
    """The team lead sets the persona by hand with a reason (audited); it holds until cleared."""
    data: OverrideCreate = body()
    result = service.override(
        db.session(),
        lead=current_user(),
        rm_id=rm_id,
        persona=data.persona,
        reason=data.reason,
        ip=client_ip(),
    )
    return ok(result, personal=True)


@bp.delete("/rms/<int:rm_id>/override")
@require_role(Role.team_lead)
@spec.validate(resp=Response(HTTP_200=RmPersona, **problems(403, 404)), tags=TAGS)
def clear_override(rm_id: int):
    return ok(
        service.clear_override(db.session(), lead=current_user(), rm_id=rm_id, ip=client_ip()), personal=True
    )


@bp.get("/cohorts")
@require_role(Role.team_lead)
@spec.validate(resp=Response(HTTP_200=CohortView, **problems(403)), tags=TAGS)
def cohorts():
    """The lead's newcomers: months to first sale and to 100% of target, readiness, mentor activity."""
    return ok(cohort.cohort_view(db.session(), lead=current_user(), today=bank_today()), personal=True)


@bp.get("/thresholds")
@require_role(Role.admin)
@spec.validate(resp=Response(HTTP_200=PersonaThresholds, **problems(403)), tags=TAGS)
def get_thresholds():
    return ok(service.thresholds_public(db.session()))


@bp.put("/thresholds")
@require_role(Role.admin)
@spec.validate(
    json=ThresholdsUpdate, resp=Response(HTTP_200=PersonaThresholds, **problems(403, 412)), tags=TAGS
)
def put_thresholds():
    """Stores the admin's thresholds (version-checked); the next monthly run uses them."""
    data: ThresholdsUpdate = body()
    version = expected_version(data.version)
    service.set_thresholds(
        db.session(), value=data.value, version=version or 0, actor=current_user(), ip=client_ip()
    )
    return ok(service.thresholds_public(db.session()))


@bp.get("/mentorships/<int:mentorship_id>/notes")
@require_role(Role.rm, Role.team_lead)
@spec.validate(resp=Response(HTTP_200=MentoringNotes, **problems(403, 404)), tags=TAGS)
def notes(mentorship_id: int):
    return ok(mentoring.notes(db.session(), user=current_user(), mentorship_id=mentorship_id), personal=True)


@bp.post("/mentorships/<int:mentorship_id>/notes")
@require_role(Role.rm)
@idempotent
@spec.validate(json=NoteCreate, resp=Response(HTTP_201=MentoringNoteSaved, **problems(403, 404)), tags=TAGS)
def add_note(mentorship_id: int):
    data: NoteCreate = body()
    return ok(
        mentoring.add_note(db.session(), user=current_user(), mentorship_id=mentorship_id, body=data.body),
        201,
        personal=True,
    )
