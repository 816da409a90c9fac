from __future__ import annotations

from flask import Blueprint
from spectree import Response

from server import db
from server.api import ok, query, spec
from server.org.schemas import RmMonthQuery
from server.org.teams import rm_for_viewer
from server.performance import service
from server.performance.schemas import CustomerMix, PerformancePage
from server.schemas import problems
from server.security import current_user

bp = Blueprint("performance", __name__, url_prefix="/api/v1")


@bp.get("/performance")
@spec.validate(
    query=RmMonthQuery, resp=Response(HTTP_200=PerformancePage, **problems(403, 404)), tags=["performance"]
)
def performance():
    """This month's and this year's results, trend and team rank (a team lead may pass rm_id)."""
    q: RmMonthQuery = query()
    session = db.session()
    rm = rm_for_viewer(session, viewer=current_user(), rm_id=q.rm_id)
    return ok(service.performance(session, rm=rm, month=q.month), personal=True)


@bp.get("/customer-mix")
@spec.validate(
    query=RmMonthQuery, resp=Response(HTTP_200=CustomerMix, **problems(403, 404)), tags=["performance"]
)
def customer_mix():
    """Shares of the RM's customers by segment against the team, and the segments converted best."""
    q: RmMonthQuery = query()
    session = db.session()
    rm = rm_for_viewer(session, viewer=current_user(), rm_id=q.rm_id)
    return ok(service.customer_mix(session, rm=rm), personal=True)
