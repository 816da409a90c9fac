"""/api/v1/conduct: risk officers see every RM, team leads their team, RMs (and admins) nothing but
the rule settings an admin tunes. Every view of a score is audited by the service."""

from __future__ import annotations

from flask import Blueprint
from spectree import Response

from server import db
from server.api import body, expected_version, idempotent, ok, query, spec
from server.conduct import cases, departing, rule_settings, scores
from server.conduct.schemas import (
    CaseAction,
    CaseCreate,
    CaseListQuery,
    ConductCaseDetail,
    ConductCases,
    DepartingCheckPublic,
    RankedQuery,
    RankedRms,
    RmConduct,
    RuleOverviews,
    RuleSaved,
    RuleUpdate,
)
from server.org.models import Role
from server.schemas import problems
from server.security import client_ip, current_user, require_role

bp = Blueprint("conduct", __name__, url_prefix="/api/v1/conduct")
TAGS = ["conduct"]
VIEWERS = (Role.risk_officer, Role.team_lead)


@bp.get("/rms")
@require_role(*VIEWERS)
@spec.validate(query=RankedQuery, resp=Response(HTTP_200=RankedRms, **problems(403)), tags=TAGS)
def ranked():
    """RMs ranked by their latest risk score, with trend and top reasons."""
    q: RankedQuery = query()
    return ok(
        scores.ranked(db.session(), user=current_user(), limit=q.limit, offset=q.offset, ip=client_ip()),
        personal=True,
    )


@bp.get("/rms/<int:rm_id>")
@require_role(*VIEWERS)
@spec.validate(resp=Response(HTTP_200=RmConduct, **problems(403, 404)), tags=TAGS)
def rm_detail(rm_id: int):
    """One RM's signals with explanations, an evidence timeline, score history and cases."""
    return ok(scores.rm_detail(db.session(), user=current_user(), rm_id=rm_id, ip=client_ip()), personal=True)


@bp.post("/rms/<int:rm_id>/departing-check")
@require_role(*VIEWERS)
@idempotent
@spec.validate(resp=Response(HTTP_202=DepartingCheckPublic, **problems(403, 404)), tags=TAGS)
def departing_check(rm_id: int):
    """Starts the departing-RM check (a job); poll GET /checks/<id> for its result."""
    check = departing.request_departing_check(db.session(), user=current_user(), rm_id=rm_id, ip=client_ip())
    return ok(
        departing.get_check(db.session(), user=current_user(), check_id=check.id or 0), 202, personal=True
    )


@bp.get("/checks/<int:check_id>")
@require_role(*VIEWERS)
@spec.validate(resp=Response(HTTP_200=DepartingCheckPublic, **problems(403, 404)), tags=TAGS)
def get_check(check_id: int):
    return ok(departing.get_check(db.session(), user=current_user(), check_id=check_id), personal=True)


@bp.get("/cases")
@require_role(*VIEWERS)
@spec.validate(query=CaseListQuery, resp=Response(HTTP_200=ConductCases, **problems(403)), tags=TAGS)
def list_cases():
    q: CaseListQuery = query()
    return ok({"items": cases.list_cases(db.session(), user=current_user(), status=q.status)}, personal=True)


@bp.post("/cases")
@require_role(*VIEWERS)
@idempotent
@spec.validate(json=CaseCreate, resp=Response(HTTP_201=ConductCaseDetail, **problems(403, 404)), tags=TAGS)
def open_case():
    data: CaseCreate = body()
    case = cases.open_case(
        db.session(),
        user=current_user(),
        rm_id=data.rm_id,
        rules=data.rules,
        title=data.title,
        note=data.note,
        ip=client_ip(),
    )
    return ok(case, 201, personal=True)


@bp.get("/cases/<int:case_id>")
@require_role(*VIEWERS)
@spec.validate(resp=Response(HTTP_200=ConductCaseDetail, **problems(403, 404)), tags=TAGS)
def case_detail(case_id: int):
    return ok(cases.case_detail(db.session(), user=current_user(), case_id=case_id), personal=True)


@bp.post("/cases/<int:case_id>/actions")
@require_role(*VIEWERS)
@idempotent
@spec.validate(
    json=CaseAction, resp=Response(HTTP_200=ConductCaseDetail, **problems(403, 404, 409, 412)), tags=TAGS
)
def case_action(case_id: int):
    """note, assign (risk officer), escalate, close as confirmed/false_alarm (risk officer); each audited."""
    data: CaseAction = body()
    case = cases.act_on_case(
        db.session(),
        user=current_user(),
        case_id=case_id,
        action=data.action,
        note=data.note,
        assignee_id=data.assignee_id,
        disposition=data.disposition,
        version=expected_version(data.version),
        ip=client_ip(),
    )
    return ok(case, personal=True)


@bp.get("/rules")
@require_role(Role.risk_officer, Role.admin)
@spec.validate(resp=Response(HTTP_200=RuleOverviews, **problems(403)), tags=TAGS)
def rules():
    """Each rule's thresholds (defaults and overrides) and the precision of its closed cases."""
    return ok({"items": rule_settings.rules_overview(db.session())})


@bp.put("/rules/<rule>")
@require_role(Role.admin)
@spec.validate(json=RuleUpdate, resp=Response(HTTP_200=RuleSaved, **problems(403, 404, 412)), tags=TAGS)
def update_rule(rule: str):
    data: RuleUpdate = body()
    return ok(
        rule_settings.update_rule(
            db.session(),
            user=current_user(),
            rule=rule,
            params=data.params,
            enabled=data.enabled,
            version=data.version,
            ip=client_ip(),
        )
    )
