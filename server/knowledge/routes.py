from __future__ import annotations

from flask import Blueprint
from spectree import Response

from server import db
from server.api import ok, spec
from server.customers import service as customers
from server.errors import forbidden
from server.knowledge import model as knowledge_model
from server.knowledge import scores, service
from server.knowledge.schemas import CustomerKnowledge, KnowledgeModel, KnowledgeSummary
from server.org.models import Role
from server.schemas import problems
from server.security import current_user

bp = Blueprint("knowledge", __name__, url_prefix="/api/v1/knowledge")


@bp.get("/model")
@spec.validate(resp=Response(HTTP_200=KnowledgeModel), tags=["knowledge"])
def model():
    """The knowledge-degree model in force: dimensions, facts, weights, half-lives, questions."""
    return ok(knowledge_model.load_model(db.session()).describe())


@bp.get("/customers/<int:customer_id>")
@spec.validate(resp=Response(HTTP_200=CustomerKnowledge, **problems(403, 404)), tags=["knowledge"])
def customer_knowledge(customer_id: int):
    session = db.session()
    customer = customers.get_customer_for(session, user=current_user(), customer_id=customer_id)
    scores.ensure_scored(session, customer=customer)
    return ok(service.customer_knowledge(session, customer=customer), personal=True)


@bp.get("/summary")
@spec.validate(resp=Response(HTTP_200=KnowledgeSummary, **problems(403)), tags=["knowledge"])
def summary():
    """The RM's average knowledge degree and its distribution (a team lead: the team's, per RM too)."""
    user = current_user()
    if user.role not in (Role.rm, Role.team_lead):
        raise forbidden()
    session = db.session()
    owners = customers.visible_owner_ids(session, user=user)
    out = service.owners_summary(session, owner_ids=owners)
    if user.role == Role.team_lead:
        out["by_rm"] = service.average_by_owner(session, owner_ids=owners)
    return ok(out, personal=True)
