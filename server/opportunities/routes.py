from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, current_app
from spectree import Response

from server import db
from server.api import body, idempotent, ok, query, spec
from server.opportunities import (
    access,
    benefits,
    cards,
    claims,
    desk,
    imports,
    lifecycle,
    policy,
    ranking,
)
from server.opportunities.schemas import (
    ActivityCreate,
    AssigneeList,
    BenefitAdjust,
    BenefitAdjustmentPublic,
    BenefitStatement,
    CloseRequest,
    FeedPage,
    FeedQuery,
    ImportReport,
    ImportRequest,
    MineQuery,
    OpportunityCreate,
    OpportunityDetail,
    OpportunityList,
    PolicyPublic,
    PolicyUpdate,
    ReassignRequest,
    ShareRequest,
    StatementQuery,
    TransferRequest,
)
from server.schemas import problems
from server.security import client_ip, current_user

T = TypeVar("T")
bp = Blueprint("opportunities", __name__, url_prefix="/api/v1/opportunities")
TAGS = ["opportunities"]
# Every action on one opportunity answers with its detail; 404 also for one the user may not see.
DETAIL = Response(HTTP_200=OpportunityDetail, **problems(403, 404, 409))


def _detail(opp, status: int = 200):
    return ok(cards.detail(db.session(), user=current_user(), opp=opp), status, personal=True)


@bp.get("/feed")
@spec.validate(query=FeedQuery, resp=Response(HTTP_200=FeedPage, **problems(403)), tags=TAGS)
def feed():
    """The pool as the signed-in RM may claim it, ranked by fit, each with its reason."""
    return ok(ranking.ranked_feed(db.session(), user=current_user(), query=query()), personal=True)


@bp.get("/mine")
@spec.validate(query=MineQuery, resp=Response(HTTP_200=OpportunityList, **problems(403)), tags=TAGS)
def mine():
    """My claimed (role=owner) or my shared (role=originator) opportunities."""
    q: MineQuery = query()
    items = cards.mine(db.session(), user=current_user(), role=q.role, status=q.status, limit=q.limit)
    return ok({"items": items}, personal=True)


@bp.get("/benefits")
@spec.validate(query=StatementQuery, resp=Response(HTTP_200=BenefitStatement, **problems(404)), tags=TAGS)
def benefit_statement():
    """Credits earned from shared opportunities (a team lead may ask for a team member's)."""
    q: StatementQuery = query()
    return ok(
        benefits.statement(db.session(), user=current_user(), rm_id=q.rm_id, month=q.month), personal=True
    )


@bp.get("/policy")
@spec.validate(resp=Response(HTTP_200=PolicyPublic), tags=TAGS)
def get_policy():
    return ok(policy.policy_public(policy.get_policy(db.session())))


@bp.put("/policy")
@spec.validate(json=PolicyUpdate, resp=Response(HTTP_200=PolicyPublic, **problems(403)), tags=TAGS)
def put_policy():
    """Admin: claim rules, recycle periods by customer tier, benefit split by source."""
    updated = policy.update_policy(db.session(), user=current_user(), data=body(), ip=client_ip())
    return ok(policy.policy_public(updated))


@bp.post("")
@idempotent
@spec.validate(json=OpportunityCreate, resp=Response(HTTP_201=OpportunityDetail, **problems(403)), tags=TAGS)
def create():
    """Share into the pool in one call (or keep a draft with share=false)."""
    opp = lifecycle.create_opportunity(db.session(), user=current_user(), data=body(), ip=client_ip())
    return _detail(opp, 201)


@bp.post("/import")
@idempotent
@spec.validate(
    json=ImportRequest,
    resp=Response(HTTP_200=ImportReport, HTTP_201=ImportReport, **problems(403, 409)),
    tags=TAGS,
)
def import_file():
    """CSV or XLSX, base64 in JSON. All rows valid or nothing imported; the same file never twice."""
    data: ImportRequest = body()
    status, report = imports.import_file(
        db.session(),
        user=current_user(),
        filename=data.filename,
        content_base64=data.content_base64,
        dry_run=data.dry_run,
        ip=client_ip(),
        settings=current_app.config["SETTINGS"],
    )
    return ok(report, status)


@bp.get("/<int:opportunity_id>")
@spec.validate(resp=Response(HTTP_200=OpportunityDetail, **problems(404)), tags=TAGS)
def get_one(opportunity_id: int):
    opp = access.get_for(db.session(), user=current_user(), opportunity_id=opportunity_id)
    return _detail(opp)


def _act(action: Callable[..., T], opportunity_id: int) -> T:
    """The one shape of every action on one opportunity: the signed-in user, the validated body
    and the client's address go to the domain function, which checks the rules and audits."""
    return action(
        db.session(), user=current_user(), opportunity_id=opportunity_id, data=body(), ip=client_ip()
    )


@bp.post("/<int:opportunity_id>/share")
@idempotent
@spec.validate(json=ShareRequest, resp=DETAIL, tags=TAGS)
def share(opportunity_id: int):
    """Put a draft into the pool."""
    return _detail(_act(lifecycle.share, opportunity_id))


@bp.post("/<int:opportunity_id>/claim")
@idempotent
@spec.validate(resp=DETAIL, tags=TAGS)
def claim(opportunity_id: int):
    """One winner: everyone else gets 409 `already-claimed` with the winner's name."""
    opp = claims.claim(db.session(), user=current_user(), opportunity_id=opportunity_id, ip=client_ip())
    return _detail(opp)


@bp.post("/<int:opportunity_id>/activities")
@idempotent
@spec.validate(
    json=ActivityCreate, resp=Response(HTTP_201=OpportunityDetail, **problems(403, 404, 409)), tags=TAGS
)
def add_activity(opportunity_id: int):
    """Follow-up work (call, visit ...): resets the recycle clock."""
    _act(lifecycle.record_activity, opportunity_id)
    return _detail(access.get_for(db.session(), user=current_user(), opportunity_id=opportunity_id), 201)


@bp.post("/<int:opportunity_id>/close")
@idempotent
@spec.validate(json=CloseRequest, resp=DETAIL, tags=TAGS)
def close(opportunity_id: int):
    return _detail(_act(lifecycle.close, opportunity_id))


@bp.get("/<int:opportunity_id>/assignees")
@spec.validate(resp=Response(HTTP_200=AssigneeList, **problems(403, 404)), tags=TAGS)
def assignees(opportunity_id: int):
    """Team lead: the RMs this opportunity may go to, each with the claim rules' verdict."""
    return ok(desk.assignees(db.session(), user=current_user(), opportunity_id=opportunity_id))


@bp.post("/<int:opportunity_id>/reassign")
@idempotent
@spec.validate(json=ReassignRequest, resp=DETAIL, tags=TAGS)
def reassign(opportunity_id: int):
    """Team lead: hand to an RM of the team, within the claim rules (or past the cap, with a reason)."""
    return _detail(_act(desk.reassign, opportunity_id))


@bp.post("/<int:opportunity_id>/transfer")
@idempotent
@spec.validate(json=TransferRequest, resp=DETAIL, tags=TAGS)
def transfer(opportunity_id: int):
    """Team lead: move a pooled opportunity to the team, branch or whole-bank pool."""
    return _detail(_act(desk.transfer, opportunity_id))


@bp.post("/<int:opportunity_id>/benefit-adjustments")
@idempotent
@spec.validate(
    json=BenefitAdjust, resp=Response(HTTP_201=BenefitAdjustmentPublic, **problems(403, 404, 409)), tags=TAGS
)
def adjust_benefit(opportunity_id: int):
    """Team lead: a new originator/closer split of a won opportunity, booked as offsetting entries."""
    return ok(benefits.adjustment_public(_act(benefits.adjust_benefit, opportunity_id)), 201, personal=True)
