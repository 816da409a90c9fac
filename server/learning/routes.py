from __future__ import annotations

from flask import Blueprint
from spectree import Response

from server import db
from server.api import body, idempotent, ok, query, spec
from server.errors import forbidden
from server.learning import cases, playbooks, quiz, service
from server.learning.schemas import (
    AnswerIn,
    CaseCard,
    CaseCards,
    CaseConsentPublic,
    CaseQuery,
    ConsentIn,
    LearningSummary,
    Playbook,
    QuizGraded,
    QuizSession,
    Readiness,
)
from server.org.models import Role
from server.schemas import problems
from server.security import current_user

bp = Blueprint("learning", __name__, url_prefix="/api/v1/learning")


def _rm():
    user = current_user()
    if user.role != Role.rm:
        raise forbidden("Learning is for relationship managers.")
    return user


@bp.get("/cases")
@spec.validate(query=CaseQuery, resp=Response(HTTP_200=CaseCards, **problems(403, 404)), tags=["learning"])
def list_cases():
    q: CaseQuery = query()
    payload = cases.ranked_cases(
        db.session(), user=_rm(), customer_id=q.customer_id, prospect_id=q.prospect_id, limit=q.limit
    )
    return ok(payload, personal=True)


@bp.get("/cases/<case_id>")
@spec.validate(resp=Response(HTTP_200=CaseCard, **problems(403, 404)), tags=["learning"])
def get_case(case_id: str):
    _rm()
    return ok(cases.get_case(db.session(), case_id=case_id[:40]), personal=True)


@bp.get("/playbook")
@spec.validate(resp=Response(HTTP_200=Playbook, **problems(403)), tags=["learning"])
def playbook():
    return ok(playbooks.playbook(db.session(), user=_rm()), personal=True)


@bp.get("/quiz")
@spec.validate(resp=Response(HTTP_200=QuizSession, **problems(403)), tags=["learning"])
def next_questions():
    return ok(quiz.next_questions(db.session(), user=_rm()), personal=True)


@bp.post("/quiz/answers")
@idempotent
@spec.validate(json=AnswerIn, resp=Response(HTTP_200=QuizGraded, **problems(403, 404)), tags=["learning"])
def answer():
    data: AnswerIn = body()
    return ok(quiz.answer(db.session(), user=_rm(), question_key=data.question_key, choice=data.choice))


@bp.get("/readiness")
@spec.validate(resp=Response(HTTP_200=Readiness, **problems(403)), tags=["learning"])
def readiness():
    return ok(quiz.readiness(db.session(), user=_rm()), personal=True)


@bp.get("/summary")
@spec.validate(resp=Response(HTTP_200=LearningSummary, **problems(403)), tags=["learning"])
def summary():
    return ok(service.summary(db.session(), user=_rm()), personal=True)


@bp.put("/consent")
@spec.validate(json=ConsentIn, resp=Response(HTTP_200=CaseConsentPublic, **problems(403)), tags=["learning"])
def consent():
    data: ConsentIn = body()
    return ok(service.set_consent(db.session(), user=_rm(), share_name=data.share_name), personal=True)
