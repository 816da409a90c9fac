"""The assistant's API: today, the pre-visit brief, next best products (and dismissals), ask, and
the admins' adoption report. Thin: parse, authorize, call the service, serialize."""

from __future__ import annotations

import uuid

from flask import Blueprint, current_app, make_response
from spectree import Response

from server import db, events
from server.api import JsonOrFile, body, idempotent, ok, query, spec
from server.assistant import ask as ask_service
from server.assistant import brief as brief_service
from server.assistant import recommender, recommender_feedback, today
from server.assistant.schemas import (
    AdoptionReport,
    AskAnswer,
    AskQuery,
    BriefQuery,
    CustomerBrief,
    Dismissal,
    DismissalCreate,
    NextProducts,
    NextProductsQuery,
    RetrainQueued,
    TodayPage,
)
from server.audit import service as audit
from server.customers import service as customers
from server.errors import forbidden
from server.org.models import Role
from server.schemas import problems
from server.security import client_ip, current_user, require_role

bp = Blueprint("assistant", __name__, url_prefix="/api/v1")


@bp.get("/today")
@spec.validate(resp=Response(HTTP_200=TodayPage, **problems(403)), tags=["assistant"])
def today_page():
    """The RM's day (their local day): reminders, tasks, maturities, alerts, stale opportunities and
    the planned visits as a route."""
    user = current_user()
    if user.role != Role.rm:
        raise forbidden("Today is the relationship manager's page.")
    return ok(today.today(db.session(), user=user), personal=True)


@bp.get("/customers/<int:customer_id>/brief")
@spec.validate(
    query=BriefQuery, resp=JsonOrFile(CustomerBrief, "text/plain", **problems(403, 404)), tags=["assistant"]
)
def customer_brief(customer_id: int):
    """The pre-visit brief; `?format=text` gives the shareable text (no phone, no ID number)."""
    data = brief_service.brief(
        db.session(),
        user=current_user(),
        customer_id=customer_id,
        data_key=current_app.config["SETTINGS"].DATA_KEY,
    )
    if query().format == "text":
        response = make_response(brief_service.as_text(data))
        response.headers["Content-Type"] = "text/plain; charset=utf-8"
        response.headers["Cache-Control"] = "no-store"
        return response
    return ok(data, personal=True)


@bp.get("/customers/<int:customer_id>/next-products")
@spec.validate(
    query=NextProductsQuery,
    resp=Response(HTTP_200=NextProducts, **problems(403, 404, 503)),
    tags=["assistant"],
)
def next_products(customer_id: int):
    session = db.session()
    user = current_user()
    customer = customers.get_customer_for(session, user=user, customer_id=customer_id)
    ranked = recommender.next_products(session, user=user, customer=customer, limit=query().limit)
    return ok(NextProducts.model_validate(ranked), personal=True)


@bp.post("/customers/<int:customer_id>/next-products/dismissals")
@idempotent
@spec.validate(
    json=DismissalCreate, resp=Response(HTTP_201=Dismissal, **problems(403, 404)), tags=["assistant"]
)
def dismiss_product(customer_id: int):
    """Not this product for this customer, with a reason; respected for 90 days. Only the owning RM."""
    session = db.session()
    user = current_user()
    customer = customers.get_customer_for(session, user=user, customer_id=customer_id, write=True)
    data: DismissalCreate = body()
    out = recommender_feedback.dismiss(
        session, user=user, customer=customer, product_id=data.product_id, reason=data.reason, note=data.note
    )
    return ok(Dismissal.model_validate(out), 201)


@bp.get("/ask")
@spec.validate(query=AskQuery, resp=Response(HTTP_200=AskAnswer), tags=["assistant"])
def ask():
    """问展业: Chinese text in, intent + filters (chips) + the answer out."""
    q: AskQuery = query()
    without = [k.strip() for k in (q.without or "").split(",") if k.strip()]
    return ok(ask_service.ask(db.session(), user=current_user(), q=q.q, without=without), personal=True)


@bp.get("/admin/next-products/report")
@require_role(Role.admin)
@spec.validate(resp=Response(HTTP_200=AdoptionReport, **problems(403)), tags=["admin"])
def adoption_report():
    return ok(recommender_feedback.adoption_report(db.session()))


@bp.post("/admin/next-products/retrain")
@require_role(Role.admin)
@spec.validate(resp=Response(HTTP_202=RetrainQueued, **problems(403)), tags=["admin"])
def request_retrain():
    """Queues a retrain of the next-best-product model (an RQ job)."""
    session = db.session()
    user = current_user()
    request_id = uuid.uuid4().hex[:12]
    audit.record(
        session,
        actor_id=user.id,
        action="assistant.retrain",
        object_type="recommender_model",
        object_id=0,
        ip=client_ip(),
        detail={},
    )
    events.publish(session, "assistant.retrain_requested", {"request_id": request_id})
    session.commit()
    return ok(RetrainQueued(request_id=request_id), 202)
